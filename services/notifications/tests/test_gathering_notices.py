"""How gathering notices say when: the venue's time, and the member's when their clock differs."""

from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from notifications.gathering_notices import GatheringFactsRow, calendar_file, when


def facts(starts_at: datetime, place: str | None = "Tafraout") -> GatheringFactsRow:
    return GatheringFactsRow(
        gathering_id="g-1",
        title="Investir au pays",
        kind="information_session",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        time_zone="Africa/Casablanca",
        place=place,
        location="Maison des jeunes, Tafraout" if place else None,
    )


def test_a_member_on_the_venues_clock_reads_one_time_and_another_reads_both() -> None:
    july = facts(datetime(2027, 7, 14, 17, 0, tzinfo=UTC))
    assert when(july, "Africa/Casablanca", "en") == "on 14 Jul 2027 at 18:00 in Tafraout"
    assert (
        when(july, "Europe/Brussels", "en")
        == "on 14 Jul 2027 at 18:00 in Tafraout, 19:00 for you in Brussels"
    )
    assert (
        when(july, "Europe/Brussels", "fr") == "le 14/07/2027 à 18:00 à Tafraout, 19:00 pour vous à Brussels"
    )


def test_the_members_date_is_said_when_it_is_another_day_and_online_has_no_city() -> None:
    late = facts(datetime(2027, 1, 12, 22, 30, tzinfo=UTC), place=None)
    said = when(late, "Asia/Tokyo", "en")
    assert said == "on 12 Jan 2027 at 23:30 online, 07:30 (13 Jan 2027) for you in Tokyo"


def test_the_calendar_file_holds_utc_times_and_the_gatherings_page() -> None:
    ics = calendar_file(facts(datetime(2027, 1, 12, 17, 0, tzinfo=UTC)), "https://p.example.org/app/g/g-1")
    [event] = Calendar.from_ical(ics).walk("VEVENT")
    assert "DTSTART:20270112T170000Z" in ics
    assert (str(event["url"]), str(event["location"])) == (
        "https://p.example.org/app/g/g-1",
        "Maison des jeunes, Tafraout",
    )
