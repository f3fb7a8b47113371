"""What happens to a message whose handler fails: retry with increasing delay, then the DLQ.

A FastStream middleware, so it wraps every subscriber of the broker. The JetStream consumers allow
unlimited deliveries; this policy counts them itself, so nothing is dropped when the DLQ is down.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream.exceptions import AckMessage, HandlerException, NackMessage
from faststream.message import StreamMessage
from prometheus_client import Counter
from pydantic import ValidationError

from .dead_letters import DeadLetters

log = structlog.get_logger(__name__)

RETRIED = Counter("passerelle_messages_retried_total", "Failed deliveries that will be retried", ["consumer"])
DEAD_LETTERED = Counter("passerelle_messages_dead_lettered_total", "Messages moved to the DLQ", ["consumer"])


class DeliveryPolicy:
    """A broker middleware factory: FastStream makes one scope per message."""

    def __init__(self, retry_delays: Sequence[float], dead_letters: DeadLetters | None = None) -> None:
        self.retry_delays = list(retry_delays)
        self.dead_letters = dead_letters

    @property
    def max_deliveries(self) -> int:
        return len(self.retry_delays) + 1

    def delay_after(self, deliveries: int) -> float:
        return self.retry_delays[min(deliveries, len(self.retry_delays)) - 1]

    def __call__(self, msg: Any, /, *, context: Any) -> _DeliveryScope:
        return _DeliveryScope(msg, context=context, policy=self)


class NotYetKnown(Exception):
    """An event refers to something its consumer has not heard of yet (another stream or consumer
    runs behind): retried with the usual back-off, and dead-lettered if it never comes."""


class _DeliveryScope(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: Any, policy: DeliveryPolicy) -> None:
        super().__init__(msg, context=context)
        self.policy = policy

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        raw = msg.raw_message
        metadata = getattr(raw, "metadata", None)
        if metadata is None:  # core NATS (request/reply), not JetStream: nothing to retry
            return await call_next(msg)
        deliveries = metadata.num_delivered
        consumer = metadata.consumer or "?"
        if deliveries > self.policy.max_deliveries:
            # Earlier deliveries ended without an outcome (the process died mid-handler).
            await self._dead_letter(raw, consumer, deliveries, "no outcome after the last delivery")
        try:
            return await call_next(msg)
        except HandlerException:
            raise
        except ValidationError as error:
            await self._dead_letter(raw, consumer, deliveries, f"invalid event: {error}")
        except Exception as error:
            if deliveries >= self.policy.max_deliveries:
                await self._dead_letter(raw, consumer, deliveries, f"{type(error).__name__}: {error}")
            delay = self.policy.delay_after(deliveries)
            RETRIED.labels(consumer).inc()
            # An event ahead of what it depends on is ordinary between consumers: not worth a warning.
            report = log.info if isinstance(error, NotYetKnown) else log.warning
            report(
                "message.retry",
                consumer=consumer,
                deliveries=deliveries,
                delay=delay,
                error=f"{type(error).__name__}: {error}",
            )
            raise NackMessage(delay=delay) from error

    async def _dead_letter(self, raw: Any, consumer: str, deliveries: int, error: str) -> None:
        if self.policy.dead_letters is None:
            raise RuntimeError("no DLQ configured")
        try:
            await self.policy.dead_letters.send(raw, consumer=consumer, deliveries=deliveries, error=error)
        except Exception as publish_error:
            # The DLQ is unreachable: keep the message and try again later rather than lose it.
            log.error("dlq.unavailable", consumer=consumer, error=str(publish_error))
            raise NackMessage(delay=self.policy.retry_delays[-1]) from publish_error
        DEAD_LETTERED.labels(consumer).inc()
        log.error("message.dead_lettered", consumer=consumer, deliveries=deliveries, error=error[:500])
        raise AckMessage()
