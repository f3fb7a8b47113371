"""Delivery guarantees of the messaging kit, on the real nats-server and PostgreSQL.

A probe handler is registered through the same EventConsumers a service uses, as the notifications
service's consumer of MatchProposed, so the durable, retries and DLQ are the production ones.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from passerelle.contracts import CloudEvent, MatchProposed, envelope
from passerelle.messaging import dead_letters as dlq
from passerelle.messaging.dead_letters import DeadLetters
from passerelle.messaging.unit_of_work import SessionUnitOfWork
from passerelle.runtime.service import ServiceApp

from ..harness import Databases, Platform, eventually, settings_for, stream_messages
from .scenario import match_proposed, name_manager, profile, territory


@dataclass
class Probe:
    """A handler that fails as often as told, and remembers when it was called."""

    failures_left: int = 0
    attempts: list[float] = field(default_factory=list)
    handled: list[str] = field(default_factory=list)

    async def __call__(self, event: CloudEvent[MatchProposed], uow: SessionUnitOfWork) -> None:
        self.attempts.append(time.monotonic())
        if self.failures_left != 0:
            self.failures_left -= 1
            raise ConnectionError("the mail relay is down")
        self.handled.append(event.id)


@pytest.fixture
async def probe_service(clean_nats: str, databases: Databases) -> AsyncIterator[tuple[ServiceApp, Probe]]:
    probe = Probe()
    app = ServiceApp("notifications", settings_for(clean_nats), await databases.fresh("notifications"))
    app.consumers.on(MatchProposed)(probe)
    await app.start()
    try:
        yield app, probe
    finally:
        await app.stop()


async def publish(app: ServiceApp, body: bytes, msg_id: str | None = None) -> None:
    headers = {"Nats-Msg-Id": msg_id or str(uuid.uuid4()), "content-type": "application/cloudevents+json"}
    await app.broker.connection.jetstream().publish(
        MatchProposed.subject, body, headers=headers, stream="MATCHING"
    )


async def dead_letters(app: ServiceApp) -> list[dlq.DeadLetter]:
    return await DeadLetters(app.broker.connection.jetstream()).list()


async def test_a_transient_failure_is_retried_after_increasing_delays_then_succeeds(probe_service) -> None:
    app, probe = probe_service
    probe.failures_left = 2
    event = match_proposed()
    await publish(app, event.to_json(), event.id)

    await eventually(lambda: asyncio.sleep(0, probe.handled))
    assert probe.handled == [event.id]
    assert len(probe.attempts) == 3
    first_wait, second_wait = probe.attempts[1] - probe.attempts[0], probe.attempts[2] - probe.attempts[1]
    delays = app.settings.retry_delays
    assert first_wait >= delays[0] * 0.9
    assert second_wait >= delays[1] * 0.9
    assert await dead_letters(app) == []


async def test_a_permanent_failure_lands_in_the_dlq_after_the_last_try_and_can_be_replayed(
    probe_service,
) -> None:
    app, probe = probe_service
    probe.failures_left = -1  # fails forever
    event = match_proposed()
    await publish(app, event.to_json(), event.id)

    letters = await eventually(lambda: dead_letters(app))
    assert len(probe.attempts) == app.settings.max_deliveries
    [letter] = letters
    assert letter.original_subject == MatchProposed.subject
    assert letter.consumer == "notifications__MatchProposed_v1"
    assert letter.deliveries == app.settings.max_deliveries
    assert "ConnectionError: the mail relay is down" in letter.error
    assert json.loads(letter.payload)["id"] == event.id
    assert probe.handled == []

    probe.failures_left = 0  # the mail relay is back: the operator replays the letter
    await DeadLetters(app.broker.connection.jetstream()).replay(letter.sequence)
    await eventually(lambda: asyncio.sleep(0, probe.handled))
    assert probe.handled == [event.id]
    assert await dead_letters(app) == []


@pytest.mark.parametrize(
    ("description", "body"),
    [
        ("a score out of range", lambda e: e.to_json().replace(b'"score":0.8', b'"score":7')),
        ("a missing member_id", lambda e: e.to_json().replace(b'"member_id":"m1",', b"")),
        ("another event's type", lambda e: e.to_json().replace(b"MatchProposed", b"MatchDeclined")),
        ("a body that is not JSON", lambda e: b"\x00not json"),
    ],
)
async def test_an_event_that_breaks_the_contract_goes_to_the_dlq_at_once(
    probe_service, description, body
) -> None:
    app, probe = probe_service
    await publish(app, body(match_proposed()))

    [letter] = await eventually(lambda: dead_letters(app))
    assert letter.deliveries == 1, description
    assert letter.error.startswith("invalid event"), letter.error
    assert probe.attempts == []


async def test_the_same_event_delivered_twice_has_one_effect(platform: Platform) -> None:
    tafraout = await territory(platform)
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", tafraout))
    await platform.call("POST", "/members", "amina", expect=201, json=profile("Amina", tafraout))
    await name_manager(platform, tafraout, "amina")
    project = await platform.call(
        "POST",
        "/projects",
        "amina",
        expect=201,
        json={
            "territory_id": tafraout,
            "title": "Water for Tafraout",
            "summary": "A well.",
            "sector": "water",
            "funding": {"goal_amount": "5000", "currency": "EUR"},
        },
    )
    await platform.call("POST", f"/projects/{project['project_id']}/publish", "amina", expect=200)
    await eventually(lambda: platform.drained("PROJECTS", "notifications__ProjectPublished_v1"))
    await eventually(lambda: platform.drained("MEMBERS", "notifications__MemberRegistered_v1"))

    event = envelope(
        MatchProposed(
            match_id="m-1",
            project_id=project["project_id"],
            need_id="n-1",
            offer_id="o-1",
            member_id="fatima",
            score=0.9,
            reasons=["skill_exact"],
        )
    )
    for attempt in ("first", "second"):  # two Nats-Msg-Ids, so JetStream stores it twice
        await platform.js.publish(
            MatchProposed.subject,
            event.to_json(),
            stream="MATCHING",
            headers={"Nats-Msg-Id": f"{event.id}-{attempt}"},
        )
    await eventually(lambda: platform.drained("MATCHING", "notifications__MatchProposed_v1", delivered=2))

    inbox = await platform.call("GET", "/notifications", "fatima", params={"member_id": "fatima"}, expect=200)
    assert [n["cause_event_id"] for n in inbox if n["kind"] == "match_proposed"] == [event.id]

    async def channels_told() -> list[str]:
        events = await _notification_events(platform)
        told = sorted(e["data"]["channel"] for e in events if e["data"]["cause_event_id"] == event.id)
        return told if len(told) >= 2 else []

    assert await eventually(channels_told) == ["email", "inbox"]  # once per channel, not twice


async def _notification_events(platform: Platform) -> list[dict]:
    return [json.loads(m.data) for m in await stream_messages(platform.js, "NOTIFICATIONS")]
