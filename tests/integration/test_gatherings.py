"""The gatherings service through its HTTP API and the events it consumes, on the real NATS and
PostgreSQL: places and the waitlist under concurrent registrations, promotion once, who sees the
online link, calendar files, check-in, the closing report and erasure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar

from ..harness import Platform, eventually
from .scenario import name_manager, profile, territory

STARTS = (datetime.now(UTC) + timedelta(days=10)).replace(hour=17, minute=0, second=0, microsecond=0)


def session(territory_id: str, **overrides: Any) -> dict[str, Any]:
    """An information session on investing at home, in Tafraout."""
    return {
        "territory_id": territory_id,
        "kind": "information_session",
        "format": "in_person",
        "title": "Investir au pays",
        "description": "MEDMA II: how to invest at home.",
        "languages": ["fr", "ar"],
        "starts_at": STARTS.isoformat(),
        "ends_at": (STARTS + timedelta(hours=2)).isoformat(),
        "time_zone": "Africa/Casablanca",
        "venue": {
            "name": "Maison des jeunes",
            "address": "Avenue Hassan II",
            "city": "Tafraout",
            "country": "MA",
        },
        "capacity": 2,
        **overrides,
    }


async def members(platform: Platform, territory_id: str, *names: str) -> None:
    for name in names:
        await platform.call(
            "POST", "/members", name, expect=201, json=profile(name.capitalize(), territory_id)
        )


async def published(platform: Platform, organiser: str, body: dict[str, Any]) -> dict[str, Any]:
    """A gathering created (once gatherings knows the territory and the organiser) and published."""

    async def created() -> dict[str, Any] | None:
        response = await platform.http.post("/gatherings", headers=platform.as_(organiser), json=body)
        return response.json() if response.status_code == 201 else None

    gathering = await eventually(created)
    path = f"/gatherings/{gathering['gathering_id']}"
    return dict(await platform.call("POST", f"{path}/publish", organiser, expect=200))


async def register(platform: Platform, gathering_id: str, member: str, **body: Any) -> dict[str, Any]:
    return dict(
        await platform.call(
            "POST", f"/gatherings/{gathering_id}/registrations", member, expect=201, json=body
        )
    )


async def mine(platform: Platform, gathering_id: str, member: str) -> dict[str, Any] | None:
    read = await platform.call("GET", f"/gatherings/{gathering_id}", member, expect=200)
    return read["my_registration"]


async def test_three_concurrent_registrations_for_two_places_give_two_confirmed_and_one_waitlisted(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await members(platform, tafraout, "fatima", "youssef", "hassan", "leila")
    gathering = await published(platform, "fatima", session(tafraout))
    gathering_id = gathering["gathering_id"]

    answers = await asyncio.gather(
        *(register(platform, gathering_id, m) for m in ("youssef", "hassan", "leila"))
    )

    assert sorted(a["status"] for a in answers) == ["confirmed", "confirmed", "waitlisted"]
    [waiting] = [a for a in answers if a["status"] == "waitlisted"]
    assert waiting["position"] == 1
    read = await platform.call("GET", f"/gatherings/{gathering_id}", "fatima", expect=200)
    assert (read["confirmed"], read["waitlisted"]) == (2, 1)
    await platform.published("GATHERINGS", "RegistrationConfirmed", 2)
    await platform.published("GATHERINGS", "RegistrationWaitlisted", 1)
    again = await platform.http.post(
        f"/gatherings/{gathering_id}/registrations", headers=platform.as_("youssef"), json={}
    )
    assert again.status_code == 409


async def test_one_cancellation_promotes_the_first_waiting_exactly_once_even_when_retried(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await members(platform, tafraout, "fatima", "youssef", "hassan", "leila", "omar")
    gathering_id = (await published(platform, "fatima", session(tafraout)))["gathering_id"]
    youssef = await register(platform, gathering_id, "youssef")
    await register(platform, gathering_id, "hassan")
    leila = await register(platform, gathering_id, "leila")
    omar = await register(platform, gathering_id, "omar")
    assert (leila["status"], leila["position"], omar["position"]) == ("waitlisted", 1, 2)

    path = f"/gatherings/{gathering_id}/registrations/{youssef['registration_id']}"
    await platform.call("DELETE", path, "hassan", expect=403)
    await platform.call("DELETE", path, "youssef", expect=204)
    await platform.call("DELETE", path, "youssef", expect=204)  # the retried request

    [promoted] = await platform.published("GATHERINGS", "RegistrationPromoted")
    assert promoted["data"]["member_id"] == "leila"
    assert (await mine(platform, gathering_id, "leila") or {})["status"] == "confirmed"
    assert (await mine(platform, gathering_id, "omar") or {})["status"] == "waitlisted"
    assert await mine(platform, gathering_id, "youssef") is None
    await platform.published("GATHERINGS", "RegistrationCancelled")
    events = await platform.events("GATHERINGS")
    assert [e["type"] for e in events].count("passerelle.gatherings.RegistrationPromoted.v1") == 1
    assert [e["type"] for e in events].count("passerelle.gatherings.RegistrationCancelled.v1") == 1


async def test_the_online_link_goes_only_to_confirmed_registrants_organisers_and_managers(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await members(platform, tafraout, "fatima", "youssef", "hassan", "leila")
    await name_manager(platform, tafraout, "amina")
    link = "https://meet.example.org/tafraout"
    body = session(tafraout, format="hybrid", online_url=link, capacity=1)
    gathering_id = (await published(platform, "fatima", body))["gathering_id"]
    await register(platform, gathering_id, "youssef", attendance="online")
    waiting = await register(platform, gathering_id, "hassan", attendance="online")
    assert waiting["status"] == "waitlisted"

    async def link_seen_by(sub: str, *roles: str) -> str | None:
        read = await platform.call("GET", f"/gatherings/{gathering_id}", sub, *roles, expect=200)
        return read["online_url"]

    assert await link_seen_by("youssef") == link
    assert await link_seen_by("fatima") == link
    assert await eventually(lambda: link_seen_by("amina"))  # once gatherings knows she manages Tafraout
    assert await link_seen_by("operator-1", "operator") == link
    assert await link_seen_by("hassan") is None
    assert await link_seen_by("leila") is None
    listed = await platform.call("GET", "/gatherings", "leila", params={"territory_id": tafraout}, expect=200)
    assert [g["online_url"] for g in listed] == [None]
    snapshot = (await platform.published("GATHERINGS", "GatheringScheduled"))[0]["data"]
    assert "online_url" not in snapshot
    assert link not in str(await platform.events("GATHERINGS"))


async def test_the_calendar_file_parses_with_utc_times_and_the_link_and_the_personal_feed_has_the_online_link(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await members(platform, tafraout, "fatima", "youssef")
    link = "https://meet.example.org/tafraout"
    gathering_id = (await published(platform, "fatima", session(tafraout, format="hybrid", online_url=link)))[
        "gathering_id"
    ]

    response = await platform.http.get(f"/gatherings/{gathering_id}.ics", headers=platform.as_("youssef"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert event.decoded("dtstart") == STARTS
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert b"DTSTART:" in response.content and b"Z\r\n" in response.content
    assert str(event["url"]).endswith(f"/app/g/{gathering_id}")
    assert link not in response.text

    await register(platform, gathering_id, "youssef", attendance="online")
    feed = await platform.call("GET", "/gatherings/calendar-link", "youssef", params={"member_id": "youssef"})
    await platform.call(
        "GET", "/gatherings/calendar-link", "fatima", params={"member_id": "youssef"}, expect=403
    )
    path = feed["url"].split("://", 1)[1].split("/", 1)[1]
    personal = await platform.http.get(f"/{path}")  # a calendar app sends no token: the link is the key
    assert personal.status_code == 200
    [entry] = Calendar.from_ical(personal.content).walk("VEVENT")
    assert link in str(entry["description"])
    assert (await platform.http.get("/gatherings/feeds/not-a-token.ics")).status_code == 404


async def test_a_wrong_check_in_code_is_a_422_and_the_closing_report_counts_walk_ins(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await members(platform, tafraout, "fatima", "youssef", "hassan")
    starts = datetime.now(UTC) + timedelta(seconds=12)
    body = session(tafraout, starts_at=starts.isoformat(), ends_at=(starts + timedelta(hours=1)).isoformat())
    gathering_id = (await published(platform, "fatima", body))["gathering_id"]
    youssef = await register(platform, gathering_id, "youssef")
    await register(platform, gathering_id, "hassan")
    check_in = f"/gatherings/{gathering_id}/check-in"

    wrong = await platform.http.post(check_in, headers=platform.as_("fatima"), json={"code": "WRONG1"})
    assert wrong.status_code == 422
    assert wrong.headers["content-type"] == "application/problem+json"
    await platform.call("POST", check_in, "youssef", expect=403, json={"code": youssef["code"]})
    attended = await platform.call(
        "POST", check_in, "fatima", expect=200, json={"code": youssef["code"].lower()}
    )
    assert attended["status"] == "attended"
    await platform.call("POST", check_in, "fatima", expect=200, json={"code": youssef["code"]})  # again: once

    csv = await platform.http.get(
        f"/gatherings/{gathering_id}/registrations", headers={**platform.as_("fatima"), "Accept": "text/csv"}
    )
    assert csv.headers["content-type"].startswith("text/csv")
    assert "Youssef" in csv.text and "attended" in csv.text

    async def started() -> bool:
        return datetime.now(UTC) > starts

    await eventually(started)
    report = {"walk_ins": 3, "summary": "Good questions.", "outcomes": [{"kind": "project", "id": "p-1"}]}
    closed = await platform.call(
        "POST", f"/gatherings/{gathering_id}/close", "fatima", expect=200, json=report
    )
    assert (closed["status"], closed["attended"], closed["walk_ins"]) == ("closed", 1, 3)
    [event] = await platform.published("GATHERINGS", "GatheringClosed")
    assert (event["data"]["registered"], event["data"]["attendance"]) == (1, 4)


async def test_erasure_removes_the_members_registrations_keeps_attendance_and_gives_the_place_away(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await members(platform, tafraout, "fatima", "youssef", "hassan", "leila")
    gathering_id = (await published(platform, "fatima", session(tafraout)))["gathering_id"]
    await register(platform, gathering_id, "youssef")
    await register(platform, gathering_id, "hassan")
    await register(platform, gathering_id, "leila")

    await platform.call("DELETE", "/members/youssef", "youssef", expect=202)

    async def forgotten() -> list[dict[str, Any]] | None:
        listed = await platform.call("GET", f"/gatherings/{gathering_id}/registrations", "fatima", expect=200)
        return None if any(r["member_id"] == "youssef" for r in listed) else listed

    remaining = await eventually(forgotten)
    assert [(r["member_id"], r["status"]) for r in remaining] == [
        ("hassan", "confirmed"),
        ("leila", "confirmed"),
    ]
    mine_listed = await platform.call(
        "GET",
        "/gatherings/registrations",
        "operator-1",
        "operator",
        params={"member_id": "youssef"},
        expect=200,
    )
    assert mine_listed == []
    [promoted] = await platform.published("GATHERINGS", "RegistrationPromoted")
    assert promoted["data"]["member_id"] == "leila"
    # The erased identity's token, still valid, acts on nothing.
    await platform.call("POST", f"/gatherings/{gathering_id}/registrations", "youssef", expect=403, json={})


@pytest.mark.parametrize("field", ["territory_id", "kind", "time_zone", "ends_at"])
async def test_bad_input_is_a_clear_422_that_creates_nothing(platform: Platform, field: str) -> None:
    tafraout = await territory(platform)
    await members(platform, tafraout, "fatima")
    bad = {
        "territory_id": "nowhere",
        "kind": "party",
        "time_zone": "Mars/Olympus",
        "ends_at": STARTS.isoformat(),
    }
    response = await platform.http.post(
        "/gatherings", headers=platform.as_("fatima"), json={**session(tafraout), field: bad[field]}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await platform.call("GET", "/gatherings", "fatima", expect=200) == []


async def test_a_registration_sent_again_with_its_idempotency_key_gets_the_first_answer_and_no_second_place(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await members(platform, tafraout, "fatima", "youssef")
    gathering_id = (await published(platform, "fatima", session(tafraout)))["gathering_id"]
    path = f"/gatherings/{gathering_id}/registrations"
    headers = {**platform.as_("youssef"), "Idempotency-Key": "register-youssef-1"}

    first = await platform.http.post(path, headers=headers, json={"attendance": "in_person"})
    again = await platform.http.post(path, headers=headers, json={"attendance": "in_person"})
    other = await platform.http.post(path, headers=headers, json={})

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
    assert again.json() == first.json()
    read = await platform.call("GET", f"/gatherings/{gathering_id}", "fatima", expect=200)
    assert read["confirmed"] == 1


async def test_concurrent_withdrawals_and_registrations_never_exceed_the_places_and_promote_each_once(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    people = [f"member{n}" for n in range(8)]
    await members(platform, tafraout, "fatima", *people)
    gathering_id = (await published(platform, "fatima", session(tafraout, capacity=3)))["gathering_id"]
    first = [await register(platform, gathering_id, m) for m in people[:5]]  # 3 confirmed, 2 waiting
    withdrawals = [
        platform.call(
            "DELETE", f"/gatherings/{gathering_id}/registrations/{r['registration_id']}", r["member_id"]
        )
        for r in first[:2]
    ]
    registrations = [register(platform, gathering_id, m) for m in people[5:]]

    await asyncio.gather(*withdrawals, *registrations)

    listed = await platform.call("GET", f"/gatherings/{gathering_id}/registrations", "fatima", expect=200)
    confirmed = [r["member_id"] for r in listed if r["status"] == "confirmed"]
    assert len(confirmed) == 3 and {"member3", "member4"} <= set(confirmed)
    promoted = await platform.published("GATHERINGS", "RegistrationPromoted", 2)
    assert sorted(e["data"]["member_id"] for e in promoted) == ["member3", "member4"]
