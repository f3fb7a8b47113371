"""The inbox is pruned past the streams' retention, on the real servers: rows older than the max age
plus the margin go, recent ones stay and still keep a redelivered event from a second effect."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from passerelle.contracts import CloudEvent, MatchProposed
from passerelle.messaging.tables import inbox
from passerelle.messaging.unit_of_work import SessionUnitOfWork
from passerelle.runtime.service import ServiceApp
from sqlalchemy import insert, select

from ..harness import Databases, eventually, settings_for
from .scenario import match_proposed

THIRTY_DAYS = 30 * 24 * 3600.0
MATCHES = "notifications__MatchProposed_v1"


class Later:
    """A clock some days ahead of the real one: what the inbox looks like then."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


@pytest.fixture
async def notifications(clean_nats: str, databases: Databases) -> AsyncIterator[tuple[ServiceApp, list[str]]]:
    settings = settings_for(clean_nats, stream_max_age=THIRTY_DAYS, inbox_prune_margin=24 * 3600.0)
    service = ServiceApp("notifications", settings, await databases.fresh("notifications"))
    handled: list[str] = []

    @service.consumers.on(MatchProposed)
    async def remember(event: CloudEvent[MatchProposed], uow: SessionUnitOfWork) -> None:
        handled.append(event.id)

    await service.start()
    try:
        yield service, handled
    finally:
        await service.stop()


async def deliver(service: ServiceApp, event: CloudEvent[MatchProposed]) -> None:
    """Publish the event (a new message each time, as a replay or a republish would be) and wait
    until the consumer has acknowledged it."""
    js = service.broker.connection.jetstream()
    headers = {"Nats-Msg-Id": str(uuid.uuid4()), "content-type": "application/cloudevents+json"}
    sent = await js.publish(MatchProposed.subject, event.to_json(), headers=headers, stream="MATCHING")

    async def acknowledged() -> bool:
        info = await js.consumer_info("MATCHING", MATCHES)
        return info.ack_floor.stream_seq >= sent.seq and info.num_ack_pending == 0

    await eventually(acknowledged)


async def inbox_ids(service: ServiceApp) -> set[str]:
    async with service.database.engine.connect() as connection:
        return set((await connection.execute(select(inbox.c.event_id))).scalars())


async def test_rows_past_the_streams_retention_go_recent_ones_stay_and_still_deduplicate(
    notifications: tuple[ServiceApp, list[str]],
) -> None:
    service, handled = notifications
    recent = match_proposed()
    await deliver(service, recent)
    assert handled == [recent.id]
    long_ago = datetime.now(UTC) - timedelta(days=40)
    old_rows = [{"consumer": MATCHES, "event_id": f"old-{n}", "processed_at": long_ago} for n in range(5)]
    async with service.database.engine.begin() as connection:
        await connection.execute(insert(inbox), old_rows)

    pruning = service.inbox_pruning
    clock = pruning.clock = Later()
    pruning.batch = 2  # several batches
    clock.ahead = timedelta(days=30)  # the recent row is 30 days old: within 30 days + the margin

    assert await pruning.prune() == 5
    assert await inbox_ids(service) == {recent.id}
    assert await pruning.prune() == 0  # a second run, as after a restart, finds nothing more

    await deliver(service, recent)  # delivered again: still recognised
    assert handled == [recent.id]

    clock.ahead = timedelta(days=31, hours=1)  # now past the retention and the margin
    assert await pruning.prune() == 1
    assert await inbox_ids(service) == set()


async def test_with_streams_that_keep_events_for_ever_the_inbox_is_never_pruned(
    clean_nats: str, databases: Databases
) -> None:
    service = ServiceApp("members", settings_for(clean_nats), await databases.fresh("members"))
    try:
        async with service.database.engine.begin() as connection:
            await connection.execute(
                insert(inbox),
                [
                    {
                        "consumer": "members__x",
                        "event_id": "e1",
                        "processed_at": datetime(2020, 1, 1, tzinfo=UTC),
                    }
                ],
            )
        assert await service.inbox_pruning.prune() == 0
        assert await inbox_ids(service) == {"e1"}
    finally:
        await service.database.dispose()
