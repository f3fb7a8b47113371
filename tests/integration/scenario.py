"""Steps of the platform's main flow, shared by the integration tests."""

from __future__ import annotations

import uuid
from typing import Any

from passerelle.contracts import CloudEvent, EventData, MatchProposed, envelope, stream_of

from ..harness import Platform


def profile(name: str, territory_id: str, bond: str = "origin", **extra: Any) -> dict[str, Any]:
    return {
        "kind": "person",
        "display_name": name,
        "email": f"{name.lower().replace(' ', '.')}@example.org",
        "locale": "fr",
        "country_of_residence": "BE",
        "time_zone": "Europe/Brussels",
        "languages": ["fr"],
        "attachments": [{"territory_id": territory_id, "bond": bond}],
        **extra,
    }


async def territory(platform: Platform, name: str = "Tafraout") -> str:
    created = await platform.call(
        "POST",
        "/territories",
        "operator-1",
        "operator",
        expect=201,
        json={"name": name, "country": "MA", "level": "commune"},
    )
    return str(created["territory_id"])


async def name_manager(
    platform: Platform, territory_id: str, sub: str, role: str = "territory_manager"
) -> None:
    await platform.call(
        "POST",
        f"/territories/{territory_id}/managers",
        "operator-1",
        "operator",
        expect=201,
        json={"sub": sub, "role": role},
    )


async def published_project(
    platform: Platform, owner: str, territory_id: str, skill: str, mode: str = "remote"
) -> dict[str, Any]:
    """A project run by `owner` as a manager of the territory."""
    await name_manager(platform, territory_id, owner)
    project = await platform.call(
        "POST",
        "/projects",
        owner,
        expect=201,
        json={
            "territory_id": territory_id,
            "title": "Solar health post",
            "summary": "Power the health post.",
            "sector": "energy",
            "languages": ["fr"],
            "needs": [{"skill": skill, "min_level": 3, "mode": mode, "count": 1}],
        },
    )
    await platform.call("POST", f"/projects/{project['project_id']}/publish", owner, expect=200)
    return dict(project)


async def offer(
    platform: Platform, member_id: str, skill: str, level: int = 4, mode: str = "remote"
) -> dict[str, Any]:
    return dict(
        await platform.call(
            "POST",
            f"/members/{member_id}/offers",
            member_id,
            expect=201,
            json={"skill": skill, "level": level, "modes": [mode], "languages": ["fr"]},
        )
    )


async def publish(platform: Platform, data: EventData | CloudEvent[Any]) -> str:
    """An event straight onto its stream, as its owning service would publish it; returns its id.

    An envelope given again is stored again (under a fresh Nats-Msg-Id): a redelivery."""
    event = data if isinstance(data, CloudEvent) else envelope(data)
    headers = event.nats_headers()
    if isinstance(data, CloudEvent):
        headers["Nats-Msg-Id"] = str(uuid.uuid4())
    stream = stream_of(type(event.data)).name
    await platform.js.publish(event.data.subject, event.to_json(), stream=stream, headers=headers)
    return event.id


def match_proposed(member_id: str = "m1") -> CloudEvent[MatchProposed]:
    """A proposal of a match no service knows, for tests of the messaging itself."""
    return envelope(
        MatchProposed(
            match_id=str(uuid.uuid4()),
            project_id="p1",
            need_id="n1",
            offer_id="o1",
            member_id=member_id,
            score=0.8,
            reasons=["skill_exact"],
        )
    )
