"""The unit of work of one command or message: the service's state, the events it records (the
outbox) and, for a consumed event, the inbox record commit in one PostgreSQL transaction.

Use cases see it through `passerelle.unit_of_work.UnitOfWork` (a protocol, so that they import no
messaging and can be tested with an in-memory one); each service's wiring makes them with
`units(database, ItsRepository)`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

from passerelle.contracts import CloudEvent, EventData, envelope, stream_of
from passerelle.errors import RuleBroken
from passerelle.persistence.database import Database

from .idempotency import KeyedRequest, joined
from .tables import OUTBOX_CHANNEL
from .tracing import traced

# A commit's events and the relay's NOTIFY in one round trip. Rows are numbered in the order recorded
# (`WITH ORDINALITY`), which is the order the relay publishes them in. The NOTIFY names the process
# that committed (`origin`), whose own relay is handed the rows in memory.
_WRITE_OUTBOX = text(
    """WITH written AS (
    INSERT INTO passerelle_outbox (event_id, subject, stream, headers, payload)
    SELECT event_id, subject, stream, CAST(headers AS jsonb), payload
    FROM unnest(
        CAST(:event_ids AS varchar[]), CAST(:subjects AS varchar[]), CAST(:streams AS varchar[]),
        CAST(:headers AS text[]), CAST(:payloads AS bytea[])
    ) WITH ORDINALITY AS recorded (event_id, subject, stream, headers, payload, position)
    ORDER BY position
    RETURNING id
), told AS (SELECT pg_notify(:channel, :origin))
SELECT written.id FROM written, told ORDER BY written.id"""
)


_CLAIM_ALL = text(
    """INSERT INTO passerelle_inbox (consumer, event_id)
SELECT :consumer, unnest(CAST(:event_ids AS varchar[]))
ON CONFLICT DO NOTHING RETURNING event_id"""
)


@dataclass(frozen=True)
class OutboxRow:
    """An event as the outbox holds it, and as the relay publishes it."""

    id: int
    event_id: str
    subject: str
    stream: str
    headers: dict[str, str]
    payload: bytes


class Relaying(Protocol):
    """What a unit of work tells the outbox relay of its own process."""

    origin: str  # what its NOTIFY says, so that this relay can tell its own process's

    def hand(self, rows: list[OutboxRow]) -> None:
        """Rows just committed: the leading relay publishes them without looking at the table."""


# nats-server's default max_payload; the relay replaces it (`EventLimit`) with what its
# server announces.
DEFAULT_MAX_EVENT_BYTES = 1024 * 1024


class EventTooLarge(RuleBroken):
    """An event larger than NATS accepts could never be published: its transaction fails instead."""


def published_size(headers: dict[str, str], payload: bytes, *, stream: str, correlation_id: str = "") -> int:
    """Bytes nats-server counts against max_payload: the headers block as sent and the payload.

    Publishing adds headers of its own: nats-py `Nats-Expected-Stream` (for `stream=`) and the relay a
    `correlation_id` (the event's id, as FastStream's publishers set it). nats-py checks only the
    payload, and the server closes the whole connection on a message over the limit.
    """
    sent = {**headers, "Nats-Expected-Stream": stream}
    if correlation_id:
        sent["correlation_id"] = correlation_id
    header_block = b"NATS/1.0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in sent.items()) + b"\r\n"
    return len(header_block) + len(payload)


R = TypeVar("R")


class EventLimit:
    """The largest event (headers and payload) a commit accepts: what the NATS server announces, which
    the relay learns when it connects; one per service, shared by its units of work."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self.max_bytes = max_bytes


class SqlUnitOfWork(Generic[R]):
    """One transaction for one command or message: state, outbox rows and the inbox record commit together.

    Leaving the block without `commit()` rolls everything back. Within a request sent with an
    `Idempotency-Key`, it is a savepoint of the request's transaction, which commits with the answer.
    """

    session: AsyncSession
    repository: R

    def __init__(
        self,
        database: Database,
        repository: Callable[[AsyncSession], R],
        limit: EventLimit | None = None,
        relay: Relaying | None = None,
    ) -> None:
        self._database = database
        self._repository = repository
        self._limit = limit or EventLimit()
        # Handed the rows after a commit that wrote events: the relay of this process publishes them
        # at once (its NOTIFY listener and its poll remain for the other processes and after a restart).
        self._relay = relay
        self._written: list[OutboxRow] = []
        self.recorded: list[CloudEvent[EventData]] = []
        self._after_commit: list[Callable[[], None]] = []
        self._after_rollback: list[Callable[[], None]] = []
        # Held by a consumer handling a batch: a handler's commit writes its events and ends its part,
        # the transaction commits once for the whole batch (`held = False`, then `commit()`).
        self.held = False
        self._request: KeyedRequest | None = None
        self._savepoint: AsyncSessionTransaction | None = None

    async def __aenter__(self) -> Self:
        self._request = await joined(self._database)
        if self._request is not None:
            assert self._request.session is not None
            self.session = self._request.session
            self._savepoint = await self.session.begin_nested()
        else:
            self._savepoint = None
            self.session = self._database.sessions()
            await self.session.begin()
        self.repository = self._repository(self.session)
        self.recorded, self._written = [], []
        self._after_commit, self._after_rollback = [], []
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._savepoint is not None:
                if self._savepoint.is_active:
                    await self._savepoint.rollback()
                return
            # Closing ends the transaction, rolling back whatever was not committed; unlike rollback()
            # it leaves what was read usable (detached, not expired), so read-only use cases can return rows.
            await self.session.close()
        finally:
            callbacks, self._after_rollback = self._after_rollback, []  # left: not committed
            for callback in callbacks:
                callback()

    async def claim(self, consumer: str, event_id: str) -> bool:
        """Record that `consumer` handles `event_id`; False when it already did (a redelivery).

        A concurrent delivery of the same event waits on the row lock and then sees the conflict.
        """
        return event_id in await self.claim_all(consumer, [event_id])

    async def claim_all(self, consumer: str, event_ids: list[str]) -> set[str]:
        """`claim` for several events in one statement: the ids not handled before. One cached
        statement whatever the number (a multi-row VALUES would be compiled anew for each size)."""
        claimed = await self.session.execute(_CLAIM_ALL, {"consumer": consumer, "event_ids": event_ids})
        return set(claimed.scalars())

    async def end_part(self) -> None:
        """One handler of a batch is done: the next starts from what the database holds, as it would
        in a session of its own (objects this session loaded are stale after a statement that bypasses
        it, such as an `INSERT ... ON CONFLICT DO UPDATE`, and `session.get` would return them)."""
        await self.session.flush()
        self.session.expunge_all()

    def record(self, data: EventData) -> CloudEvent[EventData]:
        """Add an event to the outbox; it is written with this unit of work's commit."""
        event = traced(envelope(data))
        self.recorded.append(event)
        return event

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this unit of work has committed (e.g. to wake a worker); not on rollback."""
        if callback not in self._after_commit:
            self._after_commit.append(callback)

    def on_rollback(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this unit of work has ended without committing what it did since its
        last commit (e.g. to undo what it changed in memory); not after a commit."""
        if callback not in self._after_rollback:
            self._after_rollback.append(callback)

    async def commit(self) -> None:
        if self.recorded:
            rows = [self._outbox_row(event) for event in self.recorded]
            ids = (await self.session.execute(_WRITE_OUTBOX, self._columns(rows))).scalars()
            self._written += [OutboxRow(id=id_, **row) for id_, row in zip(ids, rows, strict=True)]
            self.recorded = []  # written: a later commit in the same unit of work writes only new events
        if self.held:
            return
        if self._request is not None and self._savepoint is not None:
            # Durable only with the request's answer: the callbacks wait for that commit.
            await self._savepoint.commit()
            self._savepoint = await self.session.begin_nested()
        else:
            await self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        undo, self._after_rollback = self._after_rollback, []
        if self._written and self._relay is not None:  # first: whatever a later callback does
            callbacks.insert(0, functools.partial(self._relay.hand, self._written))
        self._written = []
        if self._request is not None:
            self._request.after_commit.extend(callbacks)
            self._request.after_rollback.extend(undo)  # the request may still end without its commit
            return
        for callback in callbacks:
            callback()

    def _columns(self, rows: list[dict[str, Any]]) -> dict[str, object]:
        """The parameters of `_WRITE_OUTBOX`: a column of values each."""
        columns = {f"{name}s": [row[name] for row in rows] for name in ("event_id", "subject", "stream")}
        return {
            **columns,
            "headers": [json.dumps(row["headers"]) for row in rows],
            "payloads": [row["payload"] for row in rows],
            "channel": OUTBOX_CHANNEL,
            "origin": self._relay.origin if self._relay is not None else "",
        }

    def _outbox_row(self, event: CloudEvent[EventData]) -> dict[str, Any]:
        """Refused here, an event too large to publish fails its own command, not the relay's queue."""
        headers, payload, stream = event.nats_headers(), event.to_json(), stream_of(type(event.data)).name
        size = published_size(headers, payload, stream=stream, correlation_id=event.id)
        limit = self._limit.max_bytes
        if size > limit:
            raise EventTooLarge(
                f"the {event.data.event_name} event would be {size} bytes, more than the {limit} NATS accepts"
            )
        return {
            "event_id": event.id,
            "subject": event.data.subject,
            "stream": stream,
            "headers": headers,
            "payload": payload,
        }


def no_repository(session: AsyncSession) -> AsyncSession:
    """For units of work whose user works on the session itself (the messaging kit's own tests)."""
    return session


# A unit of work whose repository is its session (the messaging kit's own tests and benchmarks).
SessionUnitOfWork = SqlUnitOfWork[AsyncSession]


def units(
    database: Database,
    repository: Callable[[AsyncSession], R],
    limit: EventLimit | None = None,
    relay: Relaying | None = None,
) -> Callable[[], SqlUnitOfWork[R]]:
    """A maker of units of work on `database` whose `repository` is made on each one's session."""
    return lambda: SqlUnitOfWork(database, repository, limit, relay)
