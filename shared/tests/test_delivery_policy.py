"""The delivery policy's budgets, worked out from the settings (no I/O)."""

from __future__ import annotations

from passerelle.messaging.broker import make_broker
from passerelle.messaging.delivery import DeliveryPolicy
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


def test_the_delivery_ceiling_leaves_room_for_both_budgets_and_as_many_deliveries_without_outcome() -> None:
    policy = DeliveryPolicy([1.0, 5.0], wait_budget=60.0, wait_max_delay=10.0)
    waits_in_budget = 10  # 0.5 + 1 + 2 + 4 + 8 = 15.5, then 10 s each until 60 s: 5 more
    assert policy.max_waits == waits_in_budget
    assert policy.delivery_ceiling == 2 * policy.max_deliveries + waits_in_budget
