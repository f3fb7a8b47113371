"""A service as the platform runs it: its database, broker, relay, consumers and HTTP routes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib.metadata import entry_points
from pathlib import Path
from typing import TypeVar

import structlog
from fastapi import APIRouter
from faststream.nats import JStream
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.contracts import EVENTS, EventData, envelope_type, stream_of
from passerelle.messaging.broker import make_broker
from passerelle.messaging.consumers import EventConsumers
from passerelle.messaging.dead_letters import DeadLetters
from passerelle.messaging.inbox_pruning import InboxPruning
from passerelle.messaging.relay import OutboxRelay
from passerelle.messaging.topology import TopologySettings
from passerelle.messaging.unit_of_work import EventLimit, SqlUnitOfWork, no_repository, units
from passerelle.persistence.database import Database
from passerelle.settings import PlatformSettings
from passerelle.taxonomy import Taxonomy, load_taxonomy

from .operational_metrics import ServiceMetrics

log = structlog.get_logger(__name__)
R = TypeVar("R")


class ServiceApp:
    """Everything one service runs; `passerelle up` runs four of these in one process."""

    def __init__(self, name: str, settings: PlatformSettings, database_url: str) -> None:
        self.name = name
        self.settings = settings
        self.database = Database(database_url)
        # The largest event a commit accepts; the relay sets it to what the NATS server announces.
        self.event_limit = EventLimit()
        self.broker, self._delivery = make_broker(settings, name)
        self.relay = OutboxRelay(self.database, self.broker, name, limit=self.event_limit)
        self.consumers = EventConsumers(
            self.broker,
            name,
            self.units(no_repository),
            consumes=load_services([name])[0].consumes,
            workers=settings.consumer_batch,
            batch_wait=settings.consumer_batch_wait,
            delivery=self._delivery,
            topology=TopologySettings(
                duplicate_window=settings.duplicate_window, ack_wait=settings.consumer_ack_wait
            ),
        )
        retention = settings.inbox_retention
        self.inbox_pruning = InboxPruning(
            self.database,
            name,
            keep=timedelta(seconds=retention) if retention else None,
            interval=settings.inbox_prune_interval,
        )
        self.metrics = ServiceMetrics(
            name, self.database, lambda: self.broker.connection, tuple(self.consumers.consumes)
        )
        self.router = APIRouter()
        # Run before the service consumes its first event (e.g. building an in-memory index).
        self.on_start: list[Callable[[], Awaitable[None]]] = []
        # Run first when stopping (e.g. background workers that use the database).
        self.on_stop: list[Callable[[], Awaitable[None]]] = []
        self.taxonomy: Taxonomy = load_taxonomy(settings.taxonomy_file)
        self._events_documented = False

    def units(self, repository: Callable[[AsyncSession], R]) -> Callable[[], SqlUnitOfWork[R]]:
        """Units of work on this service's database whose repository is made by `repository`."""
        return units(self.database, repository, self.event_limit, relay=self.relay)

    def document_published_events(self) -> None:
        """Publishers exist only for the AsyncAPI document; events leave through the outbox relay.
        Made when a document is first asked for: they cost a third of a service's start."""
        if self._events_documented:
            return
        self._events_documented = True
        for event in EVENTS:
            if event.owner == self.name:
                self.broker.publisher(
                    event.subject,
                    stream=JStream(stream_of(event).name, declare=False),
                    schema=envelope_type(event),
                    title=f"{self.name}:{event.event_name}",
                    description=(event.__doc__ or "").strip(),
                )

    async def start(self) -> None:
        for prepare in self.on_start:
            await prepare()
        await self.broker.connect()
        connection = self.broker.connection
        self._delivery.dead_letters = DeadLetters(connection.jetstream(), connection.max_payload)
        await self.broker.start()
        self.relay.start()
        await self.inbox_pruning.start()
        log.info("service.started", service=self.name)

    async def stop(self, grace: float = 20.0) -> None:
        """Stop relaying, drain the consumers (in-flight handlers finish and are acknowledged) and
        close the database; a step that outlasts `grace` is abandoned, loudly, so that a shutdown
        always ends (what was not acknowledged is redelivered, what was not relayed stays queued)."""
        steps = [
            *(("on_stop", stopping) for stopping in self.on_stop),
            ("inbox_pruning", self.inbox_pruning.stop),
            ("relay", self.relay.stop),
            ("broker", self.broker.stop),
            ("batches", self.consumers.drain),
        ]
        for step, stopping in steps:
            try:
                await asyncio.wait_for(stopping(), grace)
            except TimeoutError:
                log.error(
                    "service.stop_abandoned", service=self.name, step=step, grace=grace, tasks=_stuck_tasks()
                )
        await self.database.dispose()
        log.info("service.stopped", service=self.name)

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(self.database.ping(), 3)
            checks["database"] = "ok"
        except Exception as error:  # noqa: BLE001 - reported, not raised
            checks["database"] = f"unreachable: {error!r}"
        connected = await self.broker.ping(timeout=2)
        checks["nats"] = "ok" if connected else "unreachable"
        return checks


def _stuck_tasks() -> list[str]:
    """Where every running task waits: what an operator needs to understand a stuck shutdown."""
    where = []
    for task in asyncio.all_tasks():
        frames = task.get_stack(limit=3)
        place = " <- ".join(f"{f.f_code.co_name}:{f.f_lineno}" for f in reversed(frames))
        where.append(f"{task.get_name()}: {place}")
    return where


@dataclass(frozen=True)
class ServiceDefinition:
    """What a service registers under the `passerelle.services` entry point group."""

    name: str
    migrations: Path
    build: Callable[[PlatformSettings, str], ServiceApp]
    # The events it consumes: provisioning makes one durable for each, `passerelle nats auth-config`
    # lets it read them, and its consumers may subscribe to these only.
    consumes: tuple[type[EventData], ...] = ()


SERVICE_ORDER = ("members", "projects", "matching", "notifications")


def _position(name: str) -> int:
    return SERVICE_ORDER.index(name) if name in SERVICE_ORDER else len(SERVICE_ORDER)


def load_services(names: list[str] | None = None) -> list[ServiceDefinition]:
    """The installed services, found by entry point so that `passerelle` never imports one."""
    found = {ep.name: ep for ep in entry_points(group="passerelle.services")}
    # The first four in their order (each consumes what those before it publish), then the others.
    wanted = names or sorted(found, key=lambda name: (_position(name), name))
    missing = [name for name in wanted if name not in found]
    if missing:
        raise LookupError(f"service(s) not installed: {', '.join(missing)}")
    definitions = [found[name].load() for name in wanted]
    return definitions


def consumed_events(
    definitions: list[ServiceDefinition] | None = None,
) -> dict[str, tuple[type[EventData], ...]]:
    """What each service consumes, by name (by default every installed service), for the messaging
    layer's provisioning and permissions."""
    return {definition.name: definition.consumes for definition in definitions or load_services()}
