"""Registers a service's event handlers as durable pull subscribers, one per consumed event.

Each handler runs in one unit of work together with the inbox record of the event, so a redelivered
event has one effect; the message is acknowledged only after that commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any, TypeVar

import structlog
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from pydantic import ValidationError

from passerelle.contracts import CloudEvent, EventData, correlation_id, envelope_type

from .authorization import inbox_prefix
from .delivery import InvalidEvent
from .topology import Subscription, TopologySettings, consumer_config
from .tracing import consuming
from .unit_of_work import SqlUnitOfWork

log = structlog.get_logger(__name__)

E = TypeVar("E", bound=EventData)
# A handler gets the unit of work `units` makes, whatever repository the service gave it.
EventHandler = Callable[[CloudEvent[E], SqlUnitOfWork[Any]], Awaitable[None]]


class HandlerFailed(Exception):
    """A handler's own validation failed: a bug or a state problem to retry, not a malformed event."""


def event_decoder(model: type[CloudEvent[Any]]) -> Callable[[NatsMessage], Awaitable[CloudEvent[Any]]]:
    """Reads a body into the whole envelope before any handler or unit of work runs.

    Events are JSON whatever their content type. Whatever fails here (bytes that are not UTF-8, JSON
    nested deeper than the parser goes, fields the contract refuses or the inbox could not store)
    fails the same way on every delivery, so it is raised as InvalidEvent: the DLQ at once.
    """

    async def decode(message: NatsMessage) -> CloudEvent[Any]:
        try:
            return model.model_validate_json(message.body)
        except Exception as error:  # any reason a body cannot be read leads to the same verdict
            raise InvalidEvent(f"{type(error).__name__}: {error}") from error

    return decode


class EventConsumers:
    """`@consumers.on(SkillOffered)` makes a handler the service's durable consumer of that event."""

    def __init__(
        self,
        broker: NatsBroker,
        service: str,
        units: Callable[[], SqlUnitOfWork[Any]],
        *,
        consumes: Collection[type[EventData]] = (),
        workers: int = 16,
        topology: TopologySettings | None = None,
    ) -> None:
        self.broker = broker
        self.service = service
        self.consumes = consumes  # what the service declares: only those durables are provisioned
        self.units = units  # a service may give its own, whose repository its handlers use
        self.workers = workers
        self.topology = topology or TopologySettings()

    def on(self, event_type: type[E]) -> Callable[[EventHandler[E]], EventHandler[E]]:
        if event_type not in self.consumes:
            raise LookupError(
                f"{self.service} does not consume {event_type.event_name}: declare it in the consumes of"
                " its ServiceDefinition"
            )
        sub = Subscription(self.service, event_type)

        def register(handler: EventHandler[E]) -> EventHandler[E]:
            async def consume(event: Any) -> None:
                await self._handle(sub.durable, event, handler)

            model = envelope_type(event_type)
            # The decoder parses and validates; the annotation gives the AsyncAPI schema (FastStream
            # takes the decoded instance as it is).
            consume.__annotations__ = {"event": model, "return": None}
            consume.__name__ = f"on_{event_type.event_name}"
            self.broker.subscriber(
                event_type.subject,
                stream=JStream(sub.stream.name, declare=False),
                durable=sub.durable,
                config=consumer_config(sub, self.topology),
                # One message per pull: nats-py holds the first message of a larger pull until the
                # batch is full or the pull expires (up to a second per hop at low traffic). The
                # fetch loop hands each message to up to `workers` concurrent workers and pulls the next.
                pull_sub=PullSub(batch_size=1, timeout=1.0),
                max_workers=self.workers,
                # Pulled messages arrive under the service's own inbox, all its NATS user may read.
                inbox_prefix=f"{inbox_prefix(self.service)}.".encode(),
                decoder=event_decoder(model),
                title=f"{self.service}:{event_type.event_name}",
                description=(handler.__doc__ or "").strip() or None,
            )(consume)
            return handler

        return register

    async def _handle(self, consumer: str, event: CloudEvent[E], handler: EventHandler[E]) -> None:
        token = correlation_id.set(event.correlationid or event.id)
        try:
            with (
                structlog.contextvars.bound_contextvars(
                    event_id=event.id,
                    event_type=event.type,
                    correlation_id=correlation_id.get(),
                    consumer=consumer,
                ),
                consuming(event, consumer),
            ):
                async with self.units() as uow:
                    if not await uow.claim(consumer, event.id):
                        log.info("event.duplicate_skipped")
                        return
                    try:
                        await handler(event, uow)
                    except ValidationError as error:
                        raise HandlerFailed(str(error)) from error
                    await uow.commit()
                log.debug("event.handled")
        finally:
            correlation_id.reset(token)
