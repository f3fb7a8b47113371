"""Registers a service's event handlers as durable pull subscribers, one per consumed event.

Each handler runs in one unit of work together with the inbox record of the event, so a redelivered
event has one effect; the message is acknowledged only after that commit.

Messages of one durable that are in hand at the same time (up to `batch` of them: FastStream hands
each to a worker while the next is pulled) are handled as a batch in one transaction: one multi-row
inbox claim, the handlers one after the other, one commit, then each message is acked. When one
handler fails, the batch is rolled back and replayed one message per transaction, so that only the
culprit fails, in its own delivery scope (its retry, back-off or DLQ as for a message alone), and the
others are acked.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from faststream.nats import JStream, NatsBroker, NatsMessage, PullSub
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError
from nats.js.errors import ServiceUnavailableError
from pydantic import ValidationError

from passerelle.contracts import CloudEvent, EventData, correlation_id, envelope_type

from .authorization import inbox_prefix
from .delivery import InvalidEvent
from .topology import Subscription, TopologySettings, consumer_config
from .tracing import consuming
from .unit_of_work import SqlUnitOfWork

log = structlog.get_logger(__name__)

IDLE_PULL = 5.0  # seconds a pull lingers for the next message while none comes
UNBATCHED_WORKERS = 16  # messages in hand at once per durable without batches
_QUIET_TURNS = 4  # event-loop turns without a new message before a batch starts
WAITING_PULL = 0.002  # seconds to take the messages already waiting behind the first one

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
        batch_wait: float = 0.0,
    ) -> None:
        self.broker = broker
        self.service = service
        self.consumes = consumes  # what the service declares: only those durables are provisioned
        self.units = units  # a service may give its own, whose repository its handlers use
        self.workers = workers  # messages in hand at once per durable: the largest batch
        self.topology = topology or TopologySettings()
        # False: one transaction per message (a service whose handlers keep state beyond the database
        # that a rolled-back batch would leave wrong).
        self.batched = True
        self.batch_wait = batch_wait  # seconds a batch waits for more messages before it starts
        self._batches: dict[str, _Batch] = {}

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
            subscriber = self.broker.subscriber(
                event_type.subject,
                stream=JStream(sub.stream.name, declare=False),
                durable=sub.durable,
                config=consumer_config(sub, self.topology),
                # The pulls are `_pull_continuously`'s (below): the loop of PullSub with a batch
                # holds the first message of a pull until the batch is full or the pull expires.
                pull_sub=PullSub(batch_size=1, timeout=IDLE_PULL),
                # Unbatched, each message in hand holds a database connection: as many as before.
                max_workers=self.workers if self.batched else min(self.workers, UNBATCHED_WORKERS),
                # Pulled messages arrive under the service's own inbox, all its NATS user may read.
                inbox_prefix=f"{inbox_prefix(self.service)}.".encode(),
                decoder=event_decoder(model),
                title=f"{self.service}:{event_type.event_name}",
                description=(handler.__doc__ or "").strip() or None,
            )
            subscriber(consume)
            # FastStream 0.7.8 (pinned) starts this method as the subscriber's fetch task.
            subscriber._consume_pull = functools.partial(_pull_continuously, subscriber, self.workers)  # type: ignore[attr-defined]
            return handler

        return register

    async def drain(self) -> None:
        """Wait for the batches in hand to end (their messages were handed over before the stop)."""
        runners = [batch.runner for batch in self._batches.values() if batch.runner is not None]
        await asyncio.gather(*runners, return_exceptions=True)

    async def _handle(self, consumer: str, event: CloudEvent[Any], handler: EventHandler[Any]) -> None:
        if not self.batched or self.workers == 1:
            await self._handle_alone(consumer, event, handler)
            return
        batch = self._batches.setdefault(consumer, _Batch())
        done = asyncio.get_running_loop().create_future()
        batch.waiting.append(_Delivery(event, handler, done))
        if batch.runner is None:
            batch.runner = asyncio.create_task(self._run(consumer, batch), name=f"batches-{consumer}")
        # The outcome of this message alone: its delivery scope (retries, DLQ, ack) sees it as before.
        await asyncio.shield(done)

    async def _run(self, consumer: str, batch: _Batch) -> None:
        """Handle what waits, a batch at a time, until nothing does."""
        try:
            while batch.waiting:
                if self.batch_wait and len(batch.waiting) < self.workers:
                    await asyncio.sleep(self.batch_wait)
                # Messages already pulled reach here some loop turns later (each passes FastStream's
                # queue and middlewares): let them join while they keep coming.
                quiet, seen = 0, len(batch.waiting)
                while quiet < _QUIET_TURNS and len(batch.waiting) < self.workers:
                    await asyncio.sleep(0)
                    quiet, seen = (0, len(batch.waiting)) if len(batch.waiting) > seen else (quiet + 1, seen)
                taken, batch.waiting = batch.waiting[: self.workers], batch.waiting[self.workers :]
                await self._handle_batch(consumer, taken)
        finally:
            batch.runner = None
            for delivery in batch.waiting:  # stopped: not handled, so not acked; delivered again
                delivery.done.cancel()
            batch.waiting = []

    async def _handle_batch(self, consumer: str, deliveries: list[_Delivery]) -> None:
        try:
            if len(deliveries) > 1:
                await self._together(consumer, deliveries)
                for delivery in deliveries:
                    delivery.done.set_result(None)
                return
        except asyncio.CancelledError:
            for delivery in deliveries:
                delivery.done.cancel()
            raise
        except Exception as error:  # noqa: BLE001 - whatever failed, each is replayed on its own
            log.info("event.batch_replayed", consumer=consumer, size=len(deliveries), error=repr(error))
        for delivery in deliveries:
            try:
                await self._handle_alone(consumer, delivery.event, delivery.handler)
            except asyncio.CancelledError:
                delivery.done.cancel()
                raise
            except Exception as error:  # noqa: BLE001 - the culprit's own scope deals with it
                delivery.done.set_exception(error)
            else:
                delivery.done.set_result(None)

    async def _together(self, consumer: str, deliveries: list[_Delivery]) -> None:
        """One transaction: one inbox claim for all, the handlers in order, one commit."""
        async with self.units() as uow:
            uow.held = True
            claimed = await uow.claim_all(consumer, [delivery.event.id for delivery in deliveries])
            for delivery in deliveries:
                if delivery.event.id not in claimed:  # handled before, or twice in this batch
                    log.info("event.duplicate_skipped", event_id=delivery.event.id, consumer=consumer)
                    continue
                claimed.discard(delivery.event.id)
                with _about(consumer, delivery.event):
                    await _run_handler(delivery.handler, delivery.event, uow)
                    await uow.end_part()
            uow.held = False
            await uow.commit()

    async def _handle_alone(self, consumer: str, event: CloudEvent[E], handler: EventHandler[E]) -> None:
        with _about(consumer, event):
            async with self.units() as uow:
                if not await uow.claim(consumer, event.id):
                    log.info("event.duplicate_skipped")
                    return
                await _run_handler(handler, event, uow)
                await uow.commit()
            log.debug("event.handled")


async def _pull_continuously(subscriber: Any, batch: int, cb: Callable[[Msg], Awaitable[Any]]) -> None:
    """Pull what is there as soon as it is there: a lingering pull of one message (one request a
    `IDLE_PULL` while idle), then, at once, up to `batch - 1` more that are already waiting (one
    request, answered at once), each handed to a worker (`cb` waits while all `batch` are busy)."""
    while subscriber.running:
        messages: list[Msg] = []
        with contextlib.suppress(TimeoutError, ConnectionClosedError, ServiceUnavailableError):
            messages = await subscriber.subscription.fetch(batch=1, timeout=IDLE_PULL)
            if batch > 1:
                messages += await subscriber.subscription.fetch(batch=batch - 1, timeout=WAITING_PULL)
        for message in messages:
            await cb(message)


async def _run_handler(handler: EventHandler[E], event: CloudEvent[E], uow: SqlUnitOfWork[Any]) -> None:
    try:
        await handler(event, uow)
    except ValidationError as error:
        raise HandlerFailed(str(error)) from error


@contextlib.contextmanager
def _about(consumer: str, event: CloudEvent[Any]) -> Iterator[None]:
    """Logs, traces and published events say which event, and which flow, they come of."""
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
            yield
    finally:
        correlation_id.reset(token)


@dataclass
class _Delivery:
    event: CloudEvent[Any]
    handler: EventHandler[Any]
    done: asyncio.Future[None]


@dataclass
class _Batch:
    """What one durable has in hand and not handled yet, and the task handling it."""

    waiting: list[_Delivery] = field(default_factory=list)
    runner: asyncio.Task[None] | None = None
