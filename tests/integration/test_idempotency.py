"""`Idempotency-Key` on the creating routes (contract 4.1): a retry over a flaky link gets the first
answer and makes no second effect; a key reused for another request is refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from passerelle.messaging.idempotency import idempotency_metadata
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from ..harness import Databases, Platform
from .scenario import name_manager, profile, territory


def keyed(platform: Platform, sub: str, key: str) -> dict[str, str]:
    return {**platform.as_(sub), "Idempotency-Key": key}


async def project_with_goal(platform: Platform, owner: str) -> str:
    territory_id = await territory(platform)
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
            "needs": [],
            "funding": {"goal_amount": "1000.00", "currency": "EUR"},
        },
    )
    await platform.call("POST", f"/projects/{project['project_id']}/publish", owner, expect=200)
    return str(project["project_id"])


async def test_a_registration_sent_twice_with_one_key_gets_the_first_answer_and_registers_once(
    platform: Platform,
) -> None:
    territory_id = await territory(platform)
    body = profile("Fatima", territory_id)

    first = await platform.http.post("/members", headers=keyed(platform, "fatima", "k-1"), json=body)
    again = await platform.http.post("/members", headers=keyed(platform, "fatima", "k-1"), json=body)

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    without_key = await platform.http.post("/members", headers=platform.as_("fatima"), json=body)
    assert without_key.status_code == 409, "without a key, a second registration is refused as before"
    await platform.published("MEMBERS", "MemberRegistered")
    registered = [e for e in await platform.events("MEMBERS") if e["type"].endswith("MemberRegistered.v1")]
    assert len(registered) == 1


async def test_an_offer_retried_with_its_key_is_made_once_and_a_new_key_makes_another(
    platform: Platform,
) -> None:
    territory_id = await territory(platform)
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", territory_id))
    body = {"skill": "energy.solar_pv_design", "level": 4, "modes": ["remote"], "languages": ["fr"]}
    path = "/members/fatima/offers"

    first = await platform.http.post(path, headers=keyed(platform, "fatima", "offer-1"), json=body)
    again = await platform.http.post(path, headers=keyed(platform, "fatima", "offer-1"), json=body)
    other = await platform.http.post(path, headers=keyed(platform, "fatima", "offer-2"), json=body)

    assert [first.status_code, again.status_code, other.status_code] == [201, 201, 201]
    assert again.json() == first.json() and other.json()["offer_id"] != first.json()["offer_id"]
    offers = await platform.call("GET", path, "fatima", expect=200)
    assert sorted(o["offer_id"] for o in offers) == sorted(
        [first.json()["offer_id"], other.json()["offer_id"]]
    )


async def test_the_same_key_with_another_body_is_a_422_that_changes_nothing(platform: Platform) -> None:
    project_id = await project_with_goal(platform, "amina")
    path = f"/projects/{project_id}/pledges"
    await platform.call("POST", path, "bob", expect=201, json={"amount": "10.00"})

    first = await platform.http.post(path, headers=keyed(platform, "bob", "p-1"), json={"amount": "50.00"})
    changed = await platform.http.post(path, headers=keyed(platform, "bob", "p-1"), json={"amount": "60.00"})

    assert first.status_code == 201
    assert changed.status_code == 422 and changed.headers["content-type"] == "application/problem+json"
    assert "Idempotency-Key" in changed.json()["detail"]
    seen = await platform.call("GET", f"/projects/{project_id}", "amina", expect=200)
    assert seen["pledged_total"] == "60.00"


async def test_concurrent_pledges_with_one_key_make_one_pledge_and_all_get_its_answer(
    platform: Platform,
) -> None:
    project_id = await project_with_goal(platform, "amina")
    path = f"/projects/{project_id}/pledges"

    answers = await asyncio.gather(
        *(
            platform.http.post(path, headers=keyed(platform, "bob", "tap-tap"), json={"amount": "25.00"})
            for _ in range(8)
        )
    )

    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.json()["pledge_id"] for answer in answers}) == 1
    seen = await platform.call("GET", f"/projects/{project_id}", "amina", expect=200)
    assert seen["pledged_total"] == "25.00" and len(seen["pledges"]) == 1
    await platform.published("PROJECTS", "PledgeMade")
    made = [e for e in await platform.events("PROJECTS") if e["type"].endswith("PledgeMade.v1")]
    assert len(made) == 1


async def test_a_key_belongs_to_its_caller_and_route(platform: Platform) -> None:
    project_id = await project_with_goal(platform, "amina")
    path = f"/projects/{project_id}/pledges"
    body = {"amount": "10.00"}

    bob = await platform.http.post(path, headers=keyed(platform, "bob", "same"), json=body)
    carla = await platform.http.post(path, headers=keyed(platform, "carla", "same"), json=body)
    project = await platform.http.post(
        "/projects",
        headers=keyed(platform, "amina", "same"),
        json={
            "territory_id": "nowhere",
            "title": "T",
            "summary": "S",
            "sector": "energy",
            "languages": ["fr"],
        },
    )

    assert bob.status_code == carla.status_code == 201
    assert bob.json()["pledge_id"] != carla.json()["pledge_id"]
    assert project.status_code == 422 and "territory_id" in project.text, "another route: not a replay"


async def test_a_refused_request_is_not_kept_and_can_be_sent_again_once_corrected(platform: Platform) -> None:
    territory_id = await territory(platform)
    body: dict[str, Any] = profile("Fatima", territory_id)
    refused = await platform.http.post(
        "/members",
        headers=keyed(platform, "fatima", "k"),
        json={**body, "attachments": [{"territory_id": territory_id, "bond": "love"}]},
    )
    assert refused.status_code == 422

    accepted = await platform.http.post("/members", headers=keyed(platform, "fatima", "k-2"), json=body)
    assert accepted.status_code == 201
    again = await platform.http.post("/members", headers=keyed(platform, "fatima", "k-2"), json=body)
    assert again.status_code == 201 and again.content == accepted.content


async def test_an_unusable_key_is_a_400(platform: Platform) -> None:
    for key in ("", "a" * 256, "with space"):
        answer = await platform.http.post(
            "/members", headers=keyed(platform, "fatima", key), json=profile("Fatima", "t")
        )
        assert answer.status_code == 400, key
        assert "Idempotency-Key" in answer.json()["detail"]


def _differences(connection: Connection) -> list[object]:
    tables = set(idempotency_metadata.tables)
    context = MigrationContext.configure(
        connection, opts={"include_name": lambda name, kind, _: kind != "table" or name in tables}
    )
    return list(compare_metadata(context, idempotency_metadata))


@pytest.mark.parametrize("service", ["members", "projects", "ideas"])
async def test_a_service_with_idempotent_routes_has_the_table_the_code_writes_to(
    databases: Databases, service: str
) -> None:
    engine = create_async_engine(await databases.fresh(service))
    try:
        async with engine.begin() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()
