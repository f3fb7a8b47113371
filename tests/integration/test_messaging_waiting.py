"""An event that refers to what has not arrived yet waits on its own budget, on the real servers.

After a crash, what an event depends on may come back only once the consumer's ack wait has passed:
the wait (NotYetKnown) must outlast that, and neither it nor redeliveries without an outcome may
spend the failure budget. The test settings give a failure budget of 1.4 s (0.2 + 0.4 + 0.8).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import nats
import pytest
from passerelle.contracts import CloudEvent, MatchProposed
from passerelle.errors import NotYetKnown
from passerelle.messaging.topology import Subscription, TopologySettings
from passerelle.messaging.unit_of_work import SessionUnitOfWork
from passerelle.runtime.service import ServiceApp

from ..harness import Databases, eventually, reset_streams, settings_for
from .scenario import match_proposed
from .test_delivery import dead_letters, publish

FAILURE_BUDGET = sum(settings_for("nats://unused").retry_delays)


@dataclass
class Dependent:
    """A handler that needs a member's profile, which comes when the test says so."""

    known: bool = False
    failures_left: int = 0
    waits: int = 0
    handled: list[str] = field(default_factory=list)

    async def __call__(self, event: CloudEvent[MatchProposed], uow: SessionUnitOfWork) -> None:
        if not self.known:
            self.waits += 1
            raise NotYetKnown(f"waiting for the profile of member {event.data.member_id}")
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("the mail relay is down")
        self.handled.append(event.id)


async def _start(
    nats_url: str, databases: Databases, dependent: Dependent, wait: float, max_delay: float = 0.5
) -> ServiceApp:
    settings = settings_for(nats_url, not_yet_known_wait=wait, not_yet_known_max_delay=max_delay)
    app = ServiceApp("notifications", settings, await databases.fresh("notifications"))
    app.consumers.on(MatchProposed)(dependent)
    await app.start()
    return app


@pytest.fixture
async def waiting(clean_nats: str, databases: Databases) -> AsyncIterator[tuple[ServiceApp, Dependent]]:
    dependent = Dependent()
    app = await _start(clean_nats, databases, dependent, wait=30.0)
    try:
        yield app, dependent
    finally:
        await app.stop()


async def test_an_event_whose_dependency_comes_after_the_whole_failure_budget_is_handled(waiting) -> None:
    app, dependent = waiting
    event = match_proposed()
    await publish(app, event.to_json(), event.id)

    # Longer than every failure retry together, and more deliveries than the failure budget allows.
    await asyncio.sleep(FAILURE_BUDGET + 1.0)
    await eventually(lambda: asyncio.sleep(0, dependent.waits > app.settings.max_deliveries))
    dependent.known = True  # the profile arrives

    await eventually(lambda: asyncio.sleep(0, dependent.handled))
    assert dependent.handled == [event.id]
    assert await dead_letters(app) == []


async def test_an_event_whose_dependency_never_comes_goes_to_the_dlq_with_the_reason_after_its_wait(
    clean_nats: str, databases: Databases
) -> None:
    dependent = Dependent()
    # Short redelivery delays: many deliveries fit in the wait even on a loaded machine.
    app = await _start(clean_nats, databases, dependent, wait=FAILURE_BUDGET + 2.0, max_delay=0.1)
    try:
        event = match_proposed()
        await publish(app, event.to_json(), event.id)

        [letter] = await eventually(lambda: dead_letters(app))
        assert letter.error.startswith("NotYetKnown: waiting for the profile of member m1"), letter.error
        assert letter.deliveries > app.settings.max_deliveries  # it waited beyond the failure budget
        assert json.loads(letter.payload)["id"] == event.id
        assert dependent.handled == []
    finally:
        await app.stop()


async def test_deliveries_that_ended_without_an_outcome_spend_neither_the_wait_nor_the_failure_budget(
    nats_url: str, databases: Databases
) -> None:
    # A short ack wait, so that deliveries taken by a process that then "died" come back quickly.
    await reset_streams(nats_url, TopologySettings(ack_wait=1.0))
    durable = Subscription("notifications", MatchProposed)
    observer = await nats.connect(nats_url)
    try:
        event = match_proposed()
        await observer.jetstream().publish(
            MatchProposed.subject, event.to_json(), headers=event.nats_headers(), stream="MATCHING"
        )
        crashed = await observer.jetstream().pull_subscribe_bind(durable.durable, durable.stream.name)
        for delivery in (1, 2, 3):  # three processes took it and died before any outcome
            [taken] = await crashed.fetch(1, timeout=5)
            assert taken.metadata.num_delivered == delivery
        await crashed.unsubscribe()

        # The next process waits for the profile a while, then fails as often as the budget allows.
        dependent = Dependent(failures_left=len(settings_for(nats_url).retry_delays))
        app = await _start(nats_url, databases, dependent, wait=30.0)
        try:
            await eventually(lambda: asyncio.sleep(0, dependent.waits >= 2))
            dependent.known = True
            await eventually(lambda: asyncio.sleep(0, dependent.handled))
            assert dependent.handled == [event.id]
            assert await dead_letters(app) == []
        finally:
            await app.stop()
    finally:
        await observer.close()
        await reset_streams(nats_url)
