"""What a caller of the HTTP API sees: authentication, per-object authorization, clear errors."""

import pytest

from ..harness import Platform, eventually
from .scenario import profile, published_project, territory


async def test_every_endpoint_refuses_a_caller_without_a_valid_token(platform: Platform) -> None:
    for method, path in [
        ("POST", "/members"),
        ("GET", "/members/x"),
        ("GET", "/territories"),
        ("POST", "/projects"),
        ("GET", "/matches"),
        ("GET", "/notifications?member_id=x"),
    ]:
        response = await platform.http.request(method, path)
        assert response.status_code == 401, path
        assert response.headers["content-type"] == "application/problem+json"
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad"}
    assert (await platform.http.get("/members/x", headers=forged)).status_code == 401


async def test_invalid_input_is_a_422_problem_naming_the_field_and_changes_nothing(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    response = await platform.http.post(
        "/members",
        headers=platform.as_("fatima"),
        json=profile("Fatima", tafraout, country_of_residence="XX", time_zone="Mars/Olympus"),
    )
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["status"] == 422 and problem["title"]
    assert {error["field"] for error in problem["errors"]} == {"country_of_residence", "time_zone"}
    assert "Mars/Olympus" in problem["detail"]
    assert (await platform.http.get("/members/fatima", headers=platform.as_("fatima"))).status_code == 404
    assert await platform.events("MEMBERS") == []


async def test_a_member_cannot_read_or_act_on_another_member(platform: Platform) -> None:
    tafraout = await territory(platform)
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", tafraout))
    await platform.call("POST", "/members", "youssef", expect=201, json=profile("Youssef", tafraout))
    offer = {"skill": "energy.solar_pv_design", "level": 3, "modes": ["remote"]}
    assert (await platform.http.get("/members/fatima", headers=platform.as_("youssef"))).status_code == 403
    assert (
        await platform.http.patch(
            "/members/fatima", headers=platform.as_("youssef"), json={"display_name": "Hacked"}
        )
    ).status_code == 403
    assert (
        await platform.http.post("/members/fatima/offers", headers=platform.as_("youssef"), json=offer)
    ).status_code == 403
    assert (
        await platform.http.get(
            "/notifications", params={"member_id": "fatima"}, headers=platform.as_("youssef")
        )
    ).status_code == 403
    assert (
        await platform.http.get("/matches", params={"member_id": "fatima"}, headers=platform.as_("youssef"))
    ).status_code == 403
    assert (await platform.call("GET", "/members/fatima", "ops", "operator", expect=200))[
        "display_name"
    ] == "Fatima"


async def test_only_a_project_s_owner_or_its_managers_publish_it_and_only_once(platform: Platform) -> None:
    tafraout = await territory(platform)
    association = await platform.call(
        "POST",
        "/members",
        "amina",
        expect=201,
        json={**profile("Femmes de Tafraout", tafraout), "kind": "local_actor", "managers": ["khadija"]},
    )
    await eventually(lambda: _projects_knows(platform, association["member_id"]))
    draft = await platform.call(
        "POST",
        "/projects",
        "khadija",
        expect=201,
        json={
            "territory_id": tafraout,
            "owner_member_id": association["member_id"],
            "title": "Well",
            "summary": "A well",
            "sector": "water",
            "funding": {"goal_amount": "12000.00", "currency": "EUR"},
        },
    )
    stranger = await platform.http.post(
        f"/projects/{draft['project_id']}/publish", headers=platform.as_("bob")
    )
    assert stranger.status_code == 403
    await platform.call("POST", f"/projects/{draft['project_id']}/publish", "amina", expect=200)
    again = await platform.http.post(
        f"/projects/{draft['project_id']}/publish", headers=platform.as_("amina")
    )
    assert again.status_code == 409 and "only a draft" in again.json()["detail"]
    await platform.published("PROJECTS", "ProjectPublished")  # the relay publishes after the commit
    assert len(await platform.events("PROJECTS")) == 2  # TerritoryRegistered, ProjectPublished


async def test_nobody_creates_a_project_for_a_member_they_do_not_manage(platform: Platform) -> None:
    tafraout = await territory(platform)
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", tafraout))
    response = await platform.http.post(
        "/projects",
        headers=platform.as_("bob"),
        json={
            "territory_id": tafraout,
            "owner_member_id": "fatima",
            "title": "T",
            "summary": "S",
            "sector": "x",
        },
    )
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["member", "territory_manager"])
async def test_only_operators_and_community_managers_register_territories(
    platform: Platform, role: str
) -> None:
    response = await platform.http.post(
        "/territories",
        headers=platform.as_("someone", role),
        json={"name": "Kayes", "country": "ML", "level": "region"},
    )
    assert response.status_code == 403
    await platform.call(
        "POST",
        "/territories",
        "cm",
        "community_manager",
        expect=201,
        json={"name": "Kayes", "country": "ML", "level": "region"},
    )


async def test_a_published_project_is_listed_for_its_territory(platform: Platform) -> None:
    tafraout = await territory(platform)
    await platform.call("POST", "/members", "amina", expect=201, json=profile("Amina", tafraout))
    project = await published_project(platform, "amina", tafraout, "energy.solar_pv_design")
    listed = await platform.call("GET", "/projects", "fatima", params={"territory_id": tafraout}, expect=200)
    assert [p["project_id"] for p in listed] == [project["project_id"]]


async def _projects_knows(platform: Platform, member_id: str) -> bool:
    info = await platform.js.consumer_info("MEMBERS", "projects__MemberRegistered_v1")
    return info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq >= 1
