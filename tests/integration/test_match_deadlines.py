"""After a proposal, on the real NATS and PostgreSQL: the project side's kind pass, the deadlines that
remind and then expire a proposal for the next offer, and the one-hour call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from ..harness import Databases, Platform, eventually, settings_for, start_platform
from .scenario import offer, profile, published_project, territory

SKILL = "energy.solar_pv_design"


@pytest.fixture
async def quick(
    clean_nats: str, databases: Databases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Platform]:
    """A platform whose needs take one offer at a time, and whose deadlines are looked at often."""
    monkeypatch.setenv("PASSERELLE_MATCHING_TOP_K", "1")
    monkeypatch.setenv("PASSERELLE_MATCHING_DEADLINE_SWEEP_SECONDS", "0.2")
    platform = await start_platform(settings_for(clean_nats, mail_dir=tmp_path / "mail"), databases)
    try:
        yield platform
    finally:
        await platform.stop()


async def two_offers_for_one_place(
    platform: Platform, mode: str = "remote"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Amina's project needs one solar engineer; Fatima and Youssef offer. The project and its proposal."""
    tafraout = await territory(platform)
    for sub in ("fatima", "youssef", "amina"):
        await platform.call("POST", "/members", sub, expect=201, json=profile(sub.capitalize(), tafraout))
    project = await published_project(platform, "amina", tafraout, SKILL, mode=mode)
    for sub in ("fatima", "youssef"):
        await offer(platform, sub, SKILL, mode=mode)
    offered = (await platform.js.stream_info("MEMBERS")).state.last_seq
    await eventually(lambda: platform.drained("MEMBERS", "matching__SkillOffered_v1", offered))
    [proposal] = [m for m in await matches(platform, project, 1) if m["status"] == "proposed"]
    return project, proposal


async def matches(platform: Platform, project: dict[str, Any], count: int) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]]:
        listed = await platform.call(
            "GET", "/matches", "amina", params={"project_id": project["project_id"]}, expect=200
        )
        return listed if len(listed) >= count else []

    return await eventually(found)


async def age(platform: Platform, match_id: str, days: int) -> None:
    """As if the match had waited `days` more in its stage."""
    url = make_url(platform.database_urls["matching"])
    connection = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database=url.database
    )
    try:
        await connection.execute(
            "UPDATE matches SET stage_since = stage_since - make_interval(days => $1) WHERE match_id = $2",
            days,
            match_id,
        )
    finally:
        await connection.close()


async def withdrawn_for(platform: Platform, reason: str, count: int = 1) -> list[dict[str, Any]]:
    """The MatchWithdrawn events of that reason, once there are `count`."""

    async def found() -> list[dict[str, Any]]:
        events = await platform.events("MATCHING")
        wanted = [
            e for e in events if e["type"].endswith("MatchWithdrawn.v1") and e["data"]["reason"] == reason
        ]
        return wanted if len(wanted) >= count else []

    return await eventually(found)


async def inbox_kinds(platform: Platform, sub: str) -> list[dict[str, Any]]:
    return list(await platform.call("GET", "/notifications", sub, params={"member_id": sub}, expect=200))


async def test_a_pass_withdraws_the_match_kindly_keeps_the_reason_for_the_project_and_lets_the_next_offer_in(
    quick: Platform,
) -> None:
    project, proposal = await two_offers_for_one_place(quick)
    helper, match_id = proposal["member_id"], proposal["match_id"]
    body = {"reason_code": "found_someone", "note": "A cousin of the mayor will do it"}
    early = await quick.http.post(f"/matches/{match_id}/pass", json=body, headers=quick.as_("amina"))
    assert early.status_code == 409  # only an accepted match is passed on
    await quick.call("POST", f"/matches/{match_id}/accept", helper, expect=200)
    refused = await quick.http.post(f"/matches/{match_id}/pass", json=body, headers=quick.as_(helper))
    assert refused.status_code == 403
    bad = await quick.http.post(
        f"/matches/{match_id}/pass", json={"reason_code": "rude"}, headers=quick.as_("amina")
    )
    assert bad.status_code == 422

    passed = await quick.call("POST", f"/matches/{match_id}/pass", "amina", json=body, expect=200)
    assert (passed["status"], passed["reason"]) == ("withdrawn", "passed")
    [withdrawn] = await withdrawn_for(quick, "passed")
    assert withdrawn["data"]["match_id"] == match_id and "cousin" not in str(withdrawn)
    record = await quick.call("GET", f"/matches/{match_id}/pass", "amina", expect=200)
    assert (record["reason_code"], record["note"]) == ("found_someone", "A cousin of the mayor will do it")
    assert (await quick.http.get(f"/matches/{match_id}/pass", headers=quick.as_(helper))).status_code == 403

    listed = await matches(quick, project, 2)
    assert {m["member_id"] for m in listed if m["status"] == "proposed"} == {"fatima", "youssef"} - {helper}

    async def told_kindly() -> list[dict[str, Any]]:
        return [n for n in await inbox_kinds(quick, helper) if n["kind"] == "match_withdrawn"]

    [notice] = await eventually(told_kindly)
    assert "une autre voie" in notice["body"]
    assert "cousin" not in str(notice) and "found_someone" not in str(notice)


async def test_an_unanswered_proposal_is_reminded_then_expires_once_and_the_next_offer_enters_the_top(
    quick: Platform,
) -> None:
    project, proposal = await two_offers_for_one_place(quick)
    first, match_id = proposal["member_id"], proposal["match_id"]
    assert proposal["answer_by"] is not None

    await age(quick, match_id, 8)
    [reminded] = await quick.published("MATCHING", "MatchReminded")
    assert (reminded["data"]["match_id"], reminded["data"]["reminded"]) == (match_id, "member")

    async def reminder() -> list[dict[str, Any]]:
        return [n for n in await inbox_kinds(quick, first) if n["kind"] == "match_reminder"]

    await eventually(reminder)

    await age(quick, match_id, 7)
    [expired] = await withdrawn_for(quick, "expired")
    assert expired["data"]["match_id"] == match_id
    following = [m for m in await matches(quick, project, 2) if m["status"] == "proposed"]
    assert [m["member_id"] for m in following] == [m for m in ("fatima", "youssef") if m != first]

    await age(quick, following[0]["match_id"], 8)  # sweeps go on: the next is reminded, none ends twice
    await quick.published("MATCHING", "MatchReminded", 2)
    assert len(await withdrawn_for(quick, "expired")) == 1
    assert len(await quick.published("MATCHING", "MatchReminded")) == 2


async def test_an_accepted_match_left_unconfirmed_reminds_the_project_once(quick: Platform) -> None:
    _, proposal = await two_offers_for_one_place(quick)
    await quick.call("POST", f"/matches/{proposal['match_id']}/accept", proposal["member_id"], expect=200)
    await age(quick, proposal["match_id"], 15)
    [reminded] = await quick.published("MATCHING", "MatchReminded")
    assert reminded["data"]["reminded"] == "project"

    async def owner_reminded() -> list[dict[str, Any]]:
        return [n for n in await inbox_kinds(quick, "amina") if n["kind"] == "match_confirm_reminder"]

    await eventually(owner_reminded)
    withdrawn = [e for e in await quick.events("MATCHING") if e["type"].endswith("MatchWithdrawn.v1")]
    assert proposal["match_id"] not in [e["data"]["match_id"] for e in withdrawn]


async def test_a_one_hour_call_is_matched_to_offers_of_calls_from_afar(platform: Platform) -> None:
    tafraout = await territory(platform)
    await platform.call("POST", "/members", "fatima", expect=201, json=profile("Fatima", "elsewhere"))
    project = await published_project(platform, "amina", tafraout, SKILL, mode="call")
    await offer(platform, "fatima", SKILL, mode="call")
    [match] = await matches(platform, project, 1)
    assert match["member_id"] == "fatima" and "mode:call" in match["reasons"]
