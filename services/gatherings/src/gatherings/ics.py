"""iCalendar (RFC 5545) files of gatherings, built with the `icalendar` library: times in UTC, a link
to the gathering's page, and the online link only where the reader may have it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar, Event

from .domain import CANCELLED, Gathering

PRODUCT = "-//Passerelle//Gatherings//EN"


@dataclass(frozen=True)
class Entry:
    gathering: Gathering
    online_url: str | None  # given only to those who may have it
    waitlisted: bool = False


def calendar(entries: Iterable[Entry], portal_url: str, now: datetime, name: str = "Passerelle") -> bytes:
    feed = Calendar()
    feed.add("prodid", PRODUCT)
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("x-wr-calname", name)
    for entry in entries:
        feed.add_component(_event(entry, portal_url, now))
    return feed.to_ical()


def _event(entry: Entry, portal_url: str, now: datetime) -> Event:
    gathering = entry.gathering
    page = f"{portal_url.rstrip('/')}/app/g/{gathering.gathering_id}"
    event = Event()
    event.add("uid", f"{gathering.gathering_id}@passerelle")
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", gathering.starts_at.astimezone(UTC))
    event.add("dtend", gathering.ends_at.astimezone(UTC))
    event.add("summary", gathering.title + (" (waitlist)" if entry.waitlisted else ""))
    event.add("url", page)
    lines = [gathering.description, page]
    if entry.online_url:
        lines.append(entry.online_url)
    event.add("description", "\n\n".join(line for line in lines if line))
    if gathering.venue:
        venue = gathering.venue
        parts = [venue["name"], venue.get("address", ""), venue["city"], venue["country"]]
        event.add("location", ", ".join(part for part in parts if part))
    elif entry.online_url:
        event.add("location", entry.online_url)
    event.add("status", "CANCELLED" if gathering.status == CANCELLED else "CONFIRMED")
    return event
