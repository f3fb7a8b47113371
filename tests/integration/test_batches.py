"""Batched consumption on the real nats-server and PostgreSQL: messages in hand together are handled
in one transaction, and one failing handler costs the others nothing but a replay.

A probe is registered through the same EventConsumers a service uses, as the notifications service's
consumer of MatchProposed; each event it handles records one NotificationDelivered, so that what a
batch committed is seen on the NOTIFICATIONS stream, once per event."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from matching import app as matching_app
from matching.engine import MatchingEngine
from matching.handlers import MatchingHandlers
from matching.index import MatchIndex
from notifications.orm import ContactRow
from passerelle.contracts import CloudEvent, MatchProposed, NotificationDelivered, SkillOffered
from passerelle.messaging.dead_letters import DeadLetters
from passerelle.messaging.unit_of_work import SessionUnitOfWork
from passerelle.runtime.service import ServiceApp
from sqlalchemy.dialects.postgresql import insert

from ..harness import Databases, eventually, settings_for, start_platform, stream_messages
from .scenario import match_proposed, profile, publish, published_project, territory


@dataclass
class Probe:
    """Fails for ever on the culprit; records one event for every other, and which transaction ran it."""

    culprit: str = ""
    units: list[SessionUnitOfWork] = field(default_factory=list)  # kept, so that no id is reused

    async def __call__(self, event: CloudEvent[MatchProposed], uow: SessionUnitOfWork) -> None:
        self.units.append(uow)
        if event.data.member_id == self.culprit:
            raise ConnectionError("the mail relay is down for this one")
        uow.record(
            NotificationDelivered(
                notification_id=event.id,
                member_id=event.data.member_id,
                channel="inbox",
                kind="match_proposed",
                cause_event_id=event.id,
            )
        )
        await uow.commit()  # as the services' handlers do: in a batch, it ends only this handler's part


async def test_a_failing_handler_in_a_batch_is_dead_lettered_alone_and_the_others_commit_once(
    clean_nats: str, databases: Databases
) -> None:
    probe = Probe(culprit="m-7")
    settings = settings_for(clean_nats, consumer_batch=32, consumer_batch_wait=0.3)
    app = ServiceApp("notifications", settings, await databases.fresh("notifications"))
    app.consumers.on(MatchProposed)(probe)
    await app.start()
    try:
        events = [match_proposed(f"m-{n}") for n in range(20)]
        js = app.broker.connection.jetstream()
        for event in events:
            await js.publish(
                MatchProposed.subject,
                event.to_json(),
                headers={"Nats-Msg-Id": event.id, "content-type": "application/cloudevents+json"},
                stream="MATCHING",
            )

        [letter] = await eventually(lambda: DeadLetters(js).list())
        assert letter.consumer == "notifications__MatchProposed_v1"
        assert "the mail relay is down for this one" in letter.error
        assert letter.deliveries == app.settings.max_deliveries

        async def told() -> Counter[str]:
            messages = await stream_messages(js, "NOTIFICATIONS")
            found = Counter(json.loads(message.data)["data"]["notification_id"] for message in messages)
            return found if len(found) >= 19 else Counter()

        delivered = await eventually(told)
        wanted = {event.id for event in events if event.data.member_id != "m-7"}
        assert set(delivered) == wanted and set(delivered.values()) == {1}  # once each, the culprit never
        assert max(Counter(map(id, probe.units)).values()) > 1  # several events shared one transaction
    finally:
        await app.stop()


@dataclass
class Renamer:
    """Renames one contact with an upsert, which bypasses the session's objects (as the read models'
    upserts do), then reads it back through the session, as a handler reading what it just wrote; an
    after-commit callback keeps the row it read (the session would otherwise forget it at once)."""

    seen: dict[str, str | None] = field(default_factory=dict)
    renamed: list[str] = field(default_factory=list)
    units: list[SessionUnitOfWork] = field(default_factory=list)

    async def __call__(self, event: CloudEvent[MatchProposed], uow: SessionUnitOfWork) -> None:
        self.units.append(uow)
        name = f"name of {event.data.member_id}"
        upsert = insert(ContactRow).values(member_id="shared", display_name=name, as_of=datetime.now(UTC))
        await uow.session.execute(
            upsert.on_conflict_do_update(index_elements=[ContactRow.member_id], set_={"display_name": name})
        )
        contact = await uow.session.get(ContactRow, "shared")
        assert contact is not None
        self.seen[name] = contact.display_name
        uow.on_commit(lambda: self.renamed.append(contact.member_id))
        await uow.commit()


async def test_each_handler_of_a_batch_reads_what_the_database_holds_not_what_an_earlier_one_loaded(
    clean_nats: str, databases: Databases
) -> None:
    renamer = Renamer()
    settings = settings_for(clean_nats, consumer_batch=32, consumer_batch_wait=0.3)
    app = ServiceApp("notifications", settings, await databases.fresh("notifications"))
    app.consumers.on(MatchProposed)(renamer)
    async with app.database.sessions() as session, session.begin():
        await session.execute(insert(ContactRow).values(member_id="shared", as_of=datetime.now(UTC)))
    await app.start()
    try:
        js = app.broker.connection.jetstream()
        for event in [match_proposed(f"m-{n}") for n in range(10)]:
            await js.publish(
                MatchProposed.subject,
                event.to_json(),
                headers={"Nats-Msg-Id": event.id, "content-type": "application/cloudevents+json"},
                stream="MATCHING",
            )

        async def all_seen() -> bool:
            return len(renamer.renamed) == 10

        await eventually(all_seen)
        assert all(seen == name for name, seen in renamer.seen.items()), renamer.seen
        assert max(Counter(map(id, renamer.units)).values()) > 1  # several events shared one transaction
    finally:
        await app.stop()


async def test_a_rolled_back_batch_of_matching_leaves_its_index_as_the_database_says_without_a_rebuild(
    clean_nats: str, databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six offers reach matching together; the handler of one fails once, after the index took it.
    The batch is undone in memory and replayed one offer at a time, and the index built once at
    start is then what a build from the database gives."""
    builds: list[MatchingEngine] = []

    class CountedEngine(MatchingEngine):
        async def _build(self) -> MatchIndex:
            builds.append(self)
            return await super()._build()

    failed: list[bool] = []
    offer_skill = MatchingHandlers.offer_skill

    async def fails_once(
        handlers: MatchingHandlers, offered: SkillOffered, as_of: datetime, uow: Any
    ) -> None:
        await offer_skill(handlers, offered, as_of, uow)  # the index took the offer
        if offered.member_id == "member-3" and not failed:
            failed.append(uow.held)
            raise ConnectionError("the database went away")

    monkeypatch.setattr(matching_app, "MatchingEngine", CountedEngine)
    monkeypatch.setattr(MatchingHandlers, "offer_skill", fails_once)
    platform = await start_platform(settings_for(clean_nats, consumer_batch_wait=0.3), databases)
    try:
        tafraout = await territory(platform)
        project = await published_project(platform, "amina", tafraout, "energy.solar_pv_design")
        members = [f"member-{n}" for n in range(6)]
        for member in members:
            await platform.call("POST", "/members", member, expect=201, json=profile(member, tafraout))
        for member in members:  # at once, straight onto the stream: they reach matching together
            offered = SkillOffered(
                member_id=member,
                offer_id=f"{member}-pv",
                skill="energy.solar_pv_design",
                level=4,
                modes=["remote"],
                languages=["fr"],
            )
            await publish(platform, offered)

        async def all_proposed() -> list[dict[str, Any]]:
            listed = await platform.call(
                "GET", "/matches", "op", "operator", params={"project_id": project["project_id"]}, expect=200
            )
            return listed if len(listed) == len(members) else []

        await eventually(all_proposed)
        assert failed == [True]  # it failed within a batch
        [engine] = builds  # built once, at start: never again
        fresh = MatchingEngine(engine.units, engine.taxonomy, engine.settings)
        await fresh.warm_up()
        async with engine.lock:
            assert engine.index is not None and fresh.index is not None
            assert engine.index.tops() == fresh.index.tops()
            assert engine.index.offers == fresh.index.offers
    finally:
        await platform.stop()
