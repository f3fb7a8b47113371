"""The conversations service on the real NATS and PostgreSQL: the thread a confirmed match opens, the
messages both sides exchange, who may read them, and erasure."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from passerelle.contracts import (
    IntroductionMade,
    MatchConfirmed,
    MemberRegistered,
    MessagePosted,
    Need,
    OpportunityPublished,
    ProjectPublished,
    envelope,
    envelope_type,
)

from ..harness import Platform, eventually
from .scenario import offer, profile, publish, published_project, territory

SKILL = "energy.solar_pv_design"


async def threads_of(platform: Platform, sub: str, member_id: str, count: int = 1) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]]:
        response = await platform.http.get(
            "/threads", params={"member_id": member_id}, headers=platform.as_(sub)
        )
        listed = response.json() if response.status_code == 200 else []
        return listed if len(listed) >= count else []

    return await eventually(found)


async def confirmed_match_thread(platform: Platform) -> dict[str, Any]:
    """Fatima's offer matches Amina's solar project; she accepts, Amina confirms: their thread."""
    tafraout = await territory(platform)
    for sub in ("fatima", "amina"):
        await platform.call("POST", "/members", sub, expect=201, json=profile(sub.capitalize(), tafraout))
    project = await published_project(platform, "amina", tafraout, SKILL)
    await offer(platform, "fatima", SKILL)

    async def proposed() -> list[dict[str, Any]]:
        found = await platform.call("GET", "/matches", "fatima", params={"member_id": "fatima"}, expect=200)
        return list(found)

    [match] = await eventually(proposed)
    await platform.call("POST", f"/matches/{match['match_id']}/accept", "fatima", expect=200)
    await platform.call("POST", f"/matches/{match['match_id']}/confirm", "amina", expect=200)
    [thread] = await threads_of(platform, "fatima", "fatima")
    assert thread["title"] == project["title"]
    return dict(thread)


async def test_a_match_confirmed_twice_and_before_the_owners_profile_opens_exactly_one_thread(
    platform: Platform,
) -> None:
    confirmed = envelope(
        MatchConfirmed(match_id="match-1", project_id="solar", need_id="need-1", member_id="fatima")
    )
    await publish(platform, confirmed)
    await publish(platform, confirmed)  # redelivered
    await publish(
        platform,
        ProjectPublished(
            project_id="solar",
            territory_id="tafraout",
            owner_member_id="assoc",
            title="Solar-powered health post",
            summary="Power the health post.",
            sector="energy",
            needs=[Need(need_id="need-1", skill=SKILL, min_level=3, mode="remote", count=1)],
        ),
    )
    await publish(platform, confirmed)  # and again, once the project is known
    [opened] = await platform.published("CONVERSATIONS", "ThreadOpened")
    assert opened["data"]["participant_member_ids"] == ["fatima", "assoc"]
    assert (opened["data"]["context_kind"], opened["data"]["context_id"]) == ("match", "match-1")

    path = f"/threads/{opened['data']['thread_id']}"
    assert (await platform.http.get(path, headers=platform.as_("amina"))).status_code == 403
    association = profile("Tafraout Solidarité", "tafraout", kind="association", managers=["amina"])
    await publish(platform, MemberRegistered(member_id="assoc", **association))

    async def amina_acts_for_the_association() -> bool:
        return (await platform.http.get(path, headers=platform.as_("amina"))).status_code == 200

    await eventually(amina_acts_for_the_association)
    posted = await platform.call("POST", f"{path}/messages", "amina", expect=201, json={"body": "Welcome!"})
    assert posted["author_member_id"] == "assoc"
    await eventually(lambda: platform.drained("MATCHING", "conversations__MatchConfirmed_v1", 3))
    assert len(await platform.published("CONVERSATIONS", "ThreadOpened")) == 1


@pytest.mark.parametrize("opportunity_first", [True, False])
async def test_a_match_on_an_opportunitys_support_need_opens_one_thread_with_its_promoter_in_either_order(
    platform: Platform, opportunity_first: bool
) -> None:
    opportunity = OpportunityPublished(
        opportunity_id="bakery",
        territory_id="tafraout",
        promoter_member_id="karim",
        kind="business_takeover",
        sector="food",
        title="Bakery takeover",
        summary="Take over the village bakery.",
        language="fr",
        stage="operating",
        support_needs=[Need(need_id="need-1", skill=SKILL, min_level=3, mode="remote", count=1)],
        expires_on=date(2027, 6, 30),
    )
    confirmed = MatchConfirmed(match_id="match-1", project_id="bakery", need_id="need-1", member_id="fatima")
    for event in (opportunity, confirmed) if opportunity_first else (confirmed, opportunity):
        await publish(platform, event)
    [opened] = await platform.published("CONVERSATIONS", "ThreadOpened")
    assert opened["data"]["participant_member_ids"] == ["fatima", "karim"]
    assert (opened["data"]["context_kind"], opened["data"]["context_id"]) == ("match", "match-1")
    [thread] = await threads_of(platform, "karim", "karim")
    assert (thread["title"], [p["role"] for p in thread["participants"]]) == (
        "Bakery takeover",
        ["helper", "owner"],
    )


async def test_both_sides_exchange_messages_that_strangers_neither_read_nor_write(platform: Platform) -> None:
    thread = await confirmed_match_thread(platform)
    path = f"/threads/{thread['thread_id']}"
    assert {p["member_id"]: p["role"] for p in thread["participants"]} == {
        "fatima": "helper",
        "amina": "owner",
    }

    first = await platform.call(
        "POST", f"{path}/messages", "fatima", expect=201, json={"body": "Salam Amina"}
    )
    await platform.call(
        "POST", f"{path}/messages", "amina", expect=201, json={"body": "Marhba, mail me: a@x.ma"}
    )
    [unread] = await threads_of(platform, "fatima", "fatima")
    assert unread["unread"] == 1
    assert (await platform.call("POST", f"{path}/read", "fatima", expect=200))["unread"] == 0

    page = await platform.http.get(f"{path}/messages", params={"limit": 1}, headers=platform.as_("amina"))
    assert [m["body"] for m in page.json()] == ["Salam Amina"]
    assert page.headers["X-Total-Count"] == "2" and f"after={first['message_id']}" in page.headers["Link"]
    rest = await platform.call(
        "GET", f"{path}/messages", "amina", params={"after": first["message_id"]}, expect=200
    )
    assert [m["body"] for m in rest] == ["Marhba, mail me: a@x.ma"]

    for method, where, body in (
        ("GET", path, None),
        ("GET", f"{path}/messages", None),
        ("POST", f"{path}/messages", {"body": "cold message"}),
        ("GET", "/threads?member_id=fatima", None),
    ):
        response = await platform.http.request(method, where, json=body, headers=platform.as_("youssef"))
        assert response.status_code == 403, (method, where)
        assert response.headers["content-type"].startswith("application/problem+json")
    too_long = await platform.http.post(
        f"{path}/messages", json={"body": "x" * 4001}, headers=platform.as_("fatima")
    )
    assert too_long.status_code == 422
    assert await platform.call("GET", path, "moderator", "operator", expect=200)

    reported = await platform.http.post(
        f"{path}/messages/{first['message_id']}/report",
        json={"reason": "spam"},
        headers=platform.as_("amina"),
    )
    assert reported.status_code == 202
    [report] = await platform.call("GET", "/threads/reports", "moderator", "operator", expect=200)
    assert (report["reason"], report["message"]["body"], report["reporter_member_id"]) == (
        "spam",
        "Salam Amina",
        "amina",
    )
    assert (await platform.http.get("/threads/reports", headers=platform.as_("amina"))).status_code == 403
    posted = await platform.published("CONVERSATIONS", "MessagePosted", 2)
    assert all(
        set(event["data"]) >= {"message_id", "thread_id", "author_member_id", "sent_at"} for event in posted
    )
    assert not any("body" in event["data"] or "Salam" in str(event) for event in posted)


async def test_an_erased_members_message_bodies_go_and_the_thread_stays_for_the_other_side(
    platform: Platform,
) -> None:
    thread = await confirmed_match_thread(platform)
    path = f"/threads/{thread['thread_id']}"
    await platform.call("POST", f"{path}/messages", "fatima", expect=201, json={"body": "My number is 0470"})
    await platform.call("POST", f"{path}/messages", "amina", expect=201, json={"body": "Thanks"})

    await platform.call("DELETE", "/members/fatima", "fatima", expect=202)

    async def erased() -> list[dict[str, Any]]:
        messages = await platform.call("GET", f"{path}/messages", "amina", expect=200)
        return list(messages) if messages[0]["author_erased"] else []

    messages = await eventually(erased)
    assert [(m["author_member_id"], m["body"]) for m in messages] == [("erased", None), ("amina", "Thanks")]
    assert [
        p["member_id"] for p in (await platform.call("GET", path, "amina", expect=200))["participants"]
    ] == ["amina"]


async def test_introductions_open_threads_with_the_promoters_listed_unread_first(platform: Platform) -> None:
    for interest_id, promoter in (("interest-1", "karim"), ("interest-2", "salma")):
        introduction = IntroductionMade(
            interest_id=interest_id,
            opportunity_id="opp-1",
            promoter_member_id=promoter,
            member_id="fatima",
            role="investor",
        )
        await publish(platform, introduction)
    opened = await platform.published("CONVERSATIONS", "ThreadOpened", 2)
    by_context = {e["data"]["context_id"]: e["data"]["thread_id"] for e in opened}
    assert {e["data"]["context_kind"] for e in opened} == {"introduction"}
    first = await platform.call("GET", f"/threads/{by_context['interest-1']}", "karim", expect=200)
    assert {p["member_id"]: p["role"] for p in first["participants"]} == {
        "fatima": "investor",
        "karim": "promoter",
    }

    await platform.call(
        "POST", f"/threads/{by_context['interest-1']}/messages", "karim", expect=201, json={"body": "Hello"}
    )
    await platform.call(
        "POST", f"/threads/{by_context['interest-2']}/messages", "fatima", expect=201, json={"body": "Hi"}
    )
    listed = await threads_of(platform, "fatima", "fatima", 2)
    assert [(t["context_id"], t["unread"]) for t in listed] == [("interest-1", 1), ("interest-2", 0)]
    await platform.call("POST", f"/threads/{by_context['interest-1']}/read", "fatima", expect=200)
    listed = await threads_of(platform, "fatima", "fatima", 2)
    assert [t["context_id"] for t in listed] == ["interest-2", "interest-1"]  # then the latest active


async def test_the_other_side_is_told_once_per_message_in_their_language_and_a_burst_makes_one_email(
    platform: Platform,
) -> None:
    thread = await confirmed_match_thread(platform)
    path = f"/threads/{thread['thread_id']}"
    for body in ("Salam Amina", "I can start on Monday"):
        await platform.call("POST", f"{path}/messages", "fatima", expect=201, json={"body": body})
    posted = await platform.published("CONVERSATIONS", "MessagePosted", 2)
    await publish(platform, envelope_type(MessagePosted).model_validate(posted[0]))  # redelivered
    await eventually(lambda: platform.drained("CONVERSATIONS", "notifications__MessagePosted_v1", 3))

    inbox = await platform.call("GET", "/notifications", "amina", params={"member_id": "amina"}, expect=200)
    told = [n for n in inbox if n["kind"] == "message_posted"]
    assert [n["title"] for n in told] == ["Fatima vous a écrit au sujet de Solar health post"] * 2
    assert not any("Salam" in str(n) or "Monday" in str(n) for n in told)
    fatima_inbox = await platform.call(
        "GET", "/notifications", "fatima", params={"member_id": "fatima"}, expect=200
    )
    assert not [n for n in fatima_inbox if n["kind"] == "message_posted"]

    emails = await platform.call(
        "GET",
        "/notification-deliveries",
        "moderator",
        "operator",
        params={"member_id": "amina", "kind": "message_posted", "channel": "email"},
        expect=200,
    )
    assert len(emails) == 2 and len({e["message_id"] for e in emails}) == 1  # one e-mail for the burst
