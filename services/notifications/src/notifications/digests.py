"""When a digest goes out: at the member's chosen hour, in their own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from prometheus_client import Counter

log = structlog.get_logger(__name__)

UNKNOWN_ZONES = Counter(
    "passerelle_notification_unknown_time_zones_total", "Digests timed in UTC for want of a known time zone"
)

DIGESTS = ("immediate", "daily", "weekly")
WEEKLY_ON = 0  # Monday


def next_digest_at(now: datetime, time_zone: str, hour: int, digest: str) -> datetime:
    """The first `hour`:00 local time after `now` (on a Monday for weekly digests), in UTC.

    A local time that a daylight-saving change skips is read as the hour after; one it repeats is
    its first occurrence."""
    zone = _zone(time_zone)
    local_now = now.astimezone(zone)
    day = local_now.date()
    while True:
        candidate = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
        candidate = candidate.astimezone(UTC).astimezone(zone)  # normalises a skipped local time
        if candidate > local_now and (digest == "daily" or candidate.weekday() == WEEKLY_ON):
            return candidate.astimezone(UTC)
        day += timedelta(days=1)


def _zone(time_zone: str) -> ZoneInfo:
    """The member's zone; UTC for a name that is none (not found, a directory, malformed ...): one
    member's odd profile must not stop their messages, let alone anyone else's."""
    try:
        return ZoneInfo(time_zone)
    except (KeyError, ValueError, OSError) as error:  # by the shape of the name
        UNKNOWN_ZONES.inc()
        log.warning("notifications.unknown_time_zone", time_zone=time_zone[:64], error=repr(error))
        return ZoneInfo("UTC")
