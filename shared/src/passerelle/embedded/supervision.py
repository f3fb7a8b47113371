"""Child servers that die with their parent, and the stale servers a crashed parent left behind.

`up` starts a nats-server and a PostgreSQL. If `up` is killed (even `kill -9`), the kernel tells each
child (Linux parent-death signal) so that it shuts down cleanly by itself; should one still be running
when the next `up` starts on the same data dir (still shutting down, or started by an `up` without
this protection), it is found by its command line and stopped first: only a process whose command line
proves it is that server of that data dir is touched, never a recycled pid of another process.
"""

from __future__ import annotations

import asyncio
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


class EmbeddedServerError(RuntimeError):
    """An embedded server could not start (or a stale one could not be stopped); the message says why."""


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


def servers_of(program: str, data_dir: Path) -> list[int]:
    """The running `program`s whose command line names `data_dir`."""
    candidates = (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return sorted(pid for pid in candidates if pid != os.getpid() and is_server_of(pid, program, data_dir))


def _signal(pid: int, sig: signal.Signals, program: str, data_dir: Path) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:  # it exited meanwhile: as wanted
        pass
    except PermissionError as error:
        raise EmbeddedServerError(
            f"{program} (pid {pid}) still runs on {data_dir} as another user (an earlier `up` run as"
            " root?): stop it, or start as that user"
        ) from error


async def stop_stale_servers(
    program: str, data_dir: Path, *, stop_signal: signal.Signals, timeout: float = 30.0
) -> list[int]:
    """Stop the `program`s of `data_dir` still running: cleanly, else killed after `timeout`; one
    still there `timeout` after SIGKILL is raised, not waited for for ever."""
    stale = servers_of(program, data_dir)
    for pid in stale:
        log.warning("server.stale.stopping", program=program, pid=pid, data_dir=str(data_dir))
        _signal(pid, stop_signal, program, data_dir)
    loop = asyncio.get_running_loop()
    deadline, killed = loop.time() + timeout, False
    while running := [pid for pid in stale if is_server_of(pid, program, data_dir)]:
        if loop.time() > deadline:
            if killed:
                raise EmbeddedServerError(f"{program} (pid {running}) on {data_dir} survives SIGKILL")
            for pid in running:
                log.error("server.stale.killing", program=program, pid=pid, data_dir=str(data_dir))
                _signal(pid, signal.SIGKILL, program, data_dir)
            deadline, killed = loop.time() + timeout, True
        await asyncio.sleep(0.1)
    return stale
