"""The matching service on the real NATS and PostgreSQL: proposals, lifecycle, order tolerance, restart."""

from __future__ import annotations

from typing import Any

from passerelle.contracts import MemberRegistered, SkillOffered

from ..harness import Databases, Platform, eventually, settings_for, start_platform
from .scenario import name_manager, offer, profile, publish, published_project, territory


async def matches_of(platform: Platform, count: int = 1, **params: str) -> list[dict[str, Any]]:
    """The matches (best first) once at least `count` are there, asked as an operator."""

    async def found() -> list[dict[str, Any]]:
        listed = await platform.call("GET", "/matches", "op", "operator", params=params, expect=200)
        return listed if len(listed) >= count else []

    return await eventually(found)


async def test_a_member_accepts_the_owner_confirms_and_the_filled_need_withdraws_the_other_proposals(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    for sub in ("fatima", "youssef", "claire"):
        await platform.call("POST", "/members", sub, expect=201, json=profile(sub.capitalize(), tafraout))
    project = await published_project(platform, "amina", tafraout, "energy.solar_pv_design")
    for sub in ("fatima", "youssef", "claire"):
        await offer(platform, sub, "energy.solar_pv_design")
    proposals = await matches_of(platform, 3, project_id=project["project_id"])
    by_member = {m["member_id"]: m for m in proposals}

    first = by_member["fatima"]["match_id"]
    too_early = await platform.http.post(f"/matches/{first}/confirm", headers=platform.as_("amina"))
    assert too_early.status_code == 409 and "only when accepted" in too_early.json()["detail"]
    assert (
        await platform.http.post(f"/matches/{first}/accept", headers=platform.as_("youssef"))
    ).status_code == 403
    accepted = await platform.call("POST", f"/matches/{first}/accept", "fatima", expect=200)
    assert accepted["status"] == "accepted"
    assert (
        await platform.http.post(f"/matches/{first}/accept", headers=platform.as_("fatima"))
    ).status_code == 409
    assert (
        await platform.http.post(f"/matches/{first}/confirm", headers=platform.as_("fatima"))
    ).status_code == 403
    declined = await platform.call(
        "POST", f"/matches/{by_member['claire']['match_id']}/decline", "claire", expect=200
    )
    assert declined["status"] == "declined"
    confirmed = await platform.call("POST", f"/matches/{first}/confirm", "amina", expect=200)
    assert confirmed["status"] == "confirmed"

    [withdrawn] = await platform.published("MATCHING", "MatchWithdrawn")
    assert withdrawn["data"] | {"match_id": None} == {
        "match_id": None,
        "project_id": project["project_id"],
        "need_id": project["needs"][0]["need_id"],
        "member_id": "youssef",
        "reason": "need_filled",
    }
    assert [e["data"]["match_id"] for e in await platform.published("MATCHING", "MatchAccepted")] == [first]
    assert [e["data"]["match_id"] for e in await platform.published("MATCHING", "MatchConfirmed")] == [first]
    assert [e["data"]["member_id"] for e in await platform.published("MATCHING", "MatchDeclined")] == [
        "claire"
    ]
    statuses = {
        m["member_id"]: m["status"] for m in await matches_of(platform, 3, project_id=project["project_id"])
    }
    assert statuses == {"fatima": "confirmed", "youssef": "withdrawn", "claire": "declined"}

    await offer(platform, "youssef", "energy.solar_pv_design", level=5)  # a filled need takes no one else
    await eventually(lambda: platform.drained("MEMBERS", "matching__SkillOffered_v1", 4))
    assert len(await matches_of(platform, 3, project_id=project["project_id"])) == 3


async def test_a_territory_manager_confirms_and_strangers_neither_confirm_nor_read(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", tafraout))
    project = await published_project(platform, "amina", tafraout, "energy.solar_pv_design")
    await offer(platform, "fatima", "energy.solar_pv_design")
    [match] = await matches_of(platform, project_id=project["project_id"])
    await platform.call("POST", f"/matches/{match['match_id']}/accept", "fatima", expect=200)

    stranger = platform.as_("bob")
    assert (
        await platform.http.post(f"/matches/{match['match_id']}/confirm", headers=stranger)
    ).status_code == 403
    listing = await platform.http.get(
        "/matches", params={"project_id": project["project_id"]}, headers=stranger
    )
    assert listing.status_code == 403
    await name_manager(platform, tafraout, "zineb")

    async def zineb_confirms() -> bool:
        response = await platform.http.post(
            f"/matches/{match['match_id']}/confirm", headers=platform.as_("zineb")
        )
        return response.status_code == 200

    await eventually(zineb_confirms)  # once matching has learnt she manages the territory


async def test_an_offer_that_arrives_before_its_members_profile_ends_as_if_in_order(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    project = await published_project(platform, "amina", tafraout, "energy.solar_pv_design")
    fields = profile("X", tafraout)
    in_order = MemberRegistered(member_id="in-order", **{**fields, "display_name": "In order"})
    out_of_order = MemberRegistered(member_id="late-profile", **{**fields, "display_name": "Late profile"})
    offered = {"skill": "energy.solar_pv_design", "level": 4, "modes": ["remote"], "languages": ["fr"]}

    await publish(platform, in_order)
    await eventually(lambda: platform.drained("MEMBERS", "matching__MemberRegistered_v1", 1))
    await publish(platform, SkillOffered(offer_id="o-in-order", member_id="in-order", **offered))
    await publish(platform, SkillOffered(offer_id="o-late", member_id="late-profile", **offered))
    await eventually(lambda: platform.drained("MEMBERS", "matching__SkillOffered_v1", 2))
    await publish(platform, out_of_order)

    async def both_bonded() -> list[dict[str, Any]]:
        found = await matches_of(platform, 2, project_id=project["project_id"])
        return found if all("bond_origin" in m["reasons"] for m in found) else []

    matches = {m["member_id"]: m for m in await eventually(both_bonded)}
    assert matches["in-order"]["score"] == matches["late-profile"]["score"]
    assert matches["in-order"]["reasons"] == matches["late-profile"]["reasons"]


async def test_a_bond_to_the_region_counts_for_a_project_in_one_of_its_communes(platform: Platform) -> None:
    region = await platform.call(
        "POST",
        "/territories",
        "op",
        "operator",
        expect=201,
        json={"name": "Souss-Massa", "country": "MA", "level": "region"},
    )
    commune = await platform.call(
        "POST",
        "/territories",
        "op",
        "operator",
        expect=201,
        json={"name": "Tafraout", "country": "MA", "level": "commune", "parent_id": region["territory_id"]},
    )
    await platform.call(
        "POST",
        "/members",
        "fatima",
        expect=201,
        json=profile("Fatima", region["territory_id"], bond="family"),
    )
    project = await published_project(platform, "amina", commune["territory_id"], "energy.solar_pv_design")
    await offer(platform, "fatima", "energy.solar_pv_design")
    [match] = await matches_of(platform, project_id=project["project_id"])
    assert "bond_family" in match["reasons"]


async def test_editing_a_project_matches_its_new_needs_and_withdraws_those_removed(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", tafraout))
    await offer(platform, "fatima", "energy.solar_pv_design")
    await offer(platform, "fatima", "health.nurse_training")
    project = await published_project(platform, "amina", tafraout, "energy.solar_pv_design")
    [solar] = await matches_of(platform, project_id=project["project_id"])

    nurse = {"skill": "health.nurse_training", "min_level": 2, "mode": "remote", "count": 1}
    await platform.call(
        "PATCH", f"/projects/{project['project_id']}", "amina", expect=200, json={"needs": [nurse]}
    )
    [withdrawn] = await platform.published("MATCHING", "MatchWithdrawn")
    assert (withdrawn["data"]["match_id"], withdrawn["data"]["reason"]) == (solar["match_id"], "need_removed")
    matches = await matches_of(platform, 2, project_id=project["project_id"])
    assert {(m["status"], m["reasons"][0]) for m in matches} == {
        ("withdrawn", "skill_exact"),
        ("proposed", "skill_exact"),
    }


async def test_withdrawing_the_offer_closing_the_project_or_erasing_the_member_withdraws_their_matches(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    for sub in ("fatima", "youssef"):
        await platform.call("POST", "/members", sub, expect=201, json=profile(sub.capitalize(), tafraout))
    first = await published_project(platform, "amina", tafraout, "energy.solar_pv_design")
    second = await published_project(platform, "amina", tafraout, "health.nurse_training")
    solar = await offer(platform, "fatima", "energy.solar_pv_design")
    await offer(platform, "fatima", "health.nurse_training")
    await offer(platform, "youssef", "energy.solar_pv_design")
    await matches_of(platform, 2, member_id="fatima")
    await matches_of(platform, 1, member_id="youssef")

    await platform.call("DELETE", f"/members/fatima/offers/{solar['offer_id']}", "fatima", expect=204)
    await platform.call(
        "POST", f"/projects/{second['project_id']}/close", "amina", expect=200, json={"outcome": "cancelled"}
    )
    await platform.call("DELETE", "/members/youssef", "youssef", expect=202)
    reasons = {
        (e["data"]["member_id"], e["data"]["project_id"], e["data"]["reason"])
        for e in await platform.published("MATCHING", "MatchWithdrawn", 3)
    }
    assert reasons == {
        ("fatima", first["project_id"], "offer_withdrawn"),
        ("fatima", second["project_id"], "project_closed"),
        ("youssef", first["project_id"], "member_erased"),
    }
    [kept] = await platform.call("GET", "/matches", "op", "operator", params={"member_id": "youssef"})
    assert (kept["status"], kept["reason"], kept["reasons"]) == ("withdrawn", "member_erased", []), (
        "the record stays, without what the reasons said of the erased member (origin, languages ...)"
    )


async def test_after_a_restart_the_index_is_rebuilt_and_proposes_nothing_twice(
    clean_nats: str, databases: Databases
) -> None:
    first = await start_platform(settings_for(clean_nats), databases)
    try:
        tafraout = await territory(first)
        await first.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", tafraout))
        project = await published_project(first, "amina", tafraout, "energy.solar_pv_design")
        await offer(first, "fatima", "energy.solar_pv_design")
        await matches_of(first, project_id=project["project_id"])
    finally:
        await first.stop()

    again = await start_platform(first.settings, databases, first.database_urls)
    try:
        await again.call("POST", "/members", "youssef", expect=201, json=profile("Youssef", tafraout))
        await offer(again, "youssef", "energy.solar_pv_design")
        matches = await matches_of(again, 2, project_id=project["project_id"])
        assert sorted(m["member_id"] for m in matches) == ["fatima", "youssef"]
        proposed = await again.published("MATCHING", "MatchProposed", 2)
        assert sorted(e["data"]["member_id"] for e in proposed) == ["fatima", "youssef"], "fatima only once"
    finally:
        await again.stop()


async def test_an_offer_that_leaves_a_need_and_comes_back_is_proposed_again_as_the_same_match(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", tafraout))
    project = await published_project(platform, "amina", tafraout, "energy.solar_pv_design")
    offered = await offer(platform, "fatima", "energy.solar_pv_design")
    [proposed] = await matches_of(platform, project_id=project["project_id"])
    path = f"/members/fatima/offers/{offered['offer_id']}"

    await platform.call("PATCH", path, "fatima", expect=200, json={"skill": "health.nursing"})

    async def withdrawn() -> bool:
        [match] = await matches_of(platform, project_id=project["project_id"])
        return match["status"] == "withdrawn"

    await eventually(withdrawn)
    await platform.call("PATCH", path, "fatima", expect=200, json={"skill": "energy.solar_pv_design"})

    async def proposed_again() -> list[dict[str, Any]]:
        told = await platform.published("MATCHING", "MatchProposed")
        return told if len(told) == 2 else []

    first, again = await eventually(proposed_again)
    assert first["data"]["match_id"] == again["data"]["match_id"] == proposed["match_id"]
    [match] = await matches_of(platform, project_id=project["project_id"])
    assert match["match_id"] == proposed["match_id"] and match["status"] == "proposed"
