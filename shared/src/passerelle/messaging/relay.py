"""The outbox relay: publishes committed events to JetStream, in order, with `Nats-Msg-Id`.

We wrote our own rather than use faststream-outbox: that package turns a table into a broker of its
own, with leased workers that publish concurrently and out of order, and we would still have written
the JetStream publish (stream, PubAck, de-duplication header) on top. This relay is one loop: it wakes
on the NOTIFY sent by the committing transaction (or every `poll_interval` as a safety net), takes
the rows in commit order, publishes them and deletes them once JetStream has acknowledged them.

Only one relay per database publishes at a time (a PostgreSQL advisory lock), so replicas of a
service do not reorder each other's events. A publish that fails for a passing reason (NATS down, a
timeout) is retried with back-off, forever: the JetStream duplicate window (hours) covers a retried
publish that had in fact landed, and beyond it the consumers' inbox still gives one effect.

A row that can never be published (larger than the server's max_payload, a subject outside the
service's own stream, or refused by JetStream as too large) must not hold back the rest: it moves to
the DLQ stream with the reason, where `passerelle dlq` shows and replays it. The DLQ rather than a
table of failed rows: operators already watch it and have its tools, and it needs no migration in
every service. A row the DLQ cannot take either (too large even compressed) stays in the outbox,
held back and reported, until a restart tries it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid
from typing import Any

import asyncpg
import structlog
from faststream.nats import NatsBroker
from nats.errors import BadSubjectError, MaxPayloadError
from nats.js.errors import APIError
from prometheus_client import Counter, Gauge
from sqlalchemy.engine import make_url

from passerelle.contracts import STREAMS
from passerelle.persistence.database import Database

from .dead_letters import DeadLetters
from .tables import OUTBOX_CHANNEL
from .tracing import publish_traced
from .unit_of_work import EventLimit, EventTooLarge, OutboxRow, published_size

log = structlog.get_logger(__name__)

PUBLISHED = Counter("passerelle_outbox_published_total", "Events relayed to JetStream", ["service"])
UNPUBLISHABLE = Counter(
    "passerelle_outbox_dead_lettered_total",
    "Outbox rows that can never be published, moved to the DLQ",
    ["service"],
)
HELD_BACK = Gauge(
    "passerelle_outbox_held_back", "Outbox rows that can be neither published nor dead-lettered", ["service"]
)

_LOCK_NAMESPACE = 0x5041_5353  # "PASS": the advisory lock that elects the active relay

# The oldest rows first, but those held back; each pass is this one statement and, once JetStream
# acknowledged what it published, one DELETE, both outside any explicit transaction.
_PENDING = """SELECT id, event_id, subject, stream, headers, payload FROM passerelle_outbox
WHERE id <> ALL($2::bigint[]) ORDER BY id LIMIT $1"""
_PUBLISHED = "DELETE FROM passerelle_outbox WHERE id = ANY($1::bigint[])"
# Whether a row before the first one handed waits (another process's, whose NOTIFY may still be on
# its way, or one a commit could not hand): it goes out first.
_EARLIER = "SELECT EXISTS(SELECT 1 FROM passerelle_outbox WHERE id < $1 AND id <> ALL($2::bigint[]))"


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        broker: NatsBroker,
        service: str,
        *,
        batch: int = 200,
        poll_interval: float = 5.0,
        max_backoff: float = 30.0,
        limit: EventLimit | None = None,
    ) -> None:
        self.database = database
        self.limit = limit or EventLimit()
        self.broker = broker
        self.service = service
        self.batch = batch
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self._streams = {stream.name: stream for stream in STREAMS if stream.owner == service}
        self._held_back: set[int] = set()
        # What this process's units of work say in their NOTIFY: they hand this relay their rows.
        self.origin = uuid.uuid4().hex
        self._connection: asyncpg.Connection | None = None  # the leader's, which holds the lock
        self._handed: list[OutboxRow] = []
        # Whether the table must be read: on leading, after another process's NOTIFY or the poll
        # interval, after a failure. Otherwise what this process committed was handed in memory.
        self._look = True
        # The id after every row this relay has read or been handed: handed rows that start there,
        # one after the other, have nothing unseen before them (ids are handed out in order; a gap
        # is a rolled-back transaction, or another process's rows).
        self._next_id: int | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._adopt_server_limit()
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.service}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._lead_and_relay()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the relay must outlive any outage
                log.warning("outbox.relay.retry", service=self.service, error=repr(error), delay=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
            else:
                backoff = 0.1

    async def _lead_and_relay(self) -> None:
        connection = await self._listen_connection()
        try:
            while not await connection.fetchval(
                "SELECT pg_try_advisory_lock($1, hashtext($2))", _LOCK_NAMESPACE, self.service
            ):
                await asyncio.sleep(self.poll_interval)
            await connection.add_listener(OUTBOX_CHANNEL, self._on_notify)
            log.info("outbox.relay.leading", service=self.service)
            self._connection, self._look, self._handed = connection, True, []
            loop = asyncio.get_running_loop()
            next_look = loop.time()
            while True:
                self._wake.clear()
                if loop.time() >= next_look:  # the poll, however busy: what no NOTIFY or hand told
                    self._look = True
                if self._look:
                    self._look, next_look = False, loop.time() + self.poll_interval
                    await self._relay_pending(connection)
                if self._handed:
                    await self._publish_handed(connection)
                if not self._wake.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), max(0.0, next_look - loop.time()))
        finally:
            self._connection, self._look, self._next_id = None, True, None
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    async def _listen_connection(self) -> asyncpg.Connection:
        url = make_url(self.database.url)
        return await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, password=url.password, database=url.database
        )

    def hand(self, rows: list[OutboxRow]) -> None:
        """Rows this process just committed: published now, without a look at the table. Only the
        leader takes them; another replica's relay learns of them by the NOTIFY."""
        if self._connection is not None:
            self._handed += rows
            self._wake.set()

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, origin: str) -> None:
        if origin != self.origin:  # another process committed: it could not hand its rows here
            self._look = True
            self._wake.set()

    def _adopt_server_limit(self) -> int:
        """The server's max_payload (announced on connect) also bounds what a commit may record."""
        limit: int = self.broker.connection.max_payload
        self.limit.max_bytes = limit
        return limit

    async def relay_pending(self) -> int:
        """Publish everything waiting in the outbox, on a connection of its own (a pass outside the
        leader's loop: tests, tools); returns how many events were published."""
        connection = await self._listen_connection()
        try:
            return await self._relay_pending(connection)
        finally:
            await connection.close(timeout=2)

    async def _relay_pending(self, connection: asyncpg.Connection) -> int:
        published = 0
        while True:
            records = await connection.fetch(_PENDING, self.batch, list(self._held_back))
            rows = [_row(record) for record in records]
            # Handed rows this look already sees are published once.
            seen = {row.id for row in rows}
            self._handed = [row for row in self._handed if row.id not in seen]
            if rows:
                self._next_id = max(self._next_id or 0, rows[-1].id + 1)
                published += await self._publish(connection, rows)
            if len(rows) < self.batch:  # all there was: the next commit wakes the relay again
                return published

    async def _publish_handed(self, connection: asyncpg.Connection) -> None:
        """What this process committed, in id order, after any earlier row still waiting."""
        if connection.is_closed():  # the lock went with it: another relay may be leading already
            raise ConnectionError("the leading relay's connection is closed")
        handed, self._handed = sorted(self._handed, key=lambda row: row.id), []
        follows = handed[0].id == self._next_id and all(
            later.id == earlier.id + 1 for earlier, later in itertools.pairwise(handed)
        )
        if not follows and await connection.fetchval(_EARLIER, handed[0].id, list(self._held_back)):
            self._handed = handed + self._handed
            await self._relay_pending(connection)  # publishes those handed that it sees as well
            handed, self._handed = sorted(self._handed, key=lambda row: row.id), []
        if handed:
            self._next_id = max(self._next_id or 0, handed[-1].id + 1)
            await self._publish(connection, handed)

    async def _publish(self, connection: asyncpg.Connection, rows: list[OutboxRow]) -> int:
        """Publish rows in order, delete those JetStream acknowledged, dead-letter those it never
        will; raises the first passing failure once the rest is done. Returns how many went out."""
        limit = self._adopt_server_limit()
        js = self.broker.connection.jetstream()
        refused = {row.id: reason for row in rows if (reason := self._unpublishable(row, limit))}
        sendable = [row for row in rows if row.id not in refused]
        # Publishes go out on one connection in row order, so the stream keeps commit order;
        # their acknowledgements are awaited together.
        results = await asyncio.gather(
            *(
                publish_traced(
                    _publisher(js),
                    row.payload,
                    row.subject,
                    # The event's id again, as FastStream's publishers set it (AsyncAPI documents it).
                    headers={**row.headers, "correlation_id": row.event_id},
                    stream=row.stream,
                )
                for row in sendable
            ),
            return_exceptions=True,
        )
        done = [
            row.id
            for row, result in zip(sendable, results, strict=True)
            if not isinstance(result, BaseException)
        ]
        passing: list[BaseException] = []
        for row, result in zip(sendable, results, strict=True):
            if isinstance(result, BaseException):
                reason = _refusal(result)
                if reason:
                    refused[row.id] = reason
                else:
                    passing.append(result)
        if done:
            await connection.execute(_PUBLISHED, done)
            PUBLISHED.labels(self.service).inc(len(done))
        for row in rows:
            if row.id in refused:
                await self._dead_letter(connection, row, refused[row.id], limit)
        if passing:
            raise passing[0]
        return len(done)

    def _unpublishable(self, row: OutboxRow, limit: int) -> str | None:
        """Why a row can never be published, known before trying (a try could cost the connection:
        nats-server closes it on a message over max_payload)."""
        stream = self._streams.get(row.stream)
        if stream is None or not any(_matches(pattern, row.subject) for pattern in stream.subjects):
            return f"{row.subject!r} in stream {row.stream!r} is not in a stream {self.service} publishes to"
        size = published_size(row.headers, row.payload, stream=row.stream, correlation_id=row.event_id)
        if size > limit:
            return f"{size} bytes, more than the server's max_payload of {limit}"
        return None

    async def _dead_letter(
        self, connection: asyncpg.Connection, row: OutboxRow, reason: str, limit: int
    ) -> None:
        letters = DeadLetters(self.broker.connection.jetstream(), limit)
        try:
            await letters.send_unpublished(
                self.service,
                event_id=row.event_id,
                subject=row.subject,
                payload=row.payload,
                headers=row.headers,
                error=f"not publishable: {reason}",
            )
        except EventTooLarge as error:
            self._held_back.add(row.id)
            HELD_BACK.labels(self.service).set(len(self._held_back))
            log.error("outbox.row_held_back", service=self.service, row=row.id, reason=reason, dlq=str(error))
            return
        await connection.execute(_PUBLISHED, [row.id])
        UNPUBLISHABLE.labels(self.service).inc()
        log.error(
            "outbox.row_dead_lettered",
            service=self.service,
            event_id=row.event_id,
            subject=row.subject,
            reason=reason[:500],
        )


def _row(record: asyncpg.Record) -> OutboxRow:
    headers = record["headers"]
    return OutboxRow(
        id=record["id"],
        event_id=record["event_id"],
        subject=record["subject"],
        stream=record["stream"],
        headers=json.loads(headers) if isinstance(headers, str) else headers,
        payload=record["payload"],
    )


def _publisher(js: Any) -> Any:
    """`publish_traced`'s shape over nats-py's JetStream publish (one request, its PubAck awaited)."""

    async def publish(payload: bytes, subject: str, *, headers: dict[str, str], stream: str) -> Any:
        return await js.publish(subject, payload, stream=stream, headers=headers)

    return publish


# JetStream errors that a retry can never change: the message is larger than the stream accepts
# (10054), or its own headers expect a last message the stream will never have (10070). Others (e.g.
# 10060, the expected stream is not the subject's, while streams are provisioned again) pass; so do
# timeouts and lost connections, however many rows went out meanwhile.
_FINAL_JETSTREAM_ERRORS = frozenset({10054, 10070})


def _refusal(error: BaseException) -> str | None:
    """Why a failed publish will never succeed, or None for a passing failure worth retrying."""
    reason = f"{type(error).__name__}: {error}"
    if isinstance(error, MaxPayloadError | BadSubjectError):
        return reason
    if isinstance(error, APIError) and error.err_code in _FINAL_JETSTREAM_ERRORS:
        return f"refused by JetStream: {reason}"
    return None


def _matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` is one token, a final `>` one or more."""
    wanted, tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or token not in ("*", tokens[index]):
            return False
    return len(tokens) == len(wanted)
