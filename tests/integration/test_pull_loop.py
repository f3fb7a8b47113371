"""The consumers' own pull loop on the real nats-server and PostgreSQL: each message of a pull gets its
own outcome, a NATS restart mid-pull loses nothing, unbatched consumers give each message its own
transaction, and a graceful stop commits and acknowledges the batch in hand.

The probes are registered through the same EventConsumers a service uses, as the notifications
service's consumer of MatchProposed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
from passerelle.contracts import CloudEvent, MatchProposed
from passerelle.embedded.nats import EmbeddedNats
from passerelle.embedded.ports import free_port
from passerelle.errors import NotYetKnown
from passerelle.messaging.dead_letters import DeadLetters
from passerelle.messaging.tables import inbox
from passerelle.messaging.topology import TopologySettings, provision
from passerelle.messaging.unit_of_work import SessionUnitOfWork
from passerelle.persistence.database import Database
from passerelle.runtime.service import ServiceApp, consumed_events
from sqlalchemy import func, select

from ..harness import Databases, eventually, settings_for, stream_messages
from .scenario import match_proposed
from .test_batches import Probe


async def _started(
    nats_url: str, url: str, handler: Probe, *, batched: bool = True, **settings: Any
) -> ServiceApp:
    """A service whose consumer of MatchProposed is `handler`, pulling up to 32 at once."""
    app = ServiceApp("notifications", settings_for(nats_url, consumer_batch=32, **settings), url)
    app.consumers.batched = batched
    app.consumers.on(MatchProposed)(handler)
    await app.start()
    return app


@contextlib.asynccontextmanager
async def _consuming(nats_url: str, url: str, handler: Probe, **options: Any) -> AsyncIterator[ServiceApp]:
    app = await _started(nats_url, url, handler, **options)
    try:
        yield app
    finally:
        await app.stop()


async def _publish(
    app: ServiceApp, events: list[CloudEvent[MatchProposed]], body: bytes | None = None
) -> None:
    js = app.broker.connection.jetstream()
    for event in events:
        await js.publish(
            MatchProposed.subject,
            body if body is not None else event.to_json(),
            headers={"Nats-Msg-Id": event.id, "content-type": "application/cloudevents+json"},
            stream="MATCHING",
        )


async def _told(app: ServiceApp, wanted: int) -> Counter[str]:
    """How many NotificationDelivered each handled event committed, once `wanted` events have some."""
    messages = await stream_messages(app.broker.connection.jetstream(), "NOTIFICATIONS")
    found = Counter(json.loads(message.data)["data"]["notification_id"] for message in messages)
    return found if len(found) >= wanted else Counter()


@dataclass
class Waiter(Probe):
    """The probe of test_batches, but the event of member `waiting_for` waits (NotYetKnown) until the
    test says its member is known."""

    waiting_for: str = ""
    known: bool = False
    waits: int = 0
    tries: list[tuple[str, int]] = field(default_factory=list)  # (member, unit of work) of each try

    async def __call__(self, event: CloudEvent[MatchProposed], uow: SessionUnitOfWork) -> None:
        self.tries.append((event.data.member_id, id(uow)))
        if event.data.member_id == self.waiting_for and not self.known:
            self.waits += 1
            raise NotYetKnown(f"the profile of {self.waiting_for}")
        await super().__call__(event, uow)


async def test_an_unreadable_event_one_that_waits_and_a_fine_one_pulled_together_each_get_their_own_outcome(
    clean_nats: str, databases: Databases
) -> None:
    waiter = Waiter(waiting_for="m-waits")
    url = await databases.fresh("notifications")
    async with _consuming(clean_nats, url, waiter, consumer_batch_wait=0.5) as app:
        unreadable, waits, fine = (
            match_proposed("m-unreadable"),
            match_proposed("m-waits"),
            match_proposed("m-fine"),
        )
        await _publish(app, [unreadable], body=b"\x00not json")
        await _publish(app, [fine, waits])

        [letter] = await eventually(lambda: DeadLetters(app.broker.connection.jetstream()).list())
        assert letter.deliveries == 1 and letter.error.startswith("invalid event"), letter
        assert await eventually(lambda: _told(app, 1)) == Counter({fine.id: 1})  # committed, not held up
        await eventually(lambda: asyncio.sleep(0, waiter.waits >= 2))  # retried with its waits

        waiter.known = True
        assert await eventually(lambda: _told(app, 2)) == Counter({fine.id: 1, waits.id: 1})
        # The two readable ones were first tried together, in one transaction (kept by the probe).
        first_try = dict(reversed(waiter.tries))
        assert first_try["m-waits"] == first_try["m-fine"]
        assert len(await DeadLetters(app.broker.connection.jetstream()).list()) == 1


async def test_a_nats_restart_while_the_consumer_pulls_loses_nothing_and_handles_each_event_once(
    databases: Databases,
) -> None:
    with tempfile.TemporaryDirectory(prefix="passerelle-pull-restart-") as store:
        server = EmbeddedNats(store_dir=Path(store), port=free_port())
        await server.start()
        connection = await nats.connect(server.url)
        topology = TopologySettings(ack_wait=settings_for(server.url).consumer_ack_wait)
        await provision(connection.jetstream(), topology, consumed_events())
        await connection.close()
        probe = Probe()
        url = await databases.fresh("notifications")
        try:
            async with _consuming(server.url, url, probe) as app:
                before = [match_proposed(f"m-{n}") for n in range(300)]
                after = [match_proposed(f"n-{n}") for n in range(100)]
                await _publish(app, before)
                await eventually(lambda: asyncio.sleep(0, len(probe.units) > 0))  # it is pulling them

                server.kill()  # abruptly, with batches in hand
                await asyncio.sleep(1.0)
                await server.start()  # same port, same JetStream store
                await eventually(lambda: asyncio.sleep(0, app.broker.connection.is_connected))
                await _publish(app, after)

                told = await eventually(lambda: _told(app, len(before) + len(after)), timeout=90)
                assert set(told) == {event.id for event in before + after}
                assert set(told.values()) == {1}  # each committed its effect once
                assert await DeadLetters(app.broker.connection.jetstream()).list() == []
        finally:
            await server.stop()


async def test_an_unbatched_consumer_handles_each_message_of_a_pull_in_its_own_transaction(
    clean_nats: str, databases: Databases
) -> None:
    probe = Probe()
    url = await databases.fresh("notifications")
    async with _consuming(clean_nats, url, probe, batched=False, consumer_batch_wait=0.5) as app:
        events = [match_proposed(f"m-{n}") for n in range(10)]
        await _publish(app, events)

        told = await eventually(lambda: _told(app, len(events)))
        assert set(told) == {event.id for event in events} and set(told.values()) == {1}
        assert len({id(uow) for uow in probe.units}) == len(events)  # one transaction each


@dataclass
class Held(Probe):
    """The probe of test_batches, whose handlers wait until the test lets them go."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0

    async def __call__(self, event: CloudEvent[MatchProposed], uow: SessionUnitOfWork) -> None:
        self.waiting += 1
        await self.gate.wait()
        await super().__call__(event, uow)


async def test_a_graceful_stop_lets_the_batch_in_hand_commit_and_acknowledges_every_message_of_it(
    clean_nats: str, databases: Databases
) -> None:
    held = Held()
    url = await databases.fresh("notifications")
    app = await _started(clean_nats, url, held, consumer_batch_wait=0.5)
    events = [match_proposed(f"m-{n}") for n in range(5)]
    await _publish(app, events)
    await eventually(lambda: asyncio.sleep(0, held.waiting))  # a batch is in hand, its handler waiting

    stopping = asyncio.create_task(app.stop())
    await eventually(lambda: asyncio.sleep(0, not any(s.running for s in app.broker.subscribers)))
    held.gate.set()
    await stopping

    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            claimed = (await connection.execute(select(func.count()).select_from(inbox))).scalar()
    finally:
        await database.dispose()
    observer = await nats.connect(clean_nats)
    try:
        info = await observer.jetstream().consumer_info("MATCHING", "notifications__MatchProposed_v1")
    finally:
        await observer.close()
    assert claimed == len(held.units) == len(events)  # the batch in hand (one pull: the batch wait) committed
    assert (info.num_ack_pending, info.num_pending) == (0, 0)  # and was acknowledged
