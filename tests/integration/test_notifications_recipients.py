"""Who is told, and who may read, on the real NATS and PostgreSQL: an unknown pledger does not
silence a goal, `erased` is nobody, an erased person keeps no right, and concurrent saves of
preferences take turns."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from passerelle.contracts import (
    ERASED_OWNER,
    FundingGoalReached,
    MatchAccepted,
    MemberErased,
    MemberProfileUpdated,
    MemberRegistered,
)

from ..harness import Databases, eventually
from .scenario import publish
from .test_notifications import World, member, pledge, project
from .test_notifications_hardening import running


@pytest.fixture
async def world(clean_nats: str, databases: Databases, tmp_path: Path) -> AsyncIterator[World]:
    async with running(clean_nats, databases, tmp_path) as world:
        yield world


async def test_the_goal_reaches_every_known_pledger_at_once_and_a_late_one_when_their_profile_comes(
    world: World,
) -> None:
    for known in (member("amina", "Amina", "en"), member("leila", "Leila", "fr")):
        await publish(world.platform, known)
    await publish(world.platform, project())
    await publish(world.platform, pledge("pl-1", "leila", "300.00"))
    await publish(world.platform, pledge("pl-2", "ghost", "200.00"))  # never heard of here
    await publish(world.platform, pledge("pl-3", "sara", "500.00"))  # her profile comes later
    await publish(world.platform, FundingGoalReached(project_id="p-health", total="1000.00", currency="EUR"))

    for told in ("amina", "leila"):
        [goal] = await world.told(told, "funding_goal_reached")
        assert "1000.00 EUR" in goal["body"]
    await eventually(lambda: world.platform.drained("PROJECTS", "notifications__FundingGoalReached_v1"))
    await publish(world.platform, member("sara", "Sara", "fr"))
    [late] = await world.told("sara", "funding_goal_reached")
    assert late["title"] == "Solar health post est entièrement financé"  # in her language, now known

    waiting = await world.sql("SELECT member_id, kind FROM waiting_for_profiles")
    assert [tuple(row) for row in waiting] == [("ghost", "funding_goal_reached")]  # kept, not dropped
    assert [e for e in await world.platform.events("DLQ")] == []
    await publish(world.platform, MemberErased(member_id="ghost"))
    await eventually(lambda: world.platform.drained("MEMBERS", "notifications__MemberErased_v1"))
    assert await world.sql("SELECT 1 FROM waiting_for_profiles") == []


async def test_a_recipient_who_cannot_be_told_is_reported_failed_and_the_others_are_told(
    world: World,
) -> None:
    for known in ("amina", "leila", "omar"):
        await publish(world.platform, member(known, known.title(), "fr"))
        await world.told(known, "welcome")
    await world.platform.call(
        "PUT", "/notification-preferences/leila", "leila", json={"digest": "daily"}, expect=200
    )
    # An hour no day has, stored by an older version: her digest's time cannot be worked out.
    await world.sql("UPDATE preferences SET digest_hour = 99 WHERE member_id = 'leila'")
    await publish(world.platform, project())
    await publish(world.platform, pledge("pl-1", "leila", "400.00"))
    await publish(world.platform, pledge("pl-2", "omar", "600.00"))
    cause = await publish(
        world.platform, FundingGoalReached(project_id="p-health", total="1000.00", currency="EUR")
    )

    for told in ("amina", "omar"):
        await world.told(told, "funding_goal_reached")
    [failed] = [
        event
        for event in await world.platform.published("NOTIFICATIONS", "NotificationFailed")
        if event["data"]["cause_event_id"] == cause
    ]
    assert failed["data"]["member_id"] == "leila" and "ValueError" in failed["data"]["error"]
    await eventually(lambda: world.platform.drained("PROJECTS", "notifications__FundingGoalReached_v1"))
    assert [e for e in await world.platform.events("DLQ")] == []


async def test_the_erased_owner_marker_is_nobody_even_for_an_identity_that_claims_it(world: World) -> None:
    # Someone registered under the marker (another service lets it through, or an old event does).
    await publish(world.platform, member(ERASED_OWNER, "Mallory", "en"))
    await publish(world.platform, member("omar", "Omar", "fr"))
    await publish(world.platform, member("fatima", "Fatima", "fr"))
    await publish(world.platform, project(owner=ERASED_OWNER))  # its owner was erased
    await publish(world.platform, pledge("pl-1", "omar", "250.00"))
    await publish(
        world.platform,
        MatchAccepted(match_id="m-1", project_id="p-health", need_id="n-solar", member_id="fatima"),
    )
    for stream, durable in (
        ("MEMBERS", "notifications__MemberRegistered_v1"),
        ("PROJECTS", "notifications__PledgeMade_v1"),
        ("MATCHING", "notifications__MatchAccepted_v1"),
    ):
        await eventually(functools.partial(world.platform.drained, stream, durable))
    await world.told("omar", "welcome")

    assert await world.sql("SELECT kind FROM notifications WHERE member_id = $1", ERASED_OWNER) == []
    assert await world.sql("SELECT 1 FROM contacts WHERE member_id = $1", ERASED_OWNER) == []
    # Signed by hand: the development issuer refuses the marker as a subject, and so do tokens (401);
    # notifications refuses it on its own too (403) should a token ever carry it.
    secret = world.platform.settings.jwt_secret
    assert secret is not None
    claims = {"sub": ERASED_OWNER, "roles": ["member"], "exp": 4_000_000_000}
    marker_token = jwt.encode(claims, secret.get_secret_value(), algorithm="HS256")
    as_marker = {"Authorization": f"Bearer {marker_token}"}
    for method, path in (
        ("GET", "/notifications"),
        ("POST", "/notifications/read"),
        ("GET", f"/notification-preferences/{ERASED_OWNER}"),
    ):
        response = await world.platform.http.request(
            method, path, headers=as_marker, params={"member_id": ERASED_OWNER}
        )
        assert response.status_code in (401, 403), f"{method} {path}: {response.status_code}"
    assert [e for e in await world.platform.events("DLQ")] == []


def association(managers: list[str], **changes: Any) -> dict[str, Any]:
    return {
        "member_id": "assoc-tafraout",
        "kind": "association",
        "display_name": "Tafraout Solidarité",
        "email": "contact@tafraout.example.org",
        "locale": "fr",
        "country_of_residence": "BE",
        "time_zone": "Europe/Brussels",
        "languages": ["fr"],
        "attachments": [{"territory_id": "tafraout", "bond": "origin"}],
        "managers": managers,
        **changes,
    }


async def test_an_erased_manager_no_longer_reads_or_sets_the_associations_notifications(world: World) -> None:
    await publish(world.platform, member("karim", "Karim", "fr"))
    await publish(world.platform, member("nadia", "Nadia", "fr"))
    stale = MemberProfileUpdated(**association(["karim", "nadia"], display_name="Tafraout Solidarité asbl"))
    await publish(world.platform, MemberRegistered(**association(["karim", "nadia"])))
    await world.told("assoc-tafraout", "welcome")
    inbox = "/notifications"
    preferences = "/notification-preferences/assoc-tafraout"
    await world.platform.call("GET", inbox, "karim", params={"member_id": "assoc-tafraout"}, expect=200)
    await world.platform.call("PUT", preferences, "karim", json={"digest": "daily"}, expect=200)

    await publish(world.platform, MemberErased(member_id="karim"))
    await eventually(lambda: world.platform.drained("MEMBERS", "notifications__MemberErased_v1"))
    managers = await world.sql("SELECT managers FROM contacts WHERE member_id = 'assoc-tafraout'")
    assert [row["managers"] for row in managers] == ['["nadia"]']
    # A snapshot of the association written before the erasure, arriving after it, names him still.
    await publish(world.platform, stale)
    await eventually(lambda: world.platform.drained("MEMBERS", "notifications__MemberProfileUpdated_v1"))

    await world.platform.call("GET", inbox, "karim", params={"member_id": "assoc-tafraout"}, expect=403)
    await world.platform.call("GET", preferences, "karim", expect=403)
    await world.platform.call("PUT", preferences, "karim", json={}, expect=403)
    await world.platform.call(
        "POST", f"{inbox}/read", "karim", params={"member_id": "assoc-tafraout"}, expect=403
    )
    await world.platform.call("GET", inbox, "nadia", params={"member_id": "assoc-tafraout"}, expect=200)
    managers = await world.sql("SELECT managers FROM contacts WHERE member_id = 'assoc-tafraout'")
    assert [row["managers"] for row in managers] == ['["nadia"]']


async def test_concurrent_saves_of_preferences_take_turns_and_the_last_one_is_what_stays(
    world: World,
) -> None:
    await publish(world.platform, member("hana", "Hana", "fr"))
    await world.told("hana", "welcome")
    path = "/notification-preferences/hana"

    async def save(hour: int) -> Any:
        wanted = {"digest": "daily", "digest_hour": hour, "webhook_url": world.webhooks.url}
        return await world.platform.http.put(
            path, json={**wanted, "rotate_webhook_secret": True}, headers=world.platform.as_("hana")
        )

    for _ in range(2):  # the first saves (no preferences yet), then saves over saved ones
        answers = await asyncio.gather(*(save(hour) for hour in range(8)))
        assert [answer.status_code for answer in answers] == [200] * 8
        saved = await world.platform.call("GET", path, "hana", expect=200)
        assert saved in [answer.json() for answer in answers]  # one of them, whole
