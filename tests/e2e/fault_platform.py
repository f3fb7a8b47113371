"""`passerelle up` as a child process that the fault run kills with SIGKILL and starts again on the
same data dir, and where the checker then finds its NATS server and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

READY_TIMEOUT = 120.0  # seconds: a first `up` migrates four databases on a loaded machine


@dataclass(frozen=True)
class Servers:
    """How the checker reaches the platform's servers: a NATS URL and a PostgreSQL server URL whose
    databases are passerelle_<service>."""

    nats_url: str
    postgres_url: str

    def database(self, service: str) -> dict[str, object]:
        """asyncpg.connect() arguments for a service's database."""
        url = make_url(self.postgres_url)
        return {
            "host": url.host,
            "port": url.port,
            "user": url.username,
            "password": url.password,
            "database": f"passerelle_{service}",
        }


def _without_passerelle_settings(environment: os._Environ[str]) -> dict[str, str]:
    """The caller's environment less its PASSERELLE_* settings: only the run's own reach `up`."""
    return {name: value for name, value in environment.items() if not name.startswith("PASSERELLE_")}


class UpProcess:
    """One `passerelle up --data-dir DIR` after another, on external servers or on its own."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str], external: Servers | None) -> None:
        self.data_dir = data_dir
        self.port = port
        self.env = env
        self.external = external
        self.api = ""
        self.running = asyncio.Event()  # set while an `up` answers; requests wait on it
        self.starts = 0
        self._ready_fields: dict[str, str] = {}
        self._postgres_port: int | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[None] | None = None

    def log_path(self, start: int) -> Path:
        return self.data_dir.parent / f"up-{start}.log"

    async def start(self) -> None:
        self.starts += 1
        servers = []
        if self.external is not None:
            servers = ["--nats-url", self.external.nats_url, "--database-url", self.external.postgres_url]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "passerelle.cli",
            "up",
            "--data-dir",
            str(self.data_dir),
            *servers,
            "--port",
            str(self.port),
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log_path(self.starts).open("wb"),
            env={**_without_passerelle_settings(os.environ), **self.env},
        )
        self._process = process
        assert process.stdout is not None
        line = ""
        while not line.startswith("ready "):
            raw = await asyncio.wait_for(process.stdout.readline(), READY_TIMEOUT)
            assert raw, f"passerelle up exited before it was ready: see {self.log_path(self.starts)}"
            line = raw.decode().strip()
            if line.startswith("port 5432 is taken: postgres listens on "):
                self._postgres_port = int(line.rsplit(" ", 1)[1])
        self._ready_fields = dict(part.split("=", 1) for part in line.split()[1:])
        self.api = self._ready_fields["api"]
        self._drain = asyncio.create_task(self._read_rest(process))
        self.running.set()

    async def _read_rest(self, process: asyncio.subprocess.Process) -> None:
        """Keep reading stdout so that a chatty `up` never blocks on a full pipe."""
        assert process.stdout is not None
        while await process.stdout.readline():
            pass

    async def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or drained."""
        self.running.clear()
        process = self._process
        assert process is not None
        process.send_signal(signal.SIGKILL)
        await process.wait()
        await self._stop_draining()

    async def stop(self) -> int:
        """SIGTERM and wait: the return code of a clean stop is 0."""
        self.running.clear()
        process = self._process
        if process is None or process.returncode is not None:
            return process.returncode if process else 0
        process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(process.wait(), 60)
        except TimeoutError:
            process.kill()
            code = await process.wait()
        await self._stop_draining()
        return code

    async def _stop_draining(self) -> None:
        if self._drain is not None:
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain
            self._drain = None

    def servers(self) -> Servers:
        """The servers `up` uses: the external ones, or its own, with the admin credentials it wrote
        to its data dir (anonymous URLs only when it wrote none, as `up` did before credentials)."""
        if self.external is not None:
            return self.external
        nats_file, postgres_file = self.data_dir / "nats-admin.url", self.data_dir / "postgres-admin.url"
        nats_url = nats_file.read_text().strip() if nats_file.exists() else self._ready_fields["nats"]
        if postgres_file.exists():
            postgres_url = postgres_file.read_text().strip()
        else:
            postgres_url = f"postgresql://postgres@127.0.0.1:{self._postgres_port or 5432}/postgres"
        return Servers(nats_url, postgres_url)
