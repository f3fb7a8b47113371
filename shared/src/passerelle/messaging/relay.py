"""The outbox relay: publishes committed events to JetStream, in order, with `Nats-Msg-Id`.

We wrote our own rather than use faststream-outbox: that package turns a table into a broker of its
own, with leased workers that publish concurrently and out of order, and we would still have written
the JetStream publish (stream, PubAck, de-duplication header) on top. This relay is one loop: it wakes
on the NOTIFY sent by the committing transaction (or every `poll_interval` as a safety net), takes
the rows in commit order, publishes them and deletes them once JetStream has acknowledged them.

Only one relay per database publishes at a time (a PostgreSQL advisory lock), so replicas of a
service do not reorder each other's events. A publish that fails is retried with back-off, forever:
the JetStream duplicate window (hours) covers a retried publish that had in fact landed, and beyond
it the consumers' inbox still gives one effect.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
import structlog
from faststream.nats import NatsBroker
from prometheus_client import Counter, Gauge
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url

from passerelle.persistence.database import Database
from passerelle.persistence.tables import OUTBOX_CHANNEL, outbox

log = structlog.get_logger(__name__)

PUBLISHED = Counter("passerelle_outbox_published_total", "Events relayed to JetStream", ["service"])
PENDING = Gauge(
    "passerelle_outbox_pending", "Events seen waiting in the outbox at the last pass", ["service"]
)

_LOCK_NAMESPACE = 0x5041_5353  # "PASS": the advisory lock that elects the active relay


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
    ) -> None:
        self.database = database
        self.broker = broker
        self.service = service
        self.batch = batch
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
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
            while True:
                self._wake.clear()
                await self.relay_pending()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
        finally:
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    async def _listen_connection(self) -> asyncpg.Connection:
        url = make_url(self.database.url)
        return await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, password=url.password, database=url.database
        )

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    async def relay_pending(self) -> int:
        """Publish everything waiting in the outbox; returns how many events were published."""
        published = 0
        while True:
            async with self.database.engine.connect() as connection:
                rows = (
                    await connection.execute(select(outbox).order_by(outbox.c.id).limit(self.batch))
                ).all()
                PENDING.labels(self.service).set(len(rows))
                if not rows:
                    return published
                # Publishes go out on one connection in row order, so the stream keeps commit order;
                # their acknowledgements are awaited together.
                results = await asyncio.gather(
                    *(
                        self.broker.publish(row.payload, row.subject, headers=row.headers, stream=row.stream)
                        for row in rows
                    ),
                    return_exceptions=True,
                )
                done = [
                    row.id
                    for row, result in zip(rows, results, strict=True)
                    if not isinstance(result, BaseException)
                ]
                if done:
                    await connection.execute(delete(outbox).where(outbox.c.id.in_(done)))
                    await connection.commit()
                    PUBLISHED.labels(self.service).inc(len(done))
                    published += len(done)
                failures = [result for result in results if isinstance(result, BaseException)]
                if failures:
                    raise failures[0]
