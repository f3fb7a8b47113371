"""Concurrent edits of one aggregate: every change is stored, and the last event published of it is
the state stored (matching and notifications keep the newest snapshot for good)."""

from __future__ import annotations

import asyncio
from typing import Any

from ..harness import Platform
from .scenario import name_manager, offer, profile, territory

PROFILE_CHANGES: list[dict[str, Any]] = [
    {"display_name": "Fatima Bennani"},
    {"email": "fatima.bennani@example.org"},
    {"locale": "ar-MA"},
    {"country_of_residence": "FR"},
    {"time_zone": "Europe/Paris"},
    {"languages": ["fr", "ar"]},
    {"sectors": ["energy"]},
    {"generation": "second"},
    {"contact_consent": True},
    {"attachments": [{"territory_id": "tiznit", "bond": "family"}]},
]

OFFER_CHANGES: list[dict[str, Any]] = [
    {"level": 5},
    {"modes": ["mentoring"]},
    {"languages": ["ar"]},
    {"territory_ids": ["tiznit"]},
    {"sectors": ["energy"]},
    {"available_from": "2027-01-01"},
    {"available_until": "2027-12-31"},
    {"hours_per_month": 10},
]

PROJECT_CHANGES: list[dict[str, Any]] = [
    {"title": "Solar health post of Tafraout"},
    {"summary": "Power the health post and train two technicians."},
    {"sector": "health"},
    {"languages": ["fr", "ar"]},
    {"funding": {"goal_amount": "5000.00", "currency": "EUR"}},
]


def _in_parallel(platform: Platform, method: str, path: str, sub: str, bodies: list[dict[str, Any]]) -> Any:
    return asyncio.gather(
        *(platform.http.request(method, path, headers=platform.as_(sub), json=body) for body in bodies)
    )


def _as_in(stored: Any, snapshot: Any) -> Any:
    """What was stored, cut to the fields of the snapshot (the API shows more than events carry)."""
    if isinstance(snapshot, dict):
        return {name: _as_in(stored[name], value) for name, value in snapshot.items()}
    if isinstance(snapshot, list) and len(snapshot) == len(stored):
        return [_as_in(held, value) for held, value in zip(stored, snapshot, strict=True)]
    return stored


def _last_about(events: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    return [event["data"] for event in events if event["data"].get(key) == value][-1]


async def test_parallel_edits_of_a_profile_are_all_stored_and_its_last_event_is_the_stored_profile(
    platform: Platform,
) -> None:
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", "tafraout"))

    answers = await _in_parallel(platform, "PATCH", "/members/fatima", "fatima", PROFILE_CHANGES)

    assert [answer.status_code for answer in answers] == [200] * len(PROFILE_CHANGES)
    stored = await platform.call("GET", "/members/fatima", "fatima", expect=200)
    for change in PROFILE_CHANGES:
        assert {name: stored[name] for name in change} == change
    updates = await platform.published("MEMBERS", "MemberProfileUpdated", count=len(PROFILE_CHANGES))
    last = _last_about(updates, "member_id", "fatima")
    assert _as_in(stored, last) == last


async def test_parallel_edits_of_an_offer_are_all_stored_and_its_last_event_is_the_stored_offer(
    platform: Platform,
) -> None:
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", "tafraout"))
    offered = await offer(platform, "fatima", "energy.solar_pv_design")
    path = f"/members/fatima/offers/{offered['offer_id']}"

    answers = await _in_parallel(platform, "PATCH", path, "fatima", OFFER_CHANGES)

    assert [answer.status_code for answer in answers] == [200] * len(OFFER_CHANGES)
    [stored] = await platform.call("GET", "/members/fatima/offers", "fatima", expect=200)
    for change in OFFER_CHANGES:
        assert {name: stored[name] for name in change} == change
    updates = await platform.published("MEMBERS", "SkillOfferUpdated", count=len(OFFER_CHANGES))
    last = _last_about(updates, "offer_id", offered["offer_id"])
    assert _as_in(stored, last) == last


async def test_an_edit_racing_a_withdrawal_never_brings_the_offer_back(platform: Platform) -> None:
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", "tafraout"))
    offered = await offer(platform, "fatima", "energy.solar_pv_design")
    path = f"/members/fatima/offers/{offered['offer_id']}"

    fatima = platform.as_("fatima")
    await asyncio.gather(
        *(platform.http.patch(path, headers=fatima, json=change) for change in OFFER_CHANGES[:4]),
        platform.http.delete(path, headers=fatima),
        *(platform.http.patch(path, headers=fatima, json=change) for change in OFFER_CHANGES[4:]),
    )

    [stored] = await platform.call("GET", "/members/fatima/offers", "fatima", expect=200)
    assert stored["withdrawn"] is True
    [withdrawn] = await platform.published("MEMBERS", "SkillOfferWithdrawn")
    events = [e for e in await platform.events("MEMBERS") if e["data"].get("offer_id") == offered["offer_id"]]
    assert events[-1]["id"] == withdrawn["id"], "nothing about the offer is published after its withdrawal"


async def _published_project(platform: Platform, owner: str) -> tuple[str, dict[str, Any]]:
    tafraout = await territory(platform)
    await name_manager(platform, tafraout, owner)
    body = {
        "territory_id": tafraout,
        "title": "Solar health post",
        "summary": "Power the health post.",
        "sector": "energy",
        "languages": ["fr"],
        "needs": [{"skill": "energy.solar_pv_design", "min_level": 3, "mode": "remote", "count": 1}],
    }
    project = await platform.call("POST", "/projects", owner, expect=201, json=body)
    return tafraout, dict(project)


async def test_parallel_edits_of_a_published_project_are_all_stored_and_its_last_event_is_the_stored_project(
    platform: Platform,
) -> None:
    _, project = await _published_project(platform, "amina")
    path = f"/projects/{project['project_id']}"
    await platform.call("POST", f"{path}/publish", "amina", expect=200)

    answers = await _in_parallel(platform, "PATCH", path, "amina", PROJECT_CHANGES)

    assert [answer.status_code for answer in answers] == [200] * len(PROJECT_CHANGES)
    stored = await platform.call("GET", path, "amina", expect=200)
    for change in PROJECT_CHANGES:
        assert {name: stored[name] for name in change} == change
    updates = await platform.published("PROJECTS", "ProjectUpdated", count=len(PROJECT_CHANGES))
    last = _last_about(updates, "project_id", project["project_id"])
    assert _as_in(stored, last) == last


async def test_edits_racing_the_publication_and_the_closing_of_a_project_end_in_the_stored_state(
    platform: Platform,
) -> None:
    _, project = await _published_project(platform, "amina")
    path = f"/projects/{project['project_id']}"
    owner = platform.as_("amina")

    publications = await asyncio.gather(
        *(platform.http.post(f"{path}/publish", headers=owner) for _ in range(3)),
        *(platform.http.patch(path, headers=owner, json=change) for change in PROJECT_CHANGES[:3]),
    )
    assert sorted(answer.status_code for answer in publications[:3]) == [200, 409, 409]
    closing = await asyncio.gather(
        platform.http.post(f"{path}/close", headers=owner, json={"outcome": "completed"}),
        *(platform.http.patch(path, headers=owner, json=change) for change in PROJECT_CHANGES[3:]),
    )
    assert closing[0].status_code == 200

    stored = await platform.call("GET", path, "amina", expect=200)
    assert stored["status"] == "closed"
    for change, answer in zip(PROJECT_CHANGES, [*publications[3:], *closing[1:]], strict=True):
        if answer.status_code == 200:
            assert {name: stored[name] for name in change} == change
    [closed] = await platform.published("PROJECTS", "ProjectClosed")
    events = [e for e in await platform.events("PROJECTS") if e["subject"] == project["project_id"]]
    types = [e["type"].split(".")[2] for e in events]
    assert types[0] == "ProjectPublished" and types.count("ProjectPublished") == 1
    assert events[-1]["id"] == closed["id"], "nothing about the project is published after its closing"
    last_snapshot = events[-2]["data"]
    assert _as_in(stored, last_snapshot) == last_snapshot
