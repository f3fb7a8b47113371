"""When a digest goes out: at the member's chosen hour, in their own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DIGESTS = ("immediate", "daily", "weekly")
WEEKLY_ON = 0  # Monday


def next_digest_at(now: datetime, time_zone: str, hour: int, digest: str) -> datetime:
    """The first `hour`:00 local time after `now` (on a Monday for weekly digests), in UTC.

    A local time that a daylight-saving change skips is read as the hour after; one it repeats is
    its first occurrence."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local_now = now.astimezone(zone)
    day = local_now.date()
    while True:
        candidate = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
        candidate = candidate.astimezone(UTC).astimezone(zone)  # normalises a skipped local time
        if candidate > local_now and (digest == "daily" or candidate.weekday() == WEEKLY_ON):
            return candidate.astimezone(UTC)
        day += timedelta(days=1)
