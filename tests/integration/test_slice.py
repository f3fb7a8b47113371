"""The first slice through all four services, on the real NATS and PostgreSQL."""

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

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

    async def told_of_the_match() -> list[dict[str, Any]]:
        inbox = await platform.call("GET", "/notifications", "fatima", params={"member_id": "fatima"})
        return [n for n in inbox if n["kind"] == "match_proposed"]

    [told] = await eventually(told_of_the_match)
    assert told["language"] == "fr"
    assert "Solar health post" in told["title"] and "Tafraout" in told["title"]
    # Without an SMTP server, the e-mail is written where a developer can open it.
    mail_dir = platform.settings.mail_dir
    assert mail_dir is not None

    async def emails_to_fatima() -> list[EmailMessage]:
        found = [message_from_bytes(path.read_bytes(), policy=default) for path in mail_dir.glob("*.eml")]
        return [e for e in found if e["To"] == "fatima@example.org" and "Solar health post" in e["Subject"]]

    [written] = await eventually(emails_to_fatima)
    assert written["Content-Language"] == "fr" and written["Subject"] == told["title"]


async def test_an_offer_for_a_skill_no_need_asks_for_proposes_nothing(platform: Platform) -> None:
    tafraout = await territory(platform)
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", tafraout))
    await platform.call("POST", "/members", "amina", expect=201, json=profile("Amina", tafraout))
    await published_project(platform, "amina", tafraout, "energy.solar_pv_design")
    await offer(platform, "fatima", "health.nurse_training", mode="remote")

    # Wait until matching has seen the offer, then check it proposed nothing.
    await eventually(lambda: platform.drained("MEMBERS", "matching__SkillOffered_v1"))
    assert await platform.call("GET", "/matches", "fatima", params={"member_id": "fatima"}, expect=200) == []
