"""Async engines, database URLs and the unit of work that commits state, outbox and inbox together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import asyncpg
from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from passerelle.contracts import CloudEvent, EventData, envelope, stream_of
from passerelle.errors import RuleBroken

from .tables import OUTBOX_CHANNEL, inbox, outbox

# The time of an erasure tombstone in a read model: later than any fact, so that no late or
# redelivered event about an erased member can bring its data back.
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)

# nats-server's default max_payload; the relay replaces it with what its server announces.
DEFAULT_MAX_EVENT_BYTES = 1024 * 1024


class EventTooLarge(RuleBroken):
    """An event larger than NATS accepts could never be published: its transaction fails instead."""


def published_size(headers: dict[str, str], payload: bytes) -> int:
    """Bytes nats-server counts against max_payload: the headers block and the payload."""
    header_block = b"NATS/1.0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + b"\r\n"
    return len(header_block) + len(payload)


def make_engine(url: str, pool_size: int = 20) -> AsyncEngine:
    """A pool as large as a service's concurrent work (so connections are reused, not reopened).

    No pre-ping: it costs two round trips per checkout (a third of a consumer's). A connection that
    died with its server fails its unit of work instead (a consumer retries it, an HTTP request
    gets an error), and SQLAlchemy then discards the pool's other stale connections.
    """
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def ensure_database(url: str) -> None:
    """Create the URL's database if it does not exist (needs CREATEDB on the server)."""
    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database="postgres",
    )
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", parsed.database)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await connection.close()


class Database:
    """One service's database: an engine and the sessions opened on it."""

    def __init__(self, url: str, pool_size: int = 20) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # The largest event a commit accepts (headers and payload), as the NATS server announces it.
        self.max_event_bytes = DEFAULT_MAX_EVENT_BYTES

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, lambda: self.max_event_bytes)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(select(1))

    async def dispose(self) -> None:
        await self.engine.dispose()


class UnitOfWork:
    """One transaction for one command or message: state, outbox rows and the inbox record commit together.

    Leaving the block without `commit()` rolls everything back.
    """

    session: AsyncSession

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], max_event_bytes: Callable[[], int] | None = None
    ) -> None:
        self._sessions = sessions
        self._max_event_bytes = max_event_bytes or (lambda: DEFAULT_MAX_EVENT_BYTES)
        self.recorded: list[CloudEvent[EventData]] = []
        self._after_commit: list[Callable[[], None]] = []

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        await self.session.begin()
        self.recorded = []
        self._after_commit = []
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Closing ends the transaction, rolling back whatever was not committed; unlike rollback() it
        # leaves what was read usable (detached, not expired), so read-only use cases can return rows.
        await self.session.close()

    async def claim(self, consumer: str, event_id: str) -> bool:
        """Record that `consumer` handles `event_id`; False when it already did (a redelivery).

        A concurrent delivery of the same event waits on the row lock and then sees the conflict.
        """
        statement = (
            pg_insert(inbox)
            .values(consumer=consumer, event_id=event_id)
            .on_conflict_do_nothing()
            .returning(inbox.c.event_id)
        )
        result = await self.session.execute(statement)
        return result.first() is not None

    def record(self, data: EventData) -> CloudEvent[EventData]:
        """Add an event to the outbox; it is written with this unit of work's commit."""
        event = envelope(data)
        self.recorded.append(event)
        return event

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this unit of work has committed (e.g. to wake a worker); not on rollback."""
        if callback not in self._after_commit:
            self._after_commit.append(callback)

    async def commit(self) -> None:
        if self.recorded:
            await self.session.execute(insert(outbox), [self._outbox_row(event) for event in self.recorded])
            await self.session.execute(select(func.pg_notify(OUTBOX_CHANNEL, "")))
        await self.session.commit()
        self.recorded = []  # committed: a later commit in the same unit of work writes only new events
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def _outbox_row(self, event: CloudEvent[EventData]) -> dict[str, object]:
        """Refused here, an event too large to publish fails its own command, not the relay's queue."""
        headers, payload = event.nats_headers(), event.to_json()
        size, limit = published_size(headers, payload), self._max_event_bytes()
        if size > limit:
            raise EventTooLarge(
                f"the {event.data.event_name} event would be {size} bytes, more than the {limit} NATS accepts"
            )
        return {
            "event_id": event.id,
            "subject": event.data.subject,
            "stream": stream_of(type(event.data)).name,
            "headers": headers,
            "payload": payload,
        }
