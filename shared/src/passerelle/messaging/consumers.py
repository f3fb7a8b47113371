"""Registers a service's event handlers as durable pull consumers, one per consumed event.

Each handler runs in one unit of work together with the inbox record of the event, so a redelivered
event has one effect; the message is acknowledged only after that commit.

Each durable has a pull loop of our own on nats-py (`pulls.Pulls`), which reads the envelopes itself:
the messages of one pull (up to `workers` of them) are handled as a batch in one transaction: one
multi-row inbox claim, the handlers one after the other, one commit, then each message is acked.
When one handler fails, the batch is rolled back and replayed one message per transaction, so that
only the culprit fails, with its own verdict (`delivery.Delivery`: its retry, back-off or DLQ as for a
message alone), and the others are acked. FastStream's subscriber is kept for the AsyncAPI document
and for the pull subscription (the durable's configuration, the service's inbox prefix, the start and
the graceful stop of the broker); no message goes through FastStream's per-message path.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from faststream.nats import JStream, NatsBroker, PullSub
from nats.aio.msg import Msg
from prometheus_client import Counter
from pydantic import ValidationError

from passerelle.contracts import CloudEvent, EventData, correlation_id, envelope_type
from passerelle.settings import PlatformSettings

from .authorization import inbox_prefix
from .delivery import Delivery, DeliveryPolicy, InvalidEvent, Verdict
from .pulls import IDLE_PULL, Pulls, settle
from .topology import Subscription, TopologySettings, consumer_config
from .tracing import consuming
from .unit_of_work import SqlUnitOfWork

log = structlog.get_logger(__name__)

HANDLED = Counter(
    "passerelle_messages_handled_total",
    "Messages whose handler committed (or that were already handled), then acknowledged",
    ["consumer"],
)

E = TypeVar("E", bound=EventData)
# A handler gets the unit of work `units` makes, whatever repository the service gave it.
EventHandler = Callable[[CloudEvent[E], SqlUnitOfWork[Any]], Awaitable[None]]


class HandlerFailed(Exception):
    """A handler's own validation failed: a bug or a state problem to retry, not a malformed event."""


def decode(model: type[CloudEvent[Any]], body: bytes) -> CloudEvent[Any]:
    """Reads a body into the whole envelope before any handler or unit of work runs.

    Events are JSON whatever their content type. Whatever fails here (bytes that are not UTF-8, JSON
    nested deeper than the parser goes, fields the contract refuses or the inbox could not store)
    fails the same way on every delivery, so it is raised as InvalidEvent: the DLQ at once.
    """
    try:
        return model.model_validate_json(body)
    except Exception as error:  # any reason a body cannot be read leads to the same verdict
        raise InvalidEvent(f"{type(error).__name__}: {error}") from error


@dataclass(frozen=True)
class _Route:
    """What one durable's messages become: the envelope they are read into, the handler they go to."""

    durable: str
    model: type[CloudEvent[Any]]
    handler: EventHandler[Any]


@dataclass(frozen=True)
class _InHand:
    message: Msg
    delivery: Delivery
    event: CloudEvent[Any]


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
        delivery: DeliveryPolicy | None = None,
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
        # The verdict on each delivery; the service's is the one its broker's middleware uses too.
        self.delivery = delivery or DeliveryPolicy(PlatformSettings().retry_delays)
        self._loops: set[asyncio.Task[Any]] = set()

    def on(self, event_type: type[E]) -> Callable[[EventHandler[E]], EventHandler[E]]:
        if event_type not in self.consumes:
            raise LookupError(
                f"{self.service} does not consume {event_type.event_name}: declare it in the consumes of"
                " its ServiceDefinition"
            )
        sub = Subscription(self.service, event_type)

        def register(handler: EventHandler[E]) -> EventHandler[E]:
            route = _Route(sub.durable, envelope_type(event_type), handler)

            # What FastStream documents, and would call were its per-message path used (a test
            # broker): the pulls are ours (`_pull_loop`).
            async def consume(event: Any) -> None:
                await self._handle_alone(route.durable, event, handler)

            # The annotation gives the AsyncAPI schema.
            consume.__annotations__ = {"event": route.model, "return": None}
            consume.__name__ = f"on_{event_type.event_name}"
            subscriber = self.broker.subscriber(
                event_type.subject,
                stream=JStream(sub.stream.name, declare=False),
                durable=sub.durable,
                config=consumer_config(sub, self.topology),
                pull_sub=PullSub(batch_size=1, timeout=IDLE_PULL),
                # Pulled messages arrive under the service's own inbox, all its NATS user may read.
                inbox_prefix=f"{inbox_prefix(self.service)}.".encode(),
                title=f"{self.service}:{event_type.event_name}",
                description=(handler.__doc__ or "").strip() or None,
            )
            subscriber(consume)
            # FastStream 0.7.8 (pinned) starts this method as the subscriber's fetch task, once the
            # pull subscription exists.
            subscriber._consume_pull = functools.partial(self._pull_loop, subscriber, route)  # type: ignore[method-assign]
            return handler

        return register

    async def drain(self) -> None:
        """Once the broker has stopped: wait for the pull loops to end. What they had in hand was
        handled and acked, or (past the broker's graceful timeout) is rolled back, not acked."""
        await asyncio.gather(*self._loops, return_exceptions=True)

    async def _pull_loop(self, subscriber: Any, route: _Route, **_: Any) -> None:
        """Pull, handle, acknowledge, until the subscriber stops (FastStream's own per-message
        callback, passed as `cb`, is not used)."""
        loop = asyncio.current_task()
        assert loop is not None
        self._loops.add(loop)
        pulls = Pulls(subscriber.subscription, self.workers, self.batch_wait)
        pulled = asyncio.ensure_future(pulls.next())
        try:
            while subscriber.running:
                messages = await pulled
                if not subscriber.running:  # stopping: the broker waits only for what is in hand
                    return
                # The next pull travels while this one is handled: pulls are handled in order.
                pulled = asyncio.ensure_future(pulls.next())
                with subscriber.lock:  # the broker's graceful stop waits for it
                    await self._handle_pull(route, messages)
        finally:
            self._loops.discard(loop)
            if not pulled.done():
                pulled.cancel()
            elif not pulled.cancelled() and pulled.exception() is None:
                await _give_back(pulled.result())

    async def _handle_pull(self, route: _Route, messages: list[Msg]) -> None:
        """Each message gets its own verdict: the unreadable ones the DLQ at once, the others are
        handled together, or one by one when the batch fails."""
        in_hand: list[_InHand] = []
        for message in messages:
            delivery = self.delivery.delivery(message)
            verdict = await delivery.admit()
            if verdict is None:
                try:
                    in_hand.append(_InHand(message, delivery, decode(route.model, message.data)))
                    continue
                except InvalidEvent as error:
                    verdict = await delivery.end(error)
            await settle(message, verdict)
        try:
            if self.batched and len(in_hand) > 1 and await self._together(route, in_hand):
                return
            for item in in_hand:
                await self._alone(route, item)
        finally:
            for item in in_hand:  # stopped before its verdict: not acked, delivered again
                item.delivery.abandon()

    async def _together(self, route: _Route, in_hand: list[_InHand]) -> bool:
        """One transaction: one inbox claim for all, the handlers in order, one commit; then the
        acks. False: rolled back, to be replayed one by one."""
        try:
            async with self.units() as uow:
                uow.held = True
                claimed = await uow.claim_all(route.durable, [item.event.id for item in in_hand])
                for item in in_hand:
                    if item.event.id not in claimed:  # handled before, or twice in this batch
                        log.info("event.duplicate_skipped", event_id=item.event.id, consumer=route.durable)
                        continue
                    claimed.discard(item.event.id)
                    with _about(route.durable, item.event):
                        await _run_handler(route.handler, item.event, uow)
                        if _holds_objects(uow):
                            await uow.end_part()
                uow.held = False
                await uow.commit()
        except Exception as error:  # noqa: BLE001 - whatever failed, each is replayed on its own
            log.info("event.batch_replayed", consumer=route.durable, size=len(in_hand), error=repr(error))
            return False
        for item in in_hand:
            await settle(item.message, await item.delivery.end(None))
        HANDLED.labels(route.durable).inc(len(in_hand))
        return True

    async def _alone(self, route: _Route, item: _InHand) -> None:
        error: Exception | None = None
        try:
            await self._handle_alone(route.durable, item.event, route.handler)
        except Exception as failure:  # noqa: BLE001 - its verdict says what becomes of it
            error = failure
        await settle(item.message, await item.delivery.end(error))
        if error is None:
            HANDLED.labels(route.durable).inc()

    async def _handle_alone(self, consumer: str, event: CloudEvent[E], handler: EventHandler[E]) -> None:
        with _about(consumer, event):
            async with self.units() as uow:
                if not await uow.claim(consumer, event.id):
                    log.info("event.duplicate_skipped")
                    return
                await _run_handler(handler, event, uow)
                await uow.commit()
            log.debug("event.handled")


async def _give_back(messages: list[Msg]) -> None:
    """Pulled but not handled (the loop stops): delivered again at once, here or elsewhere."""
    for message in messages:
        await settle(message, Verdict(ack=False))


async def _run_handler(handler: EventHandler[E], event: CloudEvent[E], uow: SqlUnitOfWork[Any]) -> None:
    try:
        await handler(event, uow)
    except ValidationError as error:
        raise HandlerFailed(str(error)) from error


def _holds_objects(uow: SqlUnitOfWork[Any]) -> bool:
    """Whether a handler left objects in the session, which the next one must not see stale (a
    handler of Core statements leaves none: nothing to flush or forget)."""
    session = uow.session
    return bool(session.new or session.dirty or session.deleted or session.identity_map)


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
