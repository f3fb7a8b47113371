from datetime import UTC, datetime

import pytest
from notifications.digests import next_digest_at


def test_a_daily_digest_goes_at_the_chosen_hour_of_the_members_own_day() -> None:
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 11:00 in Brussels, 10:00 in Dakar
    assert next_digest_at(now, "Europe/Brussels", 8, "daily") == datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    assert next_digest_at(now, "Europe/Brussels", 18, "daily") == datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    assert next_digest_at(now, "Africa/Dakar", 18, "daily") == datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def test_a_weekly_digest_goes_on_monday_local_time() -> None:
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert next_digest_at(tuesday, "Asia/Tokyo", 8, "weekly") == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    monday_early = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # 06:00 in Brussels, before 08:00
    assert next_digest_at(monday_early, "Europe/Brussels", 8, "weekly") == datetime(
        2026, 11, 30, 7, 0, tzinfo=UTC
    )


def test_daylight_saving_changes_keep_the_local_hour() -> None:
    before = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # Brussels moves to summer time on 29 March
    assert next_digest_at(before, "Europe/Brussels", 8, "daily") == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    skipped = next_digest_at(before, "Europe/Brussels", 2, "daily")  # 02:00 does not exist that night
    assert skipped == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # read as 03:00 summer time


@pytest.mark.parametrize("time_zone", ["Europe", "", "../../etc/passwd", "Nowhere/At_All", "a\x00b"])
def test_a_time_zone_that_is_no_zone_gives_the_hour_in_utc_rather_than_an_error(time_zone: str) -> None:
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert next_digest_at(now, time_zone, 8, "daily") == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
