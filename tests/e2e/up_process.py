"""`passerelle up` with its embedded servers, run as an operator runs it: a process on a data dir."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import jwt
from passerelle.embedded.ports import free_port


def environment_without_settings() -> dict[str, str]:
    """The caller's environment less any Passerelle setting: `up` must find everything in its data dir."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("PASSERELLE_")}
    return {**kept, "PASSERELLE_LOG_LEVEL": "WARNING"}


class Up:
    def __init__(self, data_dir: Path, settings: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.settings = settings or {}  # PASSERELLE_* variables given on purpose
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None
        self.ready = ""
        self.printed: list[str] = []

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> str:
        """Start `up` and wait for its ready line (which it returns)."""
        log = (self.data_dir.parent / f"{self.data_dir.name}-up.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "passerelle.cli",
            "up",
            "--data-dir",
            str(self.data_dir),
            "--port",
            str(self.port),
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env={**environment_without_settings(), **self.settings},
        )
        log.close()
        assert self.process.stdout is not None
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), 180)
            assert line, f"passerelle up exited before it was ready: {self.printed}"
            self.printed.append(line.decode().rstrip("\n"))
            if self.printed[-1].startswith("ready "):
                self.ready = self.printed[-1]
                return self.ready

    async def kill(self) -> None:
        """`kill -9`: no handler runs, nothing is stopped by `up` itself."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 90)

    def ready_fields(self) -> dict[str, str]:
        return dict(part.split("=", 1) for part in self.ready.split()[1:])

    def credentials(self) -> dict[str, Any]:
        kept: dict[str, Any] = json.loads((self.data_dir / "credentials.json").read_text())
        return kept

    def token(self, sub: str, *roles: str) -> dict[str, str]:
        """A bearer token signed with the development secret `up` keeps in its data dir."""
        secret = (self.data_dir / "jwt-secret").read_text().strip()
        claims = {"sub": sub, "roles": list(roles) or ["member"], "exp": 4102444800}
        return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


def processes_naming(data_dir: Path) -> list[str]:
    """Every live process whose command line names something under `data_dir`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        line = " ".join(part.decode(errors="replace") for part in arguments if part)
        if state != "Z" and str(data_dir) in line:
            found.append(f"{entry.name}: {line}")
    return found


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, exited but not yet reaped, does not)."""
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except (OSError, IndexError):
        return False
