"""Child servers that die with their parent, and the stale servers a crashed parent left behind.

`up` starts a nats-server and a PostgreSQL. If `up` is killed (even `kill -9`), the kernel tells each
child (Linux parent-death signal) so that it shuts down cleanly by itself; should one still be running
when the next `up` starts on the same data dir (still shutting down, or started by an `up` without
this protection), it is found (its pid file, or its command line) and stopped first, and only when its
command line proves it is that server of that data dir: a recycled pid of another process is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    prctl: Callable[[int, int], int] = libc.prctl
    return prctl


# Loaded once here: the function given to Popen runs between fork and exec, where nothing may be imported.
_prctl = _load_prctl()


def dies_with_parent(sig: signal.Signals) -> Callable[[], None] | None:
    """A `preexec_fn` that has the kernel send `sig` to the child when the thread that started it dies.

    It runs after Popen's own change of user, which would otherwise clear the setting. Call Popen from
    the thread that lives as long as the server (the event loop's), not from a worker thread.
    """
    prctl = _prctl
    if prctl is None:
        return None
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, int(sig))
        if os.getppid() != parent:  # the parent died before the setting took: nobody would signal us
            os._exit(1)

    return arm


def _command_line(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None
    if state in ("Z", "X"):  # exited, waiting to be reaped: nothing left to stop
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def is_server_of(pid: int, program: str, data_dir: Path) -> bool:
    """Whether `pid` runs `program` with `data_dir` among its arguments."""
    arguments = _command_line(pid)
    if not arguments:
        return False
    return Path(arguments[0]).name == program and str(data_dir) in arguments[1:]


def pid_in(pid_file: Path) -> int | None:
    """The pid on the first line of a pid file (nats-server's, or PostgreSQL's postmaster.pid)."""
    try:
        first = pid_file.read_text().splitlines()[0].strip()
    except (OSError, IndexError):
        return None
    return int(first) if first.isdigit() else None


def servers_of(program: str, data_dir: Path, pid_file: Path) -> list[int]:
    """The running `program`s of `data_dir`: the one its pid file names, and any other whose command line
    names the data dir (a server started without a pid file, by an `up` from before they were written)."""
    candidates = {pid_in(pid_file)} | {
        int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()
    }
    mine = {os.getpid()}
    return sorted(
        pid for pid in candidates if pid and pid not in mine and is_server_of(pid, program, data_dir)
    )


async def stop_stale_servers(
    program: str,
    data_dir: Path,
    pid_file: Path,
    *,
    stop_signal: signal.Signals,
    timeout: float = 30.0,
) -> list[int]:
    """Stop the `program`s of `data_dir` still running (cleanly, else killed after `timeout`)."""
    stale = servers_of(program, data_dir, pid_file)
    for pid in stale:
        log.warning("server.stale.stopping", program=program, pid=pid, data_dir=str(data_dir))
        with contextlib.suppress(ProcessLookupError):  # it exited meanwhile: as wanted
            os.kill(pid, stop_signal)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while running := [pid for pid in stale if is_server_of(pid, program, data_dir)]:
        if loop.time() > deadline:
            for pid in running:
                log.error("server.stale.killing", program=program, pid=pid, data_dir=str(data_dir))
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            deadline = loop.time() + timeout
        await asyncio.sleep(0.1)
    return stale
