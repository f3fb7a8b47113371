"""Erased means gone, in identity too: the marker of an erased owner is nobody's identity, and an
erased member's token, still valid until it expires, acts on nothing in any service."""

from __future__ import annotations

import time
from typing import Any

import jwt
from passerelle.contracts import MemberProfileUpdated

from ..harness import Platform, eventually
from .scenario import name_manager, offer, profile, publish, territory

SKILL = "energy.solar_pv_design"
CONSUMERS_OF_ERASURE = ("members", "projects", "matching", "notifications")


def forged(platform: Platform, **claims: Any) -> dict[str, str]:
    """A token signed with the platform's own secret, holding exactly these claims (and an expiry)."""
    assert platform.settings.jwt_secret is not None
    secret = platform.settings.jwt_secret.get_secret_value()
    token = jwt.encode({"exp": int(time.time()) + 600, **claims}, secret, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


async def erased_everywhere(platform: Platform, sub: str) -> None:
    """Erase `sub` and wait until every service has handled the erasure."""
    await platform.call("DELETE", f"/members/{sub}", sub, expect=202)
    await platform.published("MEMBERS", "MemberErased")
    last = (await platform.js.stream_info("MEMBERS")).state.last_seq
    for service in CONSUMERS_OF_ERASURE[1:]:
        await eventually(
            lambda service=service: platform.drained("MEMBERS", f"{service}__MemberErased_v1", last)
        )


async def funded_project(platform: Platform, owner: str, territory_id: str) -> dict[str, Any]:
    body = {
        "territory_id": territory_id,
        "title": "Solar health post",
        "summary": "Power the health post.",
        "sector": "energy",
        "languages": ["fr"],
        "needs": [{"skill": SKILL, "min_level": 3, "mode": "remote", "count": 1}],
        "funding": {"goal_amount": "1000.00", "currency": "EUR"},
    }
    project = await platform.call("POST", "/projects", owner, expect=201, json=body)
    await platform.call("POST", f"/projects/{project['project_id']}/publish", owner, expect=200)
    return dict(project)


async def accepted_match(platform: Platform, project_id: str, member_id: str) -> str:
    async def proposed() -> list[dict[str, Any]]:
        return list(
            await platform.call(
                "GET", "/matches", "op", "operator", params={"project_id": project_id}, expect=200
            )
        )

    [match] = await eventually(proposed)
    await platform.call("POST", f"/matches/{match['match_id']}/accept", member_id, expect=200)
    return str(match["match_id"])


async def test_a_token_whose_subject_is_the_erased_marker_or_not_a_plain_id_is_refused_with_a_401_problem(
    platform: Platform,
) -> None:
    refused = [
        {"sub": "erased", "roles": ["member"]},
        {"sub": "x" * 101, "roles": ["member"]},
        {"sub": "fatima\nbcc: everyone", "roles": ["member"]},
        {"sub": "fatima\u2028", "roles": ["member"]},
        {"sub": "fatima\x00", "roles": ["member"]},
        {"sub": "fatima\ud800", "roles": ["member"]},
        {"sub": "fati ma", "roles": ["member"]},
        {"sub": "", "roles": ["member"]},
        {"sub": "fatima", "roles": 7},
        {"sub": "fatima", "roles": [["operator"]]},
        {"sub": "fatima", "roles": {"operator": True}},
    ]
    for claims in refused:
        for path in (
            "/members/fatima",
            "/projects",
            "/matches?member_id=fatima",
            "/notifications?member_id=fatima",
        ):
            response = await platform.http.get(path, headers=forged(platform, **claims))
            assert response.status_code == 401, (claims, path, response.text)
            assert response.headers["content-type"] == "application/problem+json"

    accepted = await platform.http.get(
        "/projects", headers=forged(platform, sub="auth0|fatima", roles="member")
    )
    assert accepted.status_code == 200, "a plain id from an identity provider signs in"


async def test_the_erased_marker_and_erased_identities_cannot_be_named_managers_nor_register(
    platform: Platform,
) -> None:
    association = profile("Tafraout Solidarité", "tafraout", kind="association")
    for managers in (["erased"], ["kha\u200bdija"], ["k" * 101]):
        response = await platform.http.post(
            "/members", headers=platform.as_("amina"), json={**association, "managers": managers}
        )
        assert response.status_code == 422, (managers, response.text)
    registered = await platform.call("POST", "/members", "amina", expect=201, json=association)
    await platform.call("POST", "/members", "khadija", expect=201, json=profile("Khadija", "tafraout"))
    await erased_everywhere(platform, "khadija")

    path = f"/members/{registered['member_id']}"
    again = await platform.http.patch(
        path, headers=platform.as_("amina"), json={"managers": ["amina", "khadija"]}
    )
    assert again.status_code == 422 and "erased" in again.json()["detail"]
    own = await platform.http.post("/members", headers=platform.as_("khadija"), json=association)
    assert own.status_code == 409, "an erased identity registers no association that it would manage"
    assert (await platform.call("GET", path, "amina", expect=200))["managers"] == ["amina"]


async def test_an_erased_owners_token_can_neither_confirm_a_match_nor_read_or_edit_the_projects_pledges(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await name_manager(platform, tafraout, "amina")
    for sub in ("amina", "fatima"):
        await platform.call("POST", "/members", sub, expect=201, json=profile(sub.capitalize(), tafraout))
    project = await funded_project(platform, "amina", tafraout)
    path = f"/projects/{project['project_id']}"
    await platform.call("POST", f"{path}/pledges", "fatima", expect=201, json={"amount": "100.00"})
    await offer(platform, "fatima", SKILL)
    match_id = await accepted_match(platform, project["project_id"], "fatima")

    await erased_everywhere(platform, "amina")

    amina = platform.as_("amina")
    assert (await platform.http.post(f"/matches/{match_id}/confirm", headers=amina)).status_code == 403
    listing = await platform.http.get("/matches", params={"project_id": project["project_id"]}, headers=amina)
    assert listing.status_code == 403
    assert (await platform.call("GET", path, "amina", expect=200))["pledges"] is None
    assert (await platform.http.patch(path, headers=amina, json={"title": "Mine"})).status_code == 403
    assert (
        await platform.http.post(f"{path}/close", headers=amina, json={"outcome": "cancelled"})
    ).status_code == 403
    assert (
        await platform.http.get("/matches", params={"member_id": "amina"}, headers=amina)
    ).status_code == 403

    stored = await platform.call("GET", path, "op", "operator", expect=200)
    assert stored["owner_member_id"] == "erased" and len(stored["pledges"]) == 1
    updated = await platform.published("PROJECTS", "ProjectUpdated")
    assert updated[-1]["data"]["owner_member_id"] == "erased", "other services learn the owner is gone"
    confirmed = await platform.call("POST", f"/matches/{match_id}/confirm", "op", "operator", expect=200)
    assert confirmed["status"] == "confirmed", "an operator still acts on the project"

    operator = platform.as_("op", "operator")
    for owner in ("erased", "amina"):
        body = {**project, "owner_member_id": owner}
        body = {
            name: body[name] for name in ("territory_id", "owner_member_id", "title", "summary", "sector")
        }
        created = await platform.http.post("/projects", headers=operator, json=body)
        assert created.status_code == 422, (owner, created.text)
        named = await platform.http.post(
            f"/territories/{tafraout}/managers",
            headers=operator,
            json={"sub": owner, "role": "territory_manager"},
        )
        assert named.status_code == 422, (owner, named.text)


async def test_an_erased_manager_no_longer_acts_for_the_association_in_any_service(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    association = await platform.call(
        "POST",
        "/members",
        "amina",
        expect=201,
        json=profile("Tafraout Solidarité", tafraout, kind="association", managers=["khadija"]),
    )
    for sub in ("khadija", "fatima"):
        await platform.call("POST", "/members", sub, expect=201, json=profile(sub.capitalize(), tafraout))
    association_id = association["member_id"]
    await eventually(lambda: platform.drained("MEMBERS", "projects__MemberRegistered_v1", 3))
    body = {
        "territory_id": tafraout,
        "owner_member_id": association_id,
        "title": "Solar health post",
        "summary": "Power the health post.",
        "sector": "energy",
        "languages": ["fr"],
        "needs": [{"skill": SKILL, "min_level": 3, "mode": "remote", "count": 1}],
    }
    project = await platform.call("POST", "/projects", "khadija", expect=201, json=body)
    path = f"/projects/{project['project_id']}"
    await platform.call("POST", f"{path}/publish", "khadija", expect=200)
    await offer(platform, "fatima", SKILL)
    match_id = await accepted_match(platform, project["project_id"], "fatima")

    await erased_everywhere(platform, "khadija")

    khadija = platform.as_("khadija")
    assert (await platform.http.post(f"/matches/{match_id}/confirm", headers=khadija)).status_code == 403
    assert (await platform.http.patch(path, headers=khadija, json={"title": "Mine"})).status_code == 403
    member = await platform.http.patch(
        f"/members/{association_id}", headers=khadija, json={"display_name": "x"}
    )
    assert member.status_code == 403
    updated = await platform.published("MEMBERS", "MemberProfileUpdated")
    assert updated[-1]["data"]["managers"] == ["amina"], "other services learn who still manages it"

    # Even a read model that lists the erased identity again (a snapshot from before the erasure,
    # replayed) gives its token no right: an erased identity acts on nothing.
    await publish(platform, MemberProfileUpdated(**{**updated[-1]["data"], "managers": ["amina", "khadija"]}))
    last = (await platform.js.stream_info("MEMBERS")).state.last_seq
    for service in ("projects", "matching"):
        durable = f"{service}__MemberProfileUpdated_v1"
        await eventually(lambda durable=durable: platform.drained("MEMBERS", durable, last))
    assert (await platform.http.post(f"/matches/{match_id}/confirm", headers=khadija)).status_code == 403
    assert (await platform.http.patch(path, headers=khadija, json={"title": "Mine"})).status_code == 403

    confirmed = await platform.call("POST", f"/matches/{match_id}/confirm", "amina", expect=200)
    assert confirmed["status"] == "confirmed", "the other manager still acts for the association"
