"""What an operator watches besides requests: how long the oldest event has waited in the outbox, how
many letters each consumer left in the DLQ, and how far behind each durable is.

Read from PostgreSQL and JetStream when Prometheus scrapes (at most once per `min_interval`, one
refresh shared by concurrent scrapes, each source bounded by `timeout`), so the figures are current
and cost nothing between scrapes. A source that does not answer never fails the scrape: its metrics
are left out and `passerelle_metrics_source_up{source}` says 0.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from nats.aio.client import Client
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from passerelle.contracts import DLQ_STREAM, EventData
from passerelle.messaging.dead_letters import outbox_consumer
from passerelle.messaging.tables import outbox
from passerelle.messaging.topology import Subscription
from passerelle.persistence.database import Database

log = structlog.get_logger(__name__)

DATABASE, NATS = "database", "nats"


@dataclass
class Snapshot:
    """The figures of one service at its last refresh; a source that failed has none."""

    up: dict[str, bool] = field(default_factory=lambda: {DATABASE: False, NATS: False})
    outbox_events: int | None = None
    oldest_event_at: datetime | None = None
    dead_letters: dict[str, int] = field(default_factory=dict)  # by consumer
    # By (stream, durable): messages not delivered yet, and delivered but not acknowledged.
    lag: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)


class ServiceMetrics:
    """One service's operational figures, refreshed on demand."""

    def __init__(
        self,
        service: str,
        database: Database,
        connection: Callable[[], Client],
        consumes: Sequence[type[EventData]],
        *,
        clock: Callable[[], float] = time.time,
        min_interval: float = 1.0,
        timeout: float = 2.0,
    ) -> None:
        self.service = service
        self.database = database
        self.connection = connection  # the broker's, once it is connected
        self.subscriptions = [Subscription(service, event) for event in consumes]
        self.clock = clock
        self.min_interval = min_interval
        self.timeout = timeout
        self.snapshot = Snapshot()
        self._refreshed_at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._lock:  # concurrent scrapes wait for one refresh instead of each making one
            now = self.clock()
            if self._refreshed_at is not None and now - self._refreshed_at < self.min_interval:
                return
            snapshot = Snapshot()
            database_ok, nats_ok = await asyncio.gather(
                self._bounded(self._read_outbox(snapshot), DATABASE),
                self._bounded(self._read_jetstream(snapshot), NATS),
            )
            snapshot.up = {DATABASE: database_ok, NATS: nats_ok}
            self.snapshot, self._refreshed_at = snapshot, now

    async def _bounded(self, reading: Coroutine[Any, Any, None], source: str) -> bool:
        try:
            await asyncio.wait_for(reading, self.timeout)
        except Exception as error:  # noqa: BLE001 - a scrape reports a source down, it never fails
            log.warning("metrics.source_unavailable", service=self.service, source=source, error=repr(error))
            return False
        return True

    async def _read_outbox(self, snapshot: Snapshot) -> None:
        async with self.database.engine.connect() as connection:
            count, oldest = (
                await connection.execute(select(func.count(), func.min(outbox.c.created_at)))
            ).one()
        snapshot.outbox_events, snapshot.oldest_event_at = count, oldest

    async def _read_jetstream(self, snapshot: Snapshot) -> None:
        connection = self.connection()
        if not connection.is_connected:
            raise ConnectionError("not connected to NATS")
        js = connection.jetstream()
        # All read before any is kept: a source that fails half-way leaves no half-read figures.
        *consumers, letters = await asyncio.gather(
            *(js.consumer_info(sub.stream.name, sub.durable) for sub in self.subscriptions),
            # Letters live under dlq.<consumer>.<original subject>: one count per subject.
            js.stream_info(DLQ_STREAM, subjects_filter="dlq.*.>"),
        )
        for sub, info in zip(self.subscriptions, consumers, strict=True):
            snapshot.lag[(sub.stream.name, sub.durable)] = (info.num_pending or 0, info.num_ack_pending or 0)
        own = f"{self.service}__"
        for subject, count in (letters.state.subjects or {}).items():
            consumer = subject.split(".")[1]
            if consumer.startswith(own):
                snapshot.dead_letters[consumer] = snapshot.dead_letters.get(consumer, 0) + count
        # A consumer with no letter says 0, not nothing; so does the relay, for events it could not send.
        for consumer in (*(sub.durable for sub in self.subscriptions), outbox_consumer(self.service)):
            snapshot.dead_letters.setdefault(consumer, 0)

    def add_to(self, families: dict[str, GaugeMetricFamily]) -> None:
        """This service's samples of each family (keys of _FAMILIES) as of its last refresh."""
        snapshot, service = self.snapshot, self.service
        for source, ok in snapshot.up.items():
            families["up"].add_metric([service, source], 1.0 if ok else 0.0)
        if snapshot.outbox_events is not None:
            families["outbox_events"].add_metric([service], snapshot.outbox_events)
            oldest = snapshot.oldest_event_at
            age = max(0.0, self.clock() - oldest.timestamp()) if oldest else 0.0
            families["oldest_age"].add_metric([service], age)
        for consumer, count in sorted(snapshot.dead_letters.items()):
            families["dead_letters"].add_metric([service, consumer], count)
        for (stream, durable), (pending, ack_pending) in sorted(snapshot.lag.items()):
            families["lag"].add_metric([service, stream, durable], pending + ack_pending)
            families["ack_pending"].add_metric([service, stream, durable], ack_pending)


_FAMILIES = {
    "up": (
        "passerelle_metrics_source_up",
        "Whether the last scrape could read this source",
        ["service", "source"],
    ),
    "outbox_events": (
        "passerelle_outbox_events",
        "Events waiting in the outbox, not yet relayed",
        ["service"],
    ),
    "oldest_age": (
        "passerelle_outbox_oldest_event_age_seconds",
        "Age of the oldest event not yet relayed (0 when the outbox is empty)",
        ["service"],
    ),
    "dead_letters": (
        "passerelle_dlq_messages",
        "Letters in the DLQ stream, by the consumer (or service__outbox) that left them",
        ["service", "consumer"],
    ),
    "lag": (
        "passerelle_consumer_lag_messages",
        "Messages a durable has not acknowledged yet: not delivered (num_pending) plus in flight",
        ["service", "stream", "durable"],
    ),
    "ack_pending": (
        "passerelle_consumer_ack_pending_messages",
        "Messages delivered to a durable and not acknowledged yet (num_ack_pending)",
        ["service", "stream", "durable"],
    ),
}


class OperationalCollector(Collector):
    """The figures of the services served by one HTTP app, in Prometheus families."""

    def __init__(self, services: Sequence[ServiceMetrics]) -> None:
        self.services = services

    async def refresh(self) -> None:
        await asyncio.gather(*(service.refresh() for service in self.services))

    def collect(self) -> Iterable[Metric]:
        families = {
            key: GaugeMetricFamily(name, text, labels=labels)
            for key, (name, text, labels) in _FAMILIES.items()
        }
        for service in self.services:
            service.add_to(families)
        return list(families.values())
