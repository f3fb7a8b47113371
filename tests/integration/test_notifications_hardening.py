"""Notifications against hostile data and receivers, on the real NATS and PostgreSQL: one bad value
or one slow receiver never holds anyone else's messages, and every message ends with an outcome."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from passerelle.contracts import FundingGoalReached, PledgeMade

from ..harness import Databases, eventually, settings_for, start_platform
from ..receivers import HostileReceiver, Mailbox, WebhookReceiver, smtp_server
from .scenario import publish
from .test_notifications import World, _emails_to, _places, member, pledge, project

# Every kind of line or paragraph break that str.splitlines() knows, and so e-mail headers refuse.
BREAKS = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"]


@contextlib.asynccontextmanager
async def running(
    clean_nats: str, databases: Databases, tmp_path: Path, **settings: Any
) -> AsyncIterator[World]:
    mailbox, webhooks = Mailbox(), WebhookReceiver()
    await webhooks.start()
    with smtp_server(mailbox) as smtp_url:
        platform = await start_platform(
            settings_for(
                clean_nats,
                smtp_url=smtp_url,
                mail_dir=tmp_path / "mail",
                webhook_allowed_networks=["127.0.0.1/32"],
                **settings,
            ),
            databases,
        )
        try:
            await _places(platform)
            yield World(platform, mailbox, webhooks)
        finally:
            await platform.stop()
            await webhooks.stop()


@pytest.fixture
async def world(clean_nats: str, databases: Databases, tmp_path: Path) -> AsyncIterator[World]:
    async with running(clean_nats, databases, tmp_path) as world:
        yield world


async def _webhook(world: World, member_id: str, url: str) -> None:
    await world.platform.call(
        "PUT", f"/notification-preferences/{member_id}", member_id, json={"webhook_url": url}, expect=200
    )


async def _failed(world: World, member_id: str, channel: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        entries = await world.log(member_id=member_id, channel=channel, status="failed")
        return entries[0] if entries else None

    return await eventually(found)


async def test_names_with_line_breaks_neither_break_their_emails_nor_hold_anyone_elses(world: World) -> None:
    poisoned = {f"poisoned-{n}": f"Fatima{brk}Bcc: victim@example.org" for n, brk in enumerate(BREAKS)}
    for member_id, name in poisoned.items():  # oldest first: they are at the head of the queue
        await _webhook(world, member_id, world.webhooks.url)
        await publish(world.platform, member(member_id, name, "en"))
    for member_id in ("awa", "omar"):
        await _webhook(world, member_id, world.webhooks.url)
        await publish(world.platform, member(member_id, member_id.title(), "en"))

    for member_id in ("awa", "omar"):
        [welcome] = await _emails_to(world, f"{member_id}@example.org")
        assert welcome["Subject"] == f"Welcome to Passerelle, {member_id.title()}"
    for member_id in poisoned:
        [welcome] = await _emails_to(world, f"{member_id}@example.org")
        # The header is one line: the name's break is a space, and no header was smuggled in.
        assert welcome["Subject"] == "Welcome to Passerelle, Fatima Bcc: victim@example.org"
        assert welcome["Bcc"] is None
    told = await eventually(lambda: _at_least(world.webhooks.requests, len(poisoned) + 2))
    assert {request.headers["x-passerelle-delivery"] for request in told}  # one call per member
    assert len(world.mailbox.messages) == len(poisoned) + 2


async def test_messages_that_fail_in_unforeseen_ways_end_as_notification_failed_and_others_go_out(
    world: World,
) -> None:
    broken = [f"broken-{n}" for n in range(6)]  # more than the dispatcher has workers
    for member_id in broken:
        await _webhook(world, member_id, world.webhooks.url)
    # A stored target that no longer parses (written by an older version, say) makes the sender
    # raise what no one foresaw, not a delivery error.
    await world.sql(
        "UPDATE preferences SET webhook_url = 'http://[::1/hook' WHERE member_id = ANY($1)", broken
    )
    for member_id in broken:
        await publish(world.platform, member(member_id, member_id, "en"))
    await _webhook(world, "awa", world.webhooks.url)
    await publish(world.platform, member("awa", "Awa", "en"))

    [call] = await eventually(lambda: _at_least(world.webhooks.requests, 1))
    assert call.headers["x-passerelle-delivery"]
    for member_id in broken:
        failed = await _failed(world, member_id, "webhook")
        assert failed["attempts"] == 3 and "ValueError" in failed["error"]
        await _emails_to(world, f"{member_id}@example.org")  # their e-mails went out all the same
    events = await world.platform.published("NOTIFICATIONS", "NotificationFailed", len(broken))
    assert sorted(e["data"]["member_id"] for e in events) == broken
    assert all("ValueError" in e["data"]["error"] for e in events)


async def test_messages_that_cannot_be_built_end_at_once_as_notification_failed_and_others_go_out(
    world: World,
) -> None:
    owners = [f"owner-{n}" for n in range(6)]  # more than the dispatcher has workers
    for owner in [*owners, "amina"]:
        await publish(world.platform, member(owner, owner, "en"))
        await _emails_to(world, f"{owner}@example.org")  # their welcome
    # An address stored by an older version, that no e-mail can be written to.
    await world.sql("UPDATE contacts SET email = '<' WHERE member_id = ANY($1)", owners)
    for owner in [*owners, "amina"]:
        await publish(world.platform, project(f"p-{owner}", owner=owner))
        await publish(
            world.platform,
            PledgeMade(
                pledge_id=f"pl-{owner}",
                project_id=f"p-{owner}",
                member_id="amina",
                amount="10.00",
                currency="EUR",
            ),
        )

    await _emails_to(world, "amina@example.org", 2)  # her welcome, then her pledge's news
    for owner in owners:
        failed = await _failed(world, owner, "email")
        assert failed["attempts"] == 1 and "could not be built" in failed["error"]  # no use retrying


async def test_webhook_receivers_that_trickle_or_flood_hold_neither_emails_nor_other_webhooks(
    clean_nats: str, databases: Databases, tmp_path: Path
) -> None:
    trickle, flood = HostileReceiver("trickle"), HostileReceiver("flood")
    await trickle.start()
    await flood.start()
    try:
        async with running(clean_nats, databases, tmp_path, webhook_timeout=1.0) as world:
            slow = [f"slow-{n}" for n in range(6)]  # more than the dispatcher has workers
            for member_id in slow:
                await _webhook(world, member_id, trickle.url)
            await _webhook(world, "flooded", flood.url)
            await _webhook(world, "awa", world.webhooks.url)
            for member_id in [*slow, "flooded", "awa", "omar"]:
                await publish(world.platform, member(member_id, member_id.title(), "en"))

            for member_id in [*slow, "flooded", "awa", "omar"]:
                await _emails_to(world, f"{member_id}@example.org")
            [call] = await eventually(lambda: _at_least(world.webhooks.requests, 1))
            assert call.headers["x-passerelle-delivery"]
            for member_id in slow:
                failed = await _failed(world, member_id, "webhook")
                assert failed["attempts"] == 3 and "no full answer within 1 s" in failed["error"]

            async def delivered() -> list[dict[str, Any]]:
                return await world.log(member_id="flooded", channel="webhook", status="delivered")

            await eventually(delivered)
            # The flood's answer was not read: only what the sockets' buffers hold ever left it.
            assert flood.written and max(flood.written) < 16 * 1024 * 1024
    finally:
        await trickle.stop()
        await flood.stop()


async def _at_least(items: list[Any], count: int) -> list[Any]:
    return items if len(items) >= count else []


async def test_one_webhook_target_gets_one_call_at_a_time_however_many_members_point_at_it(
    world: World,
) -> None:
    shared = WebhookReceiver(answer_after=0.3)
    await shared.start()
    try:
        members = [f"neighbour-{n}" for n in range(5)]  # more than the dispatcher has webhook workers
        for member_id in members:
            await _webhook(world, member_id, shared.url)
            await publish(world.platform, member(member_id, member_id.title(), "en"))

        await eventually(lambda: _at_least(shared.requests, len(members)))
        assert shared.most_at_once == 1
    finally:
        await shared.stop()


async def test_a_message_whose_last_outcome_was_never_recorded_ends_as_notification_failed(
    world: World,
) -> None:
    await world.platform.call(
        "PUT", "/notification-preferences/rania", "rania", json={"digest": "daily"}, expect=200
    )
    await publish(world.platform, member("rania", "Rania", "en"))
    [welcome] = await world.told("rania", "welcome")
    # Its tries were spent, and even the failure of the last one could not be recorded: its lease
    # has run out.
    await world.sql("UPDATE messages SET attempts = 4, due_at = now() WHERE member_id = 'rania'")

    failed = await _failed(world, "rania", "email")
    assert "no outcome was recorded" in failed["error"]
    [event] = [
        event
        for event in await world.platform.published("NOTIFICATIONS", "NotificationFailed")
        if event["data"]["member_id"] == "rania"
    ]
    assert (
        event["data"]["channel"] == "email" and event["data"]["cause_event_id"] == welcome["cause_event_id"]
    )


async def test_what_waits_for_a_profile_that_never_comes_ends_as_notification_failed(
    clean_nats: str, databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PASSERELLE_PROFILE_WAIT", "1")
    async with running(clean_nats, databases, tmp_path) as world:
        await publish(world.platform, member("amina", "Amina", "en"))
        await publish(world.platform, project())
        await publish(world.platform, pledge("pl-1", "ghost", "1000.00"))  # never heard of here
        cause = await publish(
            world.platform, FundingGoalReached(project_id="p-health", total="1000.00", currency="EUR")
        )
        await world.told("amina", "funding_goal_reached")

        [failed] = await world.platform.published("NOTIFICATIONS", "NotificationFailed")
        assert failed["data"]["member_id"] == "ghost" and failed["data"]["cause_event_id"] == cause
        assert "profile did not come within 1 s" in failed["data"]["error"]
        assert await world.sql("SELECT 1 FROM waiting_for_profiles") == []
