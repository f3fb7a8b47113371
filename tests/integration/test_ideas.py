"""Plans and ideas through the ideas service's HTTP API and the events it consumes, on the real NATS
and PostgreSQL: who may take part, the support breakdown, phases, moderation and promotion."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from passerelle.contracts import ProjectPublished

from ..harness import Platform, eventually
from .ideas_scenario import phases
from .scenario import name_manager, profile, publish, territory

TODAY = datetime.now(UTC).date()


@dataclass
class World:
    platform: Platform
    tafraout: str
    plan: dict[str, Any]

    async def idea(self, author: str = "fatima", **extra: Any) -> dict[str, Any]:
        body = {
            "territory_id": self.tafraout,
            "kind": "idea",
            "title": "Solar pumps for the palm grove",
            "body": "Pump the wells with the sun, not with diesel.",
            "language": "fr",
            "plan_id": self.plan["plan_id"],
            "axis_id": self.plan["axes"][0]["axis_id"],
            **extra,
        }
        return dict(await self.platform.call("POST", "/ideas", author, expect=201, json=body))


async def inbox(platform: Platform, member_id: str, kind: str) -> list[dict[str, Any]]:
    found = await platform.call(
        "GET", "/notifications", member_id, params={"member_id": member_id}, expect=200
    )
    return [notification for notification in found if notification["kind"] == kind]


async def told_of(platform: Platform, member_id: str, kind: str) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]]:
        return await inbox(platform, member_id, kind)

    return await eventually(found)


async def known_to_ideas(platform: Platform, stream: str, event: str, count: int) -> None:
    await eventually(lambda: platform.drained(stream, f"ideas__{event}_v1", count))


@pytest.fixture
async def world(platform: Platform) -> World:
    """Tafraout (Morocco) and its manager Omar; Fatima born there living in Brussels, Karim of the
    heart in Lyon, Aicha of a Tafraout family living there, Paul attached only to Kayes (Mali)."""
    tafraout = await territory(platform)
    kayes = await platform.call(
        "POST", "/territories", "operator-1", "operator", expect=201,
        json={"name": "Kayes", "country": "ML", "level": "commune"},
    )  # fmt: skip
    await name_manager(platform, tafraout, "omar")
    people = [
        ("fatima", profile("Fatima", tafraout, "origin")),
        ("karim", profile("Karim", tafraout, "heart", country_of_residence="FR", time_zone="Europe/Paris")),
        (
            "aicha",
            profile(
                "Aicha",
                tafraout,
                "family",
                country_of_residence="MA",
                time_zone="Africa/Casablanca",
                locale="ar",
            ),
        ),
        ("paul", profile("Paul", kayes["territory_id"], "heart")),
    ]
    for sub, body in people:
        await platform.call("POST", "/members", sub, expect=201, json=body)
    await known_to_ideas(platform, "MEMBERS", "MemberRegistered", len(people))
    await known_to_ideas(platform, "PROJECTS", "TerritoryManagerNamed", 1)
    await known_to_ideas(platform, "PROJECTS", "TerritoryRegistered", 2)
    plan = await platform.call(
        "POST", "/plans", "omar", expect=201,
        json={
            "territory_id": tafraout,
            "title": "Plan communal de développement 2027-2032",
            "period_from": "2027-01-01",
            "period_to": "2032-12-31",
            "axes": [{"title": "Water and energy", "sectors": ["energy", "water"]}, {"title": "Health"}],
            "phases": phases(TODAY),
        },
    )  # fmt: skip
    plan = await platform.call("POST", f"/plans/{plan['plan_id']}/publish", "omar", expect=200)
    return World(platform, tafraout, plan)


async def test_three_supporters_give_the_breakdown_by_bond_and_residence_and_the_ranking(
    world: World,
) -> None:
    platform = world.platform
    pumps = await world.idea()
    clinic = await world.idea("aicha", title="A night nurse", axis_id=world.plan["axes"][1]["axis_id"])
    path = f"/ideas/{pumps['idea_id']}"
    for sub in ("fatima", "karim", "aicha"):
        await platform.call("POST", f"{path}/supports", sub, expect=201)
    await platform.call("POST", f"/ideas/{clinic['idea_id']}/supports", "karim", expect=201)

    supports = (await platform.call("GET", path, "paul", expect=200))["supports"]
    assert supports == {
        "total": 3,
        "by_bond": {"origin": 1, "family": 1, "heart": 1},
        "by_residence": {"in_country": 1, "abroad": 2},
    }
    ranking = await platform.call("GET", f"/plans/{world.plan['plan_id']}/priorities", "paul", expect=200)
    assert [
        [(idea["title"], idea["supports"]["total"]) for idea in axis["ideas"]] for axis in ranking["axes"]
    ] == [
        [("Solar pumps for the palm grove", 3)],
        [("A night nurse", 1)],
    ]
    by_support = await platform.call(
        "GET", "/ideas", "paul", params={"plan_id": world.plan["plan_id"], "sort": "supports"}, expect=200
    )
    assert [idea["title"] for idea in by_support] == ["Solar pumps for the palm grove", "A night nurse"]
    events = await platform.published("IDEAS", "IdeaSupported", count=4)
    assert {(e["data"]["member_id"], e["data"]["bond"], e["data"]["in_country"]) for e in events} >= {
        ("fatima", "origin", False),
        ("karim", "heart", False),
        ("aicha", "family", True),
    }


async def test_a_second_support_is_a_conflict_and_an_unattached_members_is_forbidden(world: World) -> None:
    platform = world.platform
    path = f"/ideas/{(await world.idea())['idea_id']}"
    await platform.call("POST", f"{path}/supports", "karim", expect=201)
    again = await platform.call("POST", f"{path}/supports", "karim", expect=409)
    assert "supports this idea already" in again["detail"]
    outsider = await platform.call("POST", f"{path}/supports", "paul", expect=403)
    assert "attached to none of them" in outsider["detail"]
    await platform.call("POST", "/ideas", "paul", expect=403, json={
        "territory_id": world.tafraout, "title": "Not mine", "body": "From Kayes.", "language": "fr",
    })  # fmt: skip
    assert (await platform.call("GET", path, "paul", expect=200))["supports"]["total"] == 1


async def test_support_and_new_ideas_outside_their_phases_are_conflicts_naming_the_dates(
    world: World,
) -> None:
    platform = world.platform
    path = f"/ideas/{(await world.idea())['idea_id']}"
    plan_path = f"/plans/{world.plan['plan_id']}"
    news = {"territory_news": [world.tafraout]}
    await platform.call("PUT", "/notification-preferences/karim", "karim", json=news, expect=200)
    # The commune moves its calendar: the ideas and prioritisation phases are over.
    await platform.call(
        "PATCH", plan_path, "omar", expect=200, json={"phases": phases(TODAY - timedelta(days=30))}
    )

    refused = await platform.call("POST", f"{path}/supports", "karim", expect=409)
    ideas_phase = phases(TODAY - timedelta(days=30))[1]
    assert f"ideas from {ideas_phase['starts_on']} to {ideas_phase['ends_on']}" in refused["detail"]
    assert "adoption phase" in refused["detail"]
    late = await platform.call("POST", "/ideas", "fatima", expect=409, json={
        "territory_id": world.tafraout, "plan_id": world.plan["plan_id"], "title": "Late",
        "body": "Too late.", "language": "fr",
    })  # fmt: skip
    assert "only during ideas from" in late["detail"]
    assert (await platform.call("GET", path, "karim", expect=200))["supports"]["total"] == 0
    started = await platform.published("IDEAS", "PlanPhaseStarted", count=2)
    assert [event["data"]["phase"] for event in started] == ["ideas", "adoption"]

    # (The ideas phase's news may reach Karim too: news go to those who asked when they are told.)
    async def adoption_told() -> list[dict[str, Any]]:
        told = await inbox(platform, "karim", "plan_phase_started")
        return [notice for notice in told if notice["title"].endswith("phase d'adoption")]

    [told] = await eventually(adoption_told)
    assert told["title"] == "Plan communal de développement 2027-2032 (Tafraout) : phase d'adoption"
    assert not await inbox(platform, "fatima", "plan_phase_started")  # she did not ask for the news


async def test_a_project_naming_its_source_idea_promotes_it_even_when_it_arrives_first(world: World) -> None:
    platform = world.platform
    early = str(uuid.uuid4())
    await publish(
        platform,
        ProjectPublished(
            project_id="solar-project",
            territory_id=world.tafraout,
            owner_member_id="omar",
            title="Solar health post",
            summary="Power the health post.",
            sector="energy",
            source_idea_ids=[early],
        ),
    )
    await known_to_ideas(platform, "PROJECTS", "ProjectPublished", 1)
    idea = await world.idea(idea_id=early)
    assert idea["status"] == "promoted"
    assert idea["links"] == [{"kind": "project", "id": "solar-project"}]

    later = await world.idea(title="Solar lights for the school")
    project = await platform.call(
        "POST", "/projects", "omar", expect=201,
        json={"territory_id": world.tafraout, "title": "Solar school", "summary": "Light it.",
              "sector": "energy", "needs": [], "funding": {"goal_amount": "5000", "currency": "EUR"},
              "source_idea_ids": [later["idea_id"]]},
    )  # fmt: skip
    await platform.call("POST", f"/projects/{project['project_id']}/publish", "omar", expect=200)

    async def promoted() -> Any:
        found = await platform.call("GET", f"/ideas/{later['idea_id']}", "karim", expect=200)
        return found if found["status"] == "promoted" else None

    assert (await eventually(promoted))["links"] == [{"kind": "project", "id": project["project_id"]}]
    events = await platform.published("IDEAS", "IdeaPromoted", count=2)
    assert {e["data"]["idea_id"] for e in events} == {early, later["idea_id"]}
    link = {"kind": "gathering", "id": "palm-grove-day"}
    await platform.call("POST", f"/ideas/{early}/links", "karim", expect=403, json=link)
    linked = await platform.call("POST", f"/ideas/{early}/links", "omar", expect=200, json=link)
    assert linked["links"] == [{"kind": "project", "id": "solar-project"}, link]


async def test_three_reports_hide_an_idea_from_all_but_its_author_and_managers_until_one_restores_it(
    world: World,
) -> None:
    platform = world.platform
    path = f"/ideas/{(await world.idea())['idea_id']}"
    for sub in ("karim", "aicha"):
        assert (await platform.call("POST", f"{path}/reports", sub, expect=201, json={"reason": "spam"}))[
            "hidden"
        ] is False
    await platform.call("POST", f"{path}/reports", "karim", expect=409, json={"reason": "spam again"})
    third = await platform.call("POST", f"{path}/reports", "paul", expect=201, json={"reason": "off topic"})
    assert third["hidden"] is True

    await platform.call("GET", path, "karim", expect=403)
    assert await platform.call("GET", f"/ideas?territory_id={world.tafraout}", "karim", expect=200) == []
    assert (await platform.call("GET", path, "fatima", expect=200))["hidden"] is True
    await platform.call("POST", f"{path}/unhide", "karim", expect=403)
    restored = await platform.call("POST", f"{path}/unhide", "omar", expect=200)
    assert restored["hidden"] is False
    assert (await platform.call("GET", path, "karim", expect=200))["hidden"] is False
    assert [e["data"]["by"] for e in await platform.published("IDEAS", "IdeaHidden")] == ["reports"]
    await platform.published("IDEAS", "IdeaUnhidden")


async def test_contributions_reply_one_level_and_an_erased_supporter_stays_counted_anonymously(
    world: World,
) -> None:
    platform = world.platform
    path = f"/ideas/{(await world.idea())['idea_id']}"
    comment = await platform.call("POST", f"{path}/contributions", "karim", expect=201, json={"body": "Yes!"})
    reply = await platform.call(
        "POST", f"{path}/contributions", "aicha", expect=201,
        json={"kind": "improvement", "body": "Add batteries.", "parent_id": comment["contribution_id"]},
    )  # fmt: skip
    await platform.call(
        "POST", f"{path}/contributions", "fatima", expect=422,
        json={"body": "Deeper", "parent_id": reply["contribution_id"]},
    )  # fmt: skip
    listed = await platform.http.get(f"{path}/contributions?limit=1", headers=platform.as_("paul"))
    assert listed.headers["X-Total-Count"] == "2" and 'rel="next"' in listed.headers["Link"]
    await platform.call("POST", f"{path}/supports", "karim", expect=201)

    await platform.call("DELETE", "/members/karim", "karim", expect=202)
    await known_to_ideas(platform, "MEMBERS", "MemberErased", 1)
    found = await platform.call("GET", path, "paul", expect=200)
    assert found["supports"]["by_bond"]["heart"] == 1 and found["supports"]["by_residence"]["abroad"] == 1
    contributions = await platform.call("GET", f"{path}/contributions", "paul", expect=200)
    assert [c["author_member_id"] for c in contributions] == ["erased", "aicha"]


async def test_an_answer_is_told_once_to_the_author_and_once_to_each_supporter_in_their_language(
    world: World,
) -> None:
    platform = world.platform
    path = f"/ideas/{(await world.idea())['idea_id']}"
    await platform.call(
        "PUT", "/notification-preferences/aicha", "aicha", json={"digest": "daily"}, expect=200
    )
    for sub in ("fatima", "karim", "aicha"):  # the author supports her own idea too
        await platform.call("POST", f"{path}/supports", sub, expect=201)
    await platform.call(
        "POST", f"{path}/answer", "karim", expect=403, json={"status": "accepted", "answer": "Yes"}
    )
    answered = await platform.call(
        "POST", f"{path}/answer", "omar", expect=200,
        json={"status": "accepted", "answer": "The commune funds two pumps in 2027."},
    )  # fmt: skip
    assert (answered["status"], answered["answer"]) == ("accepted", "The commune funds two pumps in 2027.")

    await eventually(lambda: platform.drained("IDEAS", "notifications__IdeaAnswered_v1", 1))
    titles = {
        sub: [n["title"] for n in await inbox(platform, sub, "idea_answered")]
        for sub in ("fatima", "karim", "aicha", "paul")
    }
    assert titles == {
        "fatima": ["Réponse à l'idée « Solar pumps for the palm grove » : retenue"],
        "karim": ["Réponse à l'idée « Solar pumps for the palm grove » : retenue"],
        "aicha": ["رد على الفكرة «Solar pumps for the palm grove»: مقبولة"],
        "paul": [],
    }


async def test_an_idea_posted_twice_with_one_idempotency_key_is_posted_once(world: World) -> None:
    platform = world.platform
    body = {
        "territory_id": world.tafraout,
        "title": "Shade for the market",
        "body": "Trees.",
        "language": "fr",
    }
    headers = {**platform.as_("fatima"), "Idempotency-Key": "idea-1"}
    first = await platform.http.post("/ideas", headers=headers, json=body)
    again = await platform.http.post("/ideas", headers=headers, json=body)
    assert (first.status_code, again.status_code, again.json()) == (201, 201, first.json())
    listed = await platform.call(
        "GET", "/ideas", "karim", params={"territory_id": world.tafraout}, expect=200
    )
    assert [idea["title"] for idea in listed] == ["Shade for the market"]
