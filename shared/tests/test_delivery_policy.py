"""The delivery policy's budgets, worked out from the settings (no I/O)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

from faststream.exceptions import AckMessage, NackMessage
from passerelle.errors import NotYetKnown
from passerelle.messaging.broker import make_broker
from passerelle.messaging.delivery import ACK, DeliveryPolicy, InvalidEvent, Verdict
from passerelle.settings import PlatformSettings


def test_by_default_an_event_may_wait_five_ack_waits_for_what_it_refers_to() -> None:
    _, policy = make_broker(PlatformSettings(consumer_ack_wait=60.0), "notifications")
    assert policy.wait_budget == 300.0
    _, configured = make_broker(PlatformSettings(not_yet_known_wait=900.0), "notifications")
    assert configured.wait_budget == 900.0


def test_the_waits_grow_from_half_a_second_and_stop_at_the_longest_delay() -> None:
    policy = DeliveryPolicy([1.0, 5.0], wait_budget=60.0, wait_max_delay=10.0)
    assert [policy.wait_delay(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert policy.wait_delay(10_000) == 10.0


def test_the_servers_delivery_count_stops_a_message_only_far_beyond_both_budgets() -> None:
    policy = DeliveryPolicy([1.0, 5.0], wait_budget=60.0, wait_max_delay=10.0)
    waits_in_budget = 10  # 0.5 + 1 + 2 + 4 + 8 = 15.5, then 10 s each until 60 s: 5 more
    assert policy.max_waits == waits_in_budget
    assert policy.delivery_ceiling == 4 * (policy.max_deliveries + waits_in_budget)


class _Letters:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: Any, *, consumer: str, deliveries: int, error: str) -> None:
        self.sent.append(error)


def _delivery(num_delivered: int) -> Any:
    metadata = SimpleNamespace(num_delivered=num_delivered, consumer="c", sequence=SimpleNamespace(stream=1))
    return SimpleNamespace(raw_message=SimpleNamespace(metadata=metadata))


async def _deliver(policy: DeliveryPolicy, num_delivered: int, handler: Any) -> type[Exception] | None:
    """What the delivery ends in: AckMessage (the DLQ), NackMessage (a retry), None (handled)."""
    scope = policy(None, context=None)
    try:
        await scope.consume_scope(handler, _delivery(num_delivered))
    except (AckMessage, NackMessage) as outcome:
        return type(outcome)
    return None


async def test_a_message_that_waited_before_a_restart_gets_a_whole_wait_budget_after_it() -> None:
    letters = _Letters()
    restarted = DeliveryPolicy([1.0, 5.0], cast(Any, letters), wait_budget=300.0)

    async def not_yet_known(_: Any) -> None:
        raise NotYetKnown("project p-1")

    # 45 deliveries counted by the server before the restart: more than both budgets of one process.
    outcomes = [await _deliver(restarted, 45 + n, not_yet_known) for n in range(restarted.max_waits)]
    assert outcomes == [NackMessage] * restarted.max_waits
    assert letters.sent == []


async def test_a_message_whose_handler_never_returns_goes_to_the_dlq_after_as_many_tries_as_failing() -> None:
    letters = _Letters()
    policy = DeliveryPolicy([1.0, 5.0], cast(Any, letters), wait_budget=60.0)
    hanging = asyncio.Event()

    async def hangs(_: Any) -> None:
        await hanging.wait()

    stuck = [asyncio.create_task(_deliver(policy, n, hangs)) for n in range(1, policy.max_deliveries + 1)]
    await asyncio.sleep(0)
    assert await _deliver(policy, policy.max_deliveries + 1, hangs) is AckMessage
    assert letters.sent == [f"{policy.max_deliveries} deliveries without an outcome"]
    hanging.set()
    await asyncio.gather(*stuck)


def _message(num_delivered: int) -> Any:
    """A JetStream message as the consumers' pull loop holds it: only its metadata is read."""
    return _delivery(num_delivered).raw_message


async def _verdict(policy: DeliveryPolicy, num_delivered: int, error: Exception | None) -> Verdict:
    delivery = policy.delivery(_message(num_delivered))
    assert await delivery.admit() is None
    return await delivery.end(error)


async def test_a_failing_delivery_is_nakked_with_each_retry_delay_then_dead_lettered_with_its_reason() -> (
    None
):
    letters = _Letters()
    policy = DeliveryPolicy([1.0, 5.0], cast(Any, letters), wait_budget=60.0)
    failure = ConnectionError("the mail relay is down")

    verdicts = [await _verdict(policy, n, failure) for n in range(1, policy.max_deliveries + 1)]
    assert verdicts == [Verdict(ack=False, delay=1.0), Verdict(ack=False, delay=5.0), ACK]
    assert letters.sent == ["ConnectionError: the mail relay is down"]


async def test_a_delivery_that_waits_for_what_it_refers_to_is_nakked_with_growing_delays_and_no_failure() -> (
    None
):
    letters = _Letters()
    policy = DeliveryPolicy([1.0, 5.0], cast(Any, letters), wait_budget=60.0, wait_max_delay=10.0)

    waits = [await _verdict(policy, n, NotYetKnown("project p-1")) for n in range(1, 5)]
    assert [verdict.delay for verdict in waits] == [0.5, 1.0, 2.0, 4.0]
    assert await _verdict(policy, 5, ConnectionError("down")) == Verdict(ack=False, delay=1.0)  # its first
    assert await _verdict(policy, 6, None) == ACK
    assert letters.sent == []


async def test_a_delivery_whose_dlq_cannot_be_written_is_kept_for_a_later_try() -> None:
    class Unreachable:
        async def send(self, message: Any, *, consumer: str, deliveries: int, error: str) -> None:
            raise ConnectionError("no JetStream")

    policy = DeliveryPolicy([1.0, 5.0], cast(Any, Unreachable()), wait_budget=60.0)
    assert await _verdict(policy, 1, InvalidEvent("not JSON")) == Verdict(ack=False, delay=5.0)
