"""What a gathering is: its lifecycle, who attends how, and how its places are counted."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gatherings.commands import ChangeGathering, CloseGathering, CreateGathering
from gatherings.domain import CLOSED, PUBLISHED, create
from passerelle.errors import IllegalTransition, InvalidField, RuleBroken
from pydantic import ValidationError

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
STARTS = NOW + timedelta(days=7)
VENUE = {"name": "Maison des jeunes", "city": "Tafraout", "country": "ma"}


def command(**overrides: Any) -> CreateGathering:
    fields: dict[str, Any] = {
        "territory_id": "tafraout",
        "kind": "information_session",
        "format": "in_person",
        "title": "  Investir au pays ",
        "starts_at": STARTS,
        "ends_at": STARTS + timedelta(hours=2),
        "time_zone": "Africa/Casablanca",
        "venue": VENUE,
        "capacity": 2,
        **overrides,
    }
    return CreateGathering(**fields)


def test_a_new_gathering_is_a_draft_of_its_organiser_and_its_snapshot_never_holds_the_online_link() -> None:
    gathering = create("fatima", command(format="hybrid", online_url="https://meet.example.org/x"), NOW)
    assert (gathering.status, gathering.organiser_member_id, gathering.title) == (
        "draft",
        "fatima",
        "Investir au pays",
    )
    assert gathering.venue == {
        "name": "Maison des jeunes",
        "address": "",
        "city": "Tafraout",
        "country": "MA",
    }
    assert "online_url" not in gathering.snapshot()


def test_a_gathering_ends_after_it_starts_in_a_known_time_zone() -> None:
    with pytest.raises(ValidationError, match="ends_at must be after starts_at"):
        command(ends_at=STARTS)
    with pytest.raises(ValidationError, match="IANA"):
        command(time_zone="Mars/Olympus")
    with pytest.raises(ValidationError, match="timezone"):
        command(starts_at=STARTS.replace(tzinfo=None))


def test_publishing_needs_a_venue_in_person_an_online_link_online_and_a_start_still_ahead() -> None:
    with pytest.raises(InvalidField, match="venue"):
        create("fatima", command(venue=None), NOW).publish(NOW)
    with pytest.raises(InvalidField, match="online_url"):
        create("fatima", command(format="hybrid"), NOW).publish(NOW)
    with pytest.raises(RuleBroken, match="before it starts"):
        create("fatima", command(), NOW).publish(STARTS)
    published = create("fatima", command(), NOW).publish(NOW)
    assert published.status == PUBLISHED
    with pytest.raises(IllegalTransition):
        published.publish(NOW)


def test_a_change_names_the_fields_that_changed_and_a_closed_gathering_does_not_change() -> None:
    gathering = create("fatima", command(), NOW).publish(NOW)
    later = STARTS + timedelta(hours=1)
    moved, changed = gathering.changed(
        ChangeGathering(starts_at=later, ends_at=later + timedelta(hours=2), title="Investir au pays")
    )
    assert (moved.starts_at, changed) == (later, ["starts_at", "ends_at"])
    with pytest.raises(InvalidField, match="ends_at"):
        gathering.changed(ChangeGathering(ends_at=NOW))
    closed = gathering.close(CloseGathering(walk_ins=2), STARTS)
    assert (closed.status, closed.walk_ins) == (CLOSED, 2)
    with pytest.raises(IllegalTransition):
        closed.changed(ChangeGathering(title="Autre"))


def test_a_gathering_is_closed_once_it_has_started() -> None:
    with pytest.raises(IllegalTransition, match="once it has started"):
        create("fatima", command(), NOW).publish(NOW).close(CloseGathering(), NOW)


def test_attendance_follows_the_format() -> None:
    hybrid = create("fatima", command(format="hybrid", online_url="https://x.example.org"), NOW)
    assert (hybrid.attendance_of(None), hybrid.attendance_of("online")) == ("in_person", "online")
    with pytest.raises(InvalidField, match="attendance"):
        create("fatima", command(), NOW).attendance_of("online")


def test_places_are_shared_unless_online_places_are_counted_apart_and_zero_is_no_limit() -> None:
    shared = create("fatima", command(capacity=2), NOW)
    assert shared.pool("online") is None and shared.has_place(None, 1) and not shared.has_place(None, 2)
    apart = create("fatima", command(format="hybrid", capacity=2, online_capacity=1), NOW)
    assert (
        apart.pool("online") == "online"
        and not apart.has_place("online", 1)
        and apart.has_place("in_person", 1)
    )
    assert create("fatima", command(capacity=0), NOW).has_place(None, 10_000)


def test_registration_closes_at_its_closing_time_or_when_the_gathering_starts() -> None:
    gathering = create("fatima", command(registration_closes_at=STARTS - timedelta(days=1)), NOW).publish(NOW)
    gathering.check_registration_open(NOW)
    with pytest.raises(IllegalTransition, match="closed"):
        gathering.check_registration_open(STARTS - timedelta(hours=1))
    with pytest.raises(IllegalTransition, match="published"):
        create("fatima", command(), NOW).check_registration_open(NOW)
