"""What happens to a message whose handler fails: retry with increasing delay, then the DLQ.

One verdict per delivery (`Delivery`), given by the consumers' own pull loop for each message it
handles, and by a FastStream middleware (`DeliveryPolicy` in the broker's middlewares) for anything
that is a FastStream subscriber. The JetStream consumers allow unlimited deliveries; this policy
counts them itself, so nothing is dropped when the DLQ is down. Each delivery ends in one of these ways:

- the event can never be handled (it does not parse, breaks the contract, holds a value its
  database refuses, or would record an event too large to publish): the DLQ at once, since every
  new delivery would fail the same way;
- NotYetKnown (it refers to something that has not arrived yet, e.g. still in flight on another
  stream after a crash): retried after short, growing delays for `wait_budget` seconds, which must
  outlast a crash recovery (the consumer's ack wait); it spends none of the failure budget;
- any other failure: retried after `retry_delays`, then the DLQ;
- no outcome (the process hung past the ack wait, or died): the server delivers it again; that
  spends neither budget, up to `max_deliveries` deliveries started in this process and not finished,
  then the DLQ.

The counts live in memory: a restart starts them again, which gives a message more tries, never fewer.
Only a message that kills every process it reaches (so no count survives it) is stopped by the
server's own count of deliveries, which survives restarts and is shared by replicas: a backstop far
beyond both budgets, so that it never cuts short a wait that a restart began again.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream.exceptions import AckMessage, HandlerException, NackMessage
from faststream.message import StreamMessage
from nats.aio.msg import Msg
from prometheus_client import Counter
from pydantic import ValidationError

from passerelle.errors import NotYetKnown
from passerelle.persistence.database import refused_by_database

from .dead_letters import DeadLetters
from .unit_of_work import EventTooLarge

log = structlog.get_logger(__name__)

RETRIED = Counter("passerelle_messages_retried_total", "Failed deliveries that will be retried", ["consumer"])
WAITED = Counter(
    "passerelle_messages_waited_total",
    "Deliveries retried because what they refer to is not known yet",
    ["consumer"],
)
DEAD_LETTERED = Counter("passerelle_messages_dead_lettered_total", "Messages moved to the DLQ", ["consumer"])


def _never_handled(error: BaseException) -> bool:
    """Whether a failure would repeat on every delivery: an event too large to publish, or a value
    its database refuses."""
    return isinstance(error, EventTooLarge) or refused_by_database(error)


_FIRST_WAIT = 0.5
_BACKSTOP = 4  # times both budgets: deliveries the server counts before a message goes to the DLQ
_TRACKED_MESSAGES = 100_000  # in-memory counts kept at most; a forgotten one starts again


class InvalidEvent(Exception):
    """A body that can never become a valid event (see consumers.decode): the DLQ at once."""


@dataclass(frozen=True)
class Verdict:
    """What becomes of one delivery: acknowledged, or negatively with a delay before the next
    (`delay=None`: at once). Back-off needs the delay: a plain nak ignores the consumer's."""

    ack: bool
    delay: float | None = None


ACK = Verdict(ack=True)


@dataclass
class _Attempts:
    failures: int = 0
    waits: int = 0
    waiting_since: float | None = None
    unfinished: int = 0  # deliveries started in this process whose handler has not returned


class DeliveryPolicy:
    """The budgets and the counts of every message; also a broker middleware factory (FastStream
    makes one scope per message of its own subscribers)."""

    def __init__(
        self,
        retry_delays: Sequence[float],
        dead_letters: DeadLetters | None = None,
        *,
        wait_budget: float = 300.0,
        wait_max_delay: float = 10.0,
    ) -> None:
        self.retry_delays = list(retry_delays)
        self.dead_letters = dead_letters
        self.wait_budget = wait_budget
        self.wait_max_delay = wait_max_delay
        self._attempts: OrderedDict[tuple[str, int], _Attempts] = OrderedDict()
        # Deliveries that end in a failure before the DLQ, and NotYetKnown retries in the wait budget.
        self.max_deliveries = len(self.retry_delays) + 1
        self.max_waits = 0
        waited = 0.0
        while waited < wait_budget:
            self.max_waits += 1
            waited += self.wait_delay(self.max_waits)
        # Beyond this many deliveries by the server a message is dead-lettered before its handler runs.
        self.delivery_ceiling = _BACKSTOP * (self.max_deliveries + self.max_waits)

    def delay_after(self, failures: int) -> float:
        return self.retry_delays[min(failures, len(self.retry_delays)) - 1]

    def wait_delay(self, waits: int) -> float:
        return min(_FIRST_WAIT * 2 ** min(waits - 1, 30), self.wait_max_delay)

    def attempts(self, key: tuple[str, int]) -> _Attempts:
        attempts = self._attempts.pop(key, None) or _Attempts()
        self._attempts[key] = attempts
        while len(self._attempts) > _TRACKED_MESSAGES:
            self._attempts.popitem(last=False)
        return attempts

    def forget(self, key: tuple[str, int]) -> None:
        self._attempts.pop(key, None)

    def delivery(self, raw: Msg) -> Delivery:
        return Delivery(self, raw)

    def __call__(self, msg: Any, /, *, context: Any) -> _DeliveryScope:
        return _DeliveryScope(msg, context=context, policy=self)


class Delivery:
    """One delivery of one JetStream message: `admit()` before its handler runs, then `end(error)`
    (None: handled) gives its verdict; the DLQ, counters and log lines come of it."""

    def __init__(self, policy: DeliveryPolicy, raw: Msg) -> None:
        metadata = raw.metadata
        self.policy = policy
        self.raw = raw
        self.deliveries = metadata.num_delivered
        self.key = (metadata.consumer or "?", metadata.sequence.stream)
        self._attempts: _Attempts | None = None  # while started and not ended

    async def admit(self) -> Verdict | None:
        """None: run the handler. A verdict (the DLQ) for a message beyond its budgets already."""
        attempts = self.policy.attempts(self.key)
        if attempts.unfinished >= self.policy.max_deliveries:
            return await self._dead_letter(f"{attempts.unfinished} deliveries without an outcome")
        if self.deliveries > self.policy.delivery_ceiling:
            reason = f"{self.deliveries - 1} deliveries, beyond its budgets even across restarts"
            return await self._dead_letter(reason)
        attempts.unfinished += 1
        self._attempts = attempts
        return None

    def abandon(self) -> None:
        """Its handler no longer runs. Without `end` (the process stops before an outcome): no
        verdict, the message is delivered again and the delivery spends no budget."""
        if self._attempts is not None:
            self._attempts.unfinished -= 1
            self._attempts = None

    async def end(self, error: BaseException | None) -> Verdict:
        self.abandon()
        if error is None:
            self.policy.forget(self.key)
            return ACK
        if isinstance(error, InvalidEvent | ValidationError):
            return await self._dead_letter(f"invalid event: {error}")
        if isinstance(error, NotYetKnown):
            return await self._wait(error)
        if _never_handled(error):
            return await self._dead_letter(f"{type(error).__name__}: {error}")
        return await self._retry(error)

    async def _wait(self, error: NotYetKnown) -> Verdict:
        attempts = self.policy.attempts(self.key)
        now = time.monotonic()
        if attempts.waiting_since is None:
            attempts.waiting_since = now
        waited = now - attempts.waiting_since
        if waited >= self.policy.wait_budget:
            return await self._dead_letter(f"NotYetKnown: {error} (after {waited:.0f} s)")
        attempts.waits += 1
        delay = self.policy.wait_delay(attempts.waits)
        WAITED.labels(self.key[0]).inc()
        # An event ahead of what it depends on is ordinary between consumers: not worth a warning.
        log.info(
            "message.wait", consumer=self.key[0], deliveries=self.deliveries, delay=delay, error=str(error)
        )
        return Verdict(ack=False, delay=delay)

    async def _retry(self, error: BaseException) -> Verdict:
        attempts = self.policy.attempts(self.key)
        attempts.failures += 1
        reason = f"{type(error).__name__}: {error}"
        if attempts.failures >= self.policy.max_deliveries:
            return await self._dead_letter(reason)
        delay = self.policy.delay_after(attempts.failures)
        RETRIED.labels(self.key[0]).inc()
        log.warning(
            "message.retry",
            consumer=self.key[0],
            deliveries=self.deliveries,
            failures=attempts.failures,
            delay=delay,
            error=reason,
        )
        return Verdict(ack=False, delay=delay)

    async def _dead_letter(self, error: str) -> Verdict:
        consumer = self.key[0]
        if self.policy.dead_letters is None:
            log.error("dlq.not_configured", consumer=consumer, error=error[:500])
            return Verdict(ack=False)
        try:
            await self.policy.dead_letters.send(
                self.raw, consumer=consumer, deliveries=self.deliveries, error=error
            )
        except Exception as publish_error:  # noqa: BLE001 - whatever the cause, the message is kept
            # The DLQ is unreachable: keep the message and try again later rather than lose it.
            log.error("dlq.unavailable", consumer=consumer, error=str(publish_error))
            return Verdict(ack=False, delay=self.policy.retry_delays[-1])
        self.policy.forget(self.key)
        DEAD_LETTERED.labels(consumer).inc()
        log.error("message.dead_lettered", consumer=consumer, deliveries=self.deliveries, error=error[:500])
        return ACK


class _DeliveryScope(BaseMiddleware):
    """The verdict of `Delivery` for a FastStream subscriber's message, as FastStream's exceptions."""

    def __init__(self, msg: Any, /, *, context: Any, policy: DeliveryPolicy) -> None:
        super().__init__(msg, context=context)
        self.policy = policy

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        if getattr(msg.raw_message, "metadata", None) is None:  # core NATS (request/reply): no retries
            return await call_next(msg)
        delivery = self.policy.delivery(msg.raw_message)
        verdict = await delivery.admit()
        if verdict is None:
            try:
                result = await call_next(msg)
            except HandlerException:
                delivery.abandon()
                raise
            except Exception as error:  # noqa: BLE001 - every failure gets its verdict
                verdict = await delivery.end(error)
            else:
                await delivery.end(None)
                return result
            finally:
                delivery.abandon()
        if verdict.ack:
            raise AckMessage()
        raise NackMessage(delay=verdict.delay) if verdict.delay else NackMessage()
