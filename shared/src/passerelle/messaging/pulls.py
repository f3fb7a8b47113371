"""The pulls of one durable consumer, on nats-py: what waits, as soon as it is there, a batch at a time.

A lingering pull of one message (one request every `IDLE_PULL` while idle); each message says how
many more wait behind it (`num_pending`), so that the rest of the batch is asked for only when some
wait, in one request that the server answers at once (nats-py's `fetch` of several messages would
otherwise linger for the whole timeout when none does). NATS restarting, JetStream not ready yet or
the connection gone end a pull with nothing: the loop pulls again once the client has reconnected.
"""

from __future__ import annotations

import asyncio
import time

import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from .delivery import Verdict

log = structlog.get_logger(__name__)

IDLE_PULL = 5.0  # seconds a pull lingers for the next message while none comes
# Seconds a pull of messages said to be waiting may take: the server answers at once, but another
# replica may have taken them meanwhile (then the pull lingers this long for nothing).
WAITING_PULL = 0.1
PAUSE_AFTER_ERROR = 0.5  # seconds before pulling again after a pull failed (not merely timed out)


class Pulls:
    def __init__(
        self, subscription: JetStreamContext.PullSubscription, batch: int, batch_wait: float
    ) -> None:
        self.subscription = subscription
        self.batch = batch
        self.batch_wait = batch_wait  # seconds to wait for more before a batch starts
        self._waiting = 0  # messages waiting behind the last one pulled, when it was delivered

    async def next(self) -> list[Msg]:
        """The next messages in hand; none when the pull ended without any."""
        messages: list[Msg] = []
        if self._waiting:
            messages = await self._fetch(min(self.batch, self._waiting), WAITING_PULL)
        if not messages:
            messages = await self._fetch(1, IDLE_PULL)
        while messages and len(messages) < self.batch and (waiting := _behind(messages[-1])):
            more = await self._fetch(min(self.batch - len(messages), waiting), WAITING_PULL)
            if not more:
                break
            messages += more
        if messages and self.batch_wait:
            deadline = time.monotonic() + self.batch_wait
            while len(messages) < self.batch and (left := deadline - time.monotonic()) > 0.001:
                messages += await self._fetch(self.batch - len(messages), left)
        self._waiting = _behind(messages[-1]) if messages else 0
        return messages

    async def _fetch(self, batch: int, timeout: float) -> list[Msg]:
        try:
            return await self.subscription.fetch(batch=batch, timeout=timeout)
        except TimeoutError:  # nothing came (nats-py's timeouts are TimeoutErrors)
            return []
        except Exception as error:  # noqa: BLE001 - whatever ends a pull, the loop pulls again
            log.warning("consumer.pull_failed", error=repr(error))
            await asyncio.sleep(PAUSE_AFTER_ERROR)
            return []


def _behind(message: Msg) -> int:
    return message.metadata.num_pending


async def settle(message: Msg, verdict: Verdict) -> None:
    """Ack or nak (with its delay) one message. Both are publishes: one that fails (NATS gone) leaves
    the message to be delivered again after the ack wait, which the inbox makes harmless."""
    try:
        if verdict.ack:
            await message.ack()
        else:
            await message.nak(delay=verdict.delay)
    except Exception as error:  # noqa: BLE001 - one message's acknowledgement never stops the others
        log.warning("message.settle_failed", ack=verdict.ack, error=repr(error))
