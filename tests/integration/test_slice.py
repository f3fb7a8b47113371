"""The first slice through all four services, on the real NATS and PostgreSQL."""

from ..harness import Platform, eventually
from .scenario import offer, profile, published_project, territory


async def test_a_published_need_and_a_matching_offer_reach_the_member_as_a_notification(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", tafraout))
    await platform.call("POST", "/members", "amina", expect=201, json=profile("Amina", tafraout))
    project = await published_project(platform, "amina", tafraout, "energy.solar_pv_design")
    await offer(platform, "fatima", "energy.solar_pv_design")

    matches = await eventually(
        lambda: platform.call("GET", "/matches", "fatima", params={"member_id": "fatima"}, expect=200)
    )
    assert [(m["project_id"], m["member_id"]) for m in matches] == [(project["project_id"], "fatima")]
    assert {"skill_exact", "bond_origin", "language:fr"} <= set(matches[0]["reasons"])

    inbox = await eventually(
        lambda: platform.call("GET", "/notifications", "fatima", params={"member_id": "fatima"}, expect=200)
    )
    assert len(inbox) == 1
    assert inbox[0]["language"] == "fr"
    assert "Solar health post" in inbox[0]["title"] and "Tafraout" in inbox[0]["title"]


async def test_an_offer_for_a_skill_no_need_asks_for_proposes_nothing(platform: Platform) -> None:
    tafraout = await territory(platform)
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", tafraout))
    await platform.call("POST", "/members", "amina", expect=201, json=profile("Amina", tafraout))
    await published_project(platform, "amina", tafraout, "energy.solar_pv_design")
    await offer(platform, "fatima", "health.nurse_training", mode="remote")

    # Wait until matching has seen the offer, then check it proposed nothing.
    await eventually(lambda: platform.drained("MEMBERS", "matching__SkillOffered_v1"))
    assert await platform.call("GET", "/matches", "fatima", params={"member_id": "fatima"}, expect=200) == []
