"""What members hear of gatherings, through the real NATS and PostgreSQL: territory news, the
confirmation with its calendar file, one promotion notice in the member's language, reminders once
at the intended time for members in Brussels and Casablanca (an injected clock), changes and
cancellations, each with the time in the venue's zone and the member's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from gatherings.config import GatheringsSettings
from gatherings.handlers import GatheringsHandlers
from gatherings.repository import SqlGatheringsRepository

from ..harness import Platform, eventually
from .scenario import profile, territory
from .test_gatherings import published, register, session

# 17:00 UTC in winter: 18:00 in Tafraout and in Brussels, 12:00 in Montreal.
STARTS = datetime(2027, 1, 12, 17, 0, tzinfo=UTC)


async def inbox(platform: Platform, member_id: str, kind: str, count: int = 1) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]]:
        told = await platform.call("GET", "/notifications", member_id, params={"member_id": member_id})
        of_kind = [n for n in told if n["kind"] == kind]
        return of_kind if len(of_kind) >= count else []

    return await eventually(found)


async def join(platform: Platform, territory_id: str, name: str, **extra: Any) -> None:
    await platform.call(
        "POST", "/members", name, expect=201, json=profile(name.capitalize(), territory_id, **extra)
    )


def at(starts: datetime) -> dict[str, str]:
    return {"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat()}


async def test_a_new_gathering_is_news_for_members_who_asked_for_their_territorys_news(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    for name in ("fatima", "youssef", "hassan"):
        await join(platform, tafraout, name)
    await platform.call(
        "PUT", "/notification-preferences/youssef", "youssef", json={"territory_news": [tafraout]}, expect=200
    )
    # Preferences can be saved before notifications has a member's profile; news go to the members
    # it knows when it tells them: their welcome says it knows them and their commune.
    for name in ("youssef", "hassan"):
        await inbox(platform, name, "welcome")
    gathering = await published(platform, "fatima", session(tafraout, **at(STARTS)))

    [news] = await inbox(platform, "youssef", "gathering_scheduled")
    assert news["title"] == "Une rencontre à Tafraout : Investir au pays"
    assert "séance d'information" in news["body"] and f"/app/g/{gathering['gathering_id']}" in news["body"]
    assert "le 12/01/2027 à 18:00 à Tafraout" in news["body"]
    told = await platform.call("GET", "/notifications", "hassan", params={"member_id": "hassan"})
    assert "gathering_scheduled" not in [n["kind"] for n in told]


async def test_a_confirmation_carries_the_calendar_file_and_a_promotion_is_told_once_in_the_members_language(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await join(platform, tafraout, "fatima")
    await join(platform, tafraout, "youssef")
    await join(
        platform, tafraout, "leila", locale="ar", time_zone="America/Montreal", country_of_residence="CA"
    )
    gathering_id = (await published(platform, "fatima", session(tafraout, capacity=1, **at(STARTS))))[
        "gathering_id"
    ]
    youssef = await register(platform, gathering_id, "youssef")
    await register(platform, gathering_id, "leila")

    [confirmed] = await inbox(platform, "youssef", "gathering_confirmed")
    assert confirmed["title"] == "Votre place est confirmée : Investir au pays"
    [waiting] = await inbox(platform, "leila", "gathering_waitlisted")
    assert "1" in waiting["body"]

    mail_dir = platform.settings.mail_dir
    assert isinstance(mail_dir, Path)

    def calendar_attached() -> bytes | None:
        for path in mail_dir.glob("*.eml"):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            if "Votre place est confirmée" in str(message["Subject"]):
                for part in message.walk():
                    if part.get_content_type() == "text/calendar":
                        payload = part.get_payload(decode=True)
                        return payload if isinstance(payload, bytes) else None
        return None

    async def attached() -> bytes | None:
        return calendar_attached()

    ics = await eventually(attached)
    assert b"DTSTART:20270112T170000Z" in ics and gathering_id.encode() in ics

    path = f"/gatherings/{gathering_id}/registrations/{youssef['registration_id']}"
    await platform.call("DELETE", path, "youssef", expect=204)
    await platform.call("DELETE", path, "youssef", expect=204)
    [promoted] = await inbox(platform, "leila", "gathering_promoted")
    assert promoted["title"] == "تحرر مكان لك: Investir au pays"
    # Both times: 18:00 at the venue, 12:00 for her in Montreal.
    assert "18:00 في Tafraout" in promoted["body"] and "12:00 بتوقيتك في Montreal" in promoted["body"]
    await platform.published("GATHERINGS", "RegistrationCancelled")
    await eventually(lambda: platform.drained("GATHERINGS", "notifications__RegistrationPromoted_v1"))
    told = await platform.call("GET", "/notifications", "leila", params={"member_id": "leila"})
    assert [n["kind"] for n in told].count("gathering_promoted") == 1


async def test_a_reminder_comes_once_a_day_before_for_brussels_and_casablanca_and_moves_with_the_gathering(
    platform: Platform,
) -> None:
    tafraout = await territory(platform)
    await join(platform, tafraout, "fatima")
    await join(platform, tafraout, "youssef")  # Europe/Brussels
    await join(platform, tafraout, "hassan", time_zone="Africa/Casablanca", country_of_residence="MA")
    # In July Brussels is two hours ahead of UTC and Casablanca one (it keeps UTC+1 but in Ramadan).
    starts = datetime(2027, 7, 14, 17, 0, tzinfo=UTC)
    gathering_id = (await published(platform, "fatima", session(tafraout, capacity=5, **at(starts))))[
        "gathering_id"
    ]
    await register(platform, gathering_id, "youssef")
    await register(platform, gathering_id, "hassan")
    now = [starts - timedelta(hours=25)]
    service = platform.services["gatherings"]
    reminders = GatheringsHandlers(
        service.units(SqlGatheringsRepository), GatheringsSettings(), lambda: now[0]
    )

    assert await reminders.remind() == 0
    now[0] = starts - timedelta(hours=24)
    assert await reminders.remind() == 2
    assert await reminders.remind() == 0

    [brussels] = await inbox(platform, "youssef", "gathering_reminder")
    [casablanca] = await inbox(platform, "hassan", "gathering_reminder")
    assert "le 14/07/2027 à 18:00 à Tafraout, 19:00 pour vous à Brussels" in brussels["body"]
    assert "le 14/07/2027 à 18:00 à Tafraout." in casablanca["body"]  # the same clock: one time

    later = starts + timedelta(hours=3)
    await platform.call("PATCH", f"/gatherings/{gathering_id}", "fatima", expect=200, json=at(later))
    [changed] = await inbox(platform, "hassan", "gathering_changed")
    assert "21:00" in changed["body"]
    now[0] = later - timedelta(hours=24)
    assert await reminders.remind() == 2
    await inbox(platform, "youssef", "gathering_reminder", 2)
    await eventually(lambda: platform.drained("GATHERINGS", "notifications__RegistrationReminderDue_v1"))
    told = await platform.call("GET", "/notifications", "hassan", params={"member_id": "hassan"})
    assert [n["kind"] for n in told].count("gathering_reminder") == 2


async def test_registrants_hear_of_a_cancellation_with_its_reason(platform: Platform) -> None:
    tafraout = await territory(platform)
    await join(platform, tafraout, "fatima")
    await join(platform, tafraout, "youssef", locale="en")
    gathering_id = (await published(platform, "fatima", session(tafraout, **at(STARTS))))["gathering_id"]
    await register(platform, gathering_id, "youssef")
    await inbox(platform, "youssef", "gathering_confirmed")

    reason = {"reason": "The hall is flooded."}
    await platform.call("POST", f"/gatherings/{gathering_id}/cancel", "fatima", expect=200, json=reason)

    [cancelled] = await inbox(platform, "youssef", "gathering_cancelled")
    assert cancelled["title"] == "Cancelled: Investir au pays"
    assert "The hall is flooded." in cancelled["body"] and "18:00 in Tafraout" in cancelled["body"]
