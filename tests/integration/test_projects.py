"""The projects service through its HTTP API and its events, on the real NATS and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from ..harness import Platform, eventually
from .scenario import name_manager, profile

NEED = {"skill": "health.nurse_training", "min_level": 3, "mode": "short_mission", "count": 1}


async def territories(platform: Platform) -> dict[str, str]:
    """Morocco > Souss-Massa > Tiznit > Tafraout, and Kayes in Mali."""
    ids: dict[str, str] = {}
    parent = None
    for name, country, level in [
        ("Morocco", "MA", "country"),
        ("Souss-Massa", "MA", "region"),
        ("Tiznit", "MA", "province"),
        ("Tafraout", "MA", "commune"),
    ]:
        body = {"name": name, "country": country, "level": level, "parent_id": parent}
        parent = (await platform.call("POST", "/territories", "op", "operator", expect=201, json=body))[
            "territory_id"
        ]
        ids[name] = parent
    kayes = {"name": "Kayes", "country": "ML", "level": "region"}
    ids["Kayes"] = (await platform.call("POST", "/territories", "op", "operator", expect=201, json=kayes))[
        "territory_id"
    ]
    return ids


async def draft(platform: Platform, sub: str, territory_id: str, **extra: Any) -> dict[str, Any]:
    body = {
        "territory_id": territory_id,
        "title": "Health post",
        "summary": "Train two nurses.",
        "sector": "health",
        "languages": ["fr", "ar"],
        "needs": [NEED],
        **extra,
    }
    return dict(await platform.call("POST", "/projects", sub, expect=201, json=body))


async def project_events(platform: Platform, count: int) -> list[dict[str, Any]]:
    async def published() -> list[dict[str, Any]]:
        found = [
            e
            for e in await platform.events("PROJECTS")
            if not e["type"].startswith("passerelle.projects.Territory")
        ]
        return found if len(found) >= count else []

    return await eventually(published)


async def test_territories_form_a_hierarchy_listed_with_their_descendants_and_managers(
    platform: Platform,
) -> None:
    ids = await territories(platform)
    region = await platform.call(
        "GET", f"/territories/{ids['Souss-Massa']}", "x", params={"descendants": "true"}, expect=200
    )
    assert [t["name"] for t in region["descendants"]] == ["Tafraout", "Tiznit"]
    within = await platform.call("GET", "/territories", "x", params={"within": ids["Tiznit"]}, expect=200)
    assert [t["name"] for t in within] == ["Tafraout", "Tiznit"]

    await platform.call(
        "POST",
        f"/territories/{ids['Tiznit']}/managers",
        "cm",
        "community_manager",
        expect=201,
        json={"sub": "zineb", "role": "territory_manager"},
    )
    for role in ("member", "territory_manager"):
        refused = await platform.http.post(
            f"/territories/{ids['Tiznit']}/managers", headers=platform.as_("zineb", role), json={"sub": "bob"}
        )
        assert refused.status_code == 403
    tiznit = await platform.call("GET", f"/territories/{ids['Tiznit']}", "x", expect=200)
    assert [(m["sub"], m["role"], m["granted_by"]) for m in tiznit["managers"]] == [
        ("zineb", "territory_manager", "cm")
    ]
    assert tiznit["descendants"] is None
    bad_parent = await platform.http.post(
        "/territories",
        headers=platform.as_("op", "operator"),
        json={"name": "Agadir", "country": "MA", "level": "region", "parent_id": ids["Tiznit"]},
    )
    assert bad_parent.status_code == 422 and bad_parent.json()["errors"][0]["field"] == "parent_id"


async def test_local_actors_and_territory_managers_run_projects_and_a_person_alone_does_not(
    platform: Platform,
) -> None:
    ids = await territories(platform)
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", ids["Tafraout"]))
    refused = await platform.http.post(
        "/projects",
        headers=platform.as_("fatima"),
        json={
            "territory_id": ids["Tafraout"],
            "title": "T",
            "summary": "S",
            "sector": "health",
            "needs": [NEED],
        },
    )
    assert refused.status_code == 403 and "local actors" in refused.json()["detail"]

    commune = await platform.call(
        "POST",
        "/members",
        "mayor",
        expect=201,
        json={
            **profile("Commune de Tafraout", ids["Tafraout"]),
            "kind": "local_actor",
            "managers": ["clerk"],
        },
    )

    async def projects_knows_the_commune() -> bool:
        response = await platform.http.post(
            "/projects",
            headers=platform.as_("clerk"),
            json={
                "territory_id": ids["Tafraout"],
                "owner_member_id": commune["member_id"],
                "title": "Well",
                "summary": "A well.",
                "sector": "water",
                "funding": {"goal_amount": "5000.00", "currency": "EUR"},
            },
        )
        return response.status_code == 201

    await eventually(projects_knows_the_commune)  # once MemberRegistered reached projects
    await name_manager(platform, ids["Tiznit"], "zineb")
    await draft(platform, "zineb", ids["Tafraout"])  # a manager of the province runs projects in its communes


async def test_a_project_moves_from_draft_to_published_to_closed_with_an_event_at_each_public_step(
    platform: Platform,
) -> None:
    ids = await territories(platform)
    await name_manager(platform, ids["Tafraout"], "amina")
    project = await draft(
        platform, "amina", ids["Tafraout"], funding={"goal_amount": "12000.00", "currency": "EUR"}
    )
    path = f"/projects/{project['project_id']}"
    assert project["status"] == "draft"
    renamed = await platform.call("PATCH", path, "amina", expect=200, json={"title": "Solar health post"})
    assert renamed["title"] == "Solar health post"
    assert await platform.events("PROJECTS") and not [
        e for e in await platform.events("PROJECTS") if "Project" in e["type"]
    ], "a draft publishes nothing"

    await platform.call("POST", f"{path}/publish", "amina", expect=200)
    need = {**renamed["needs"][0], "count": 2}
    solar = {"skill": "energy.solar_pv_design", "min_level": 3, "mode": "remote", "count": 1}
    edited = await platform.call("PATCH", path, "amina", expect=200, json={"needs": [need, solar]})
    assert edited["needs"][0]["need_id"] == need["need_id"]
    await platform.call("POST", f"{path}/close", "amina", expect=200, json={"outcome": "completed"})

    published, updated, closed = await project_events(platform, 3)
    assert (
        published["type"].endswith("ProjectPublished.v1")
        and published["data"]["title"] == "Solar health post"
    )
    assert updated["type"].endswith("ProjectUpdated.v1")
    assert updated["data"] == {
        "project_id": project["project_id"],
        "territory_id": ids["Tafraout"],
        "owner_member_id": "amina",
        "title": "Solar health post",
        "summary": "Train two nurses.",
        "sector": "health",
        "languages": ["fr", "ar"],
        "needs": [  # optional fields without a value are left out of events
            {key: value for key, value in need.items() if value is not None},
            {**solar, "need_id": edited["needs"][1]["need_id"]},
        ],
        "funding": {"goal_amount": "12000.00", "currency": "EUR"},
    }
    assert closed["type"].endswith("ProjectClosed.v1") and closed["data"]["outcome"] == "completed"

    for method, suffix, body, reason in [
        ("POST", "/publish", None, "only a draft"),
        ("POST", "/close", {"outcome": "cancelled"}, "only a published"),
        ("PATCH", "", {"title": "Again"}, "closed project cannot be edited"),
        ("POST", "/pledges", {"amount": "10.00"}, "closed"),
    ]:
        response = await platform.http.request(
            method, path + suffix, headers=platform.as_("amina"), json=body
        )
        assert response.status_code == 409 and reason in response.json()["detail"], (suffix, response.text)


async def test_only_the_owner_its_managers_managers_of_the_territory_or_an_operator_act_on_a_project(
    platform: Platform,
) -> None:
    ids = await territories(platform)
    await name_manager(platform, ids["Tafraout"], "amina")
    await name_manager(platform, ids["Kayes"], "moussa")
    await name_manager(platform, ids["Souss-Massa"], "zineb")
    project = await draft(platform, "amina", ids["Tafraout"])
    path = f"/projects/{project['project_id']}"
    for stranger in ("moussa", "bob"):
        assert (await platform.http.get(path, headers=platform.as_(stranger))).status_code == 403, (
            "a draft is private"
        )
        patched = await platform.http.patch(path, headers=platform.as_(stranger), json={"title": "Mine"})
        assert patched.status_code == 403
        assert (
            await platform.http.post(f"{path}/publish", headers=platform.as_(stranger))
        ).status_code == 403
    await platform.call("PATCH", path, "zineb", expect=200, json={"title": "Checked by the region"})
    await platform.call("POST", f"{path}/publish", "op", "operator", expect=200)
    assert (await platform.call("GET", path, "bob", expect=200))["pledges"] is None, (
        "pledges are for managers"
    )


async def test_concurrent_pledges_reach_the_goal_exactly_once_and_the_ledger_adds_up(
    platform: Platform,
) -> None:
    ids = await territories(platform)
    await name_manager(platform, ids["Tafraout"], "amina")
    project = await draft(
        platform, "amina", ids["Tafraout"], funding={"goal_amount": "1000.00", "currency": "EUR"}
    )
    path = f"/projects/{project['project_id']}"
    await platform.call("POST", f"{path}/publish", "amina", expect=200)

    responses = await asyncio.gather(
        *(
            platform.http.post(
                f"{path}/pledges", headers=platform.as_(f"donor-{n}"), json={"amount": "100.00"}
            )
            for n in range(20)
        )
    )
    assert [r.status_code for r in responses] == [201] * 20

    seen = await platform.call("GET", path, "amina", expect=200)
    assert seen["pledged_total"] == "2000.00" and seen["goal_reached_at"]
    assert len(seen["pledges"]) == 20 and {p["amount"] for p in seen["pledges"]} == {"100.00"}

    events = await project_events(platform, 22)  # published, 20 pledges, goal reached
    pledges = [e for e in events if e["type"].endswith("PledgeMade.v1")]
    reached = [e for e in events if e["type"].endswith("FundingGoalReached.v1")]
    assert len(pledges) == 20 and {e["data"]["amount"] for e in pledges} == {"100.00"}
    assert [e["data"] for e in reached] == [
        {"project_id": project["project_id"], "total": "1000.00", "currency": "EUR"}
    ]


async def test_bad_pledges_are_refused_and_change_nothing(platform: Platform) -> None:
    ids = await territories(platform)
    await name_manager(platform, ids["Tafraout"], "amina")
    funded = await draft(
        platform, "amina", ids["Tafraout"], funding={"goal_amount": "500.00", "currency": "EUR"}
    )
    unfunded = await draft(platform, "amina", ids["Tafraout"])
    draft_path, unfunded_path = f"/projects/{funded['project_id']}", f"/projects/{unfunded['project_id']}"
    as_donor = platform.as_("donor")
    assert (
        await platform.http.post(f"{draft_path}/pledges", headers=as_donor, json={"amount": "5"})
    ).status_code == 409
    await platform.call("POST", f"{draft_path}/publish", "amina", expect=200)
    await platform.call("POST", f"{unfunded_path}/publish", "amina", expect=200)
    for body, field in [
        ({"amount": 12.5}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "5", "currency": "MAD"}, "currency"),
        ({"amount": "5", "currency": "XYZ"}, "currency"),
    ]:
        response = await platform.http.post(f"{draft_path}/pledges", headers=as_donor, json=body)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, (
            body,
            response.text,
        )
    no_goal = await platform.http.post(f"{unfunded_path}/pledges", headers=as_donor, json={"amount": "5"})
    assert no_goal.status_code == 409 and "no funding goal" in no_goal.json()["detail"]
    not_mine = await platform.http.post(
        f"{draft_path}/pledges", headers=as_donor, json={"amount": "5", "member_id": "fatima"}
    )
    assert not_mine.status_code == 403
    assert (await platform.call("GET", draft_path, "amina", expect=200))["pledged_total"] == "0.00"
    assert not [e for e in await platform.events("PROJECTS") if "Pledge" in e["type"]]


async def test_projects_are_found_by_territory_with_its_descendants_status_sector_and_skill(
    platform: Platform,
) -> None:
    ids = await territories(platform)
    await name_manager(platform, ids["Souss-Massa"], "amina")
    await name_manager(platform, ids["Kayes"], "moussa")
    health = await draft(platform, "amina", ids["Tafraout"], title="Health post")
    solar_need = {"skill": "energy.solar_pv_install", "min_level": 2, "mode": "short_mission", "count": 2}
    solar = await draft(
        platform, "amina", ids["Tiznit"], title="Solar school", sector="energy", needs=[solar_need]
    )
    mali = await draft(
        platform,
        "moussa",
        ids["Kayes"],
        title="Kayes wells",
        sector="water",
        funding={"goal_amount": "8000.00", "currency": "XOF"},
        needs=[],
    )
    hidden_draft = await draft(platform, "amina", ids["Tafraout"], title="Unfinished")
    for project, owner in ((health, "amina"), (solar, "amina"), (mali, "moussa")):
        await platform.call("POST", f"/projects/{project['project_id']}/publish", owner, expect=200)
    await platform.call(
        "POST", f"/projects/{mali['project_id']}/close", "moussa", expect=200, json={"outcome": "cancelled"}
    )

    async def titles(sub: str = "reader", *roles: str, **params: Any) -> list[str]:
        found = await platform.call("GET", "/projects", sub, *roles, params=params, expect=200)
        return sorted(p["title"] for p in found)

    assert await titles(territory_id=ids["Souss-Massa"]) == ["Health post", "Solar school"]
    assert await titles(territory_id=ids["Tafraout"]) == ["Health post"]
    assert await titles(status="closed") == ["Kayes wells"]
    assert await titles(sector="energy") == ["Solar school"]
    assert await titles(skill="energy.solar") == ["Solar school"], "narrower skills count"
    assert await titles(status="draft") == []
    assert await titles("amina", status="draft") == [hidden_draft["title"]]
    assert await titles("op", "operator", status="draft") == ["Unfinished"]

    page = await platform.http.get("/projects", params={"limit": 1}, headers=platform.as_("reader"))
    assert (
        page.headers["x-total-count"] == "3"
        and len(page.json()) == 1
        and 'rel="next"' in page.headers["link"]
    )
    unknown = await platform.http.get("/projects", params={"skill": "nope"}, headers=platform.as_("reader"))
    assert unknown.status_code == 422


async def test_an_erased_member_leaves_the_ledger_anonymous_and_the_totals_true(platform: Platform) -> None:
    ids = await territories(platform)
    await name_manager(platform, ids["Tafraout"], "amina")
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", ids["Tafraout"]))
    project = await draft(
        platform, "amina", ids["Tafraout"], funding={"goal_amount": "500.00", "currency": "EUR"}
    )
    path = f"/projects/{project['project_id']}"
    await name_manager(platform, ids["Tafraout"], "fatima")
    hers = await draft(platform, "fatima", ids["Tafraout"], title="Fatima's library")
    await platform.call("POST", f"{path}/publish", "amina", expect=200)
    await platform.call("POST", f"{path}/pledges", "fatima", expect=201, json={"amount": "120.50"})
    await platform.call("POST", f"{path}/pledges", "youssef", expect=201, json={"amount": "79.50"})

    await platform.call("DELETE", "/members/fatima", "fatima", expect=202)

    async def anonymised() -> dict[str, Any] | None:
        seen = await platform.call("GET", path, "amina", expect=200)
        return seen if None in {p["member_id"] for p in seen["pledges"]} else None

    seen = await eventually(anonymised)
    assert sorted((p["member_id"] or "", p["amount"]) for p in seen["pledges"]) == [
        ("", "120.50"),
        ("youssef", "79.50"),
    ]
    assert seen["pledged_total"] == "200.00"
    assert (await platform.call("GET", f"/projects/{hers['project_id']}", "op", "operator"))[
        "owner_member_id"
    ] == "erased"
    tafraout = await platform.call("GET", f"/territories/{ids['Tafraout']}", "x", expect=200)
    assert [m["sub"] for m in tafraout["managers"]] == ["amina"], "her role on the territory went with her"
    for member_id in ("fatima", "erased"):
        refused = await platform.http.post(
            f"{path}/pledges",
            headers=platform.as_("op", "operator"),
            json={"amount": "10.00", "member_id": member_id},
        )
        assert refused.status_code == 422, (member_id, refused.text)
        assert refused.json()["errors"][0]["field"] == "member_id"
    after = await platform.call("GET", path, "amina", expect=200)
    assert after["pledged_total"] == "200.00", "no pledge brings an erased member back into the ledger"
