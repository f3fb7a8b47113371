"""Hours from UTC of a member's time zone and of a territory's country, for remote work.

Offsets are read at one fixed instant so that a score does not change with the seasons: the
incremental index and a recomputation from scratch must always agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_REFERENCE = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@cache
def zone_offset(zone: str | None) -> float | None:
    if not zone:
        return None
    try:
        offset = _REFERENCE.astimezone(ZoneInfo(zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return offset.total_seconds() / 3600 if offset is not None else None


@cache
def _country_zones() -> dict[str, str]:
    """The first zone IANA lists for each country (zone.tab, shipped in the tzdata package)."""
    zones: dict[str, str] = {}
    table = files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    for line in table.splitlines():
        if line and not line.startswith("#"):
            country, _, zone, *_ = line.split("\t")
            zones.setdefault(country, zone)
    return zones


def country_offset(country: str | None) -> float | None:
    return zone_offset(_country_zones().get(country or ""))
