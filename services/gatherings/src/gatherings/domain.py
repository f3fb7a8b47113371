"""Gatherings, their registrations and their rules: plain Python, no I/O, no framework."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from passerelle.errors import IllegalTransition, InvalidField, RuleBroken

from .commands import ChangeGathering, CloseGathering, CreateGathering

DRAFT, PUBLISHED, CANCELLED, CLOSED = "draft", "published", "cancelled", "closed"
CONFIRMED, WAITLISTED, ATTENDED, WITHDRAWN = "confirmed", "waitlisted", "attended", "cancelled"
# Registrations that hold a place or wait for one; a member has at most one of them per gathering.
ACTIVE = (CONFIRMED, WAITLISTED, ATTENDED)
HOLDING_A_PLACE = (CONFIRMED, ATTENDED)
# Check-in codes: short, read aloud or typed on a phone, without look-alikes (0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
# What may be attended how.
ATTENDANCES = {"in_person": ("in_person",), "online": ("online",), "hybrid": ("in_person", "online")}
# Fields whose change concerns those registered (they hear of it).
SCHEDULE = ("starts_at", "ends_at", "time_zone", "venue", "format", "online_url")
# The kind the service keeps of an erased member, and who organises what an erased organiser left.
ERASED_KIND, ERASED_ORGANISER = "erased", "erased"


@dataclass(frozen=True)
class MemberFacts:
    """What gatherings knows of a member: its kind, name (for organisers' lists) and managers."""

    member_id: str
    kind: str
    display_name: str
    managers: list[str]

    @property
    def erased(self) -> bool:
        return self.kind == ERASED_KIND

    def may_act_for(self, sub: str) -> bool:
        if self.erased:
            return False
        return sub == self.member_id if self.kind == "person" else sub in self.managers


@dataclass(frozen=True)
class Gathering:
    gathering_id: str
    territory_id: str
    organiser_member_id: str
    kind: str
    format: str
    title: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    created_at: datetime
    project_id: str | None = None
    co_organiser_member_ids: list[str] = field(default_factory=list)
    description: str = ""
    languages: list[str] = field(default_factory=list)
    venue: dict[str, str] | None = None
    online_url: str | None = None
    capacity: int = 0
    online_capacity: int | None = None
    registration_closes_at: datetime | None = None
    agenda: list[dict[str, Any]] = field(default_factory=list)
    status: str = DRAFT
    cancel_reason: str | None = None
    # Kept on the gathering, not counted from registrations: an erased member's attendance still counts.
    attended: int = 0
    walk_ins: int = 0
    summary: str = ""
    outcomes: list[dict[str, str]] = field(default_factory=list)

    @property
    def organisers(self) -> list[str]:
        return [self.organiser_member_id, *self.co_organiser_member_ids]

    def snapshot(self) -> dict[str, Any]:
        """The fields of GatheringScheduled and GatheringUpdated: never the online link."""
        return {
            "gathering_id": self.gathering_id,
            "territory_id": self.territory_id,
            "project_id": self.project_id,
            "organiser_member_id": self.organiser_member_id,
            "co_organiser_member_ids": self.co_organiser_member_ids,
            "kind": self.kind,
            "format": self.format,
            "title": self.title,
            "description": self.description,
            "languages": self.languages,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "time_zone": self.time_zone,
            "venue": self.venue,
            "capacity": self.capacity,
            "online_capacity": self.online_capacity,
            "registration_closes_at": self.registration_closes_at,
            "agenda": self.agenda,
        }

    def changed(self, command: ChangeGathering) -> tuple[Gathering, list[str]]:
        """The gathering after the change, and the names of the fields that changed."""
        if self.status in (CANCELLED, CLOSED):
            raise IllegalTransition(f"a {self.status} gathering does not change")
        changes = command.model_dump(mode="python", exclude_unset=True)
        if "agenda" in changes:
            changes["agenda"] = command.model_dump(mode="json", include={"agenda"})["agenda"]
        after = replace(self, **changes)
        if after.ends_at <= after.starts_at:
            raise InvalidField("ends_at", "must be after starts_at")
        if after.status == PUBLISHED:
            after.check_complete()
        return after, [name for name in changes if getattr(after, name) != getattr(self, name)]

    def check_complete(self) -> None:
        """What a published gathering needs: a place to meet for its format."""
        if self.format in ("in_person", "hybrid") and self.venue is None:
            raise InvalidField("venue", f"an {self.format.replace('_', '-')} gathering needs a venue")
        if self.format in ("online", "hybrid") and not self.online_url:
            raise InvalidField("online_url", f"an {self.format} gathering needs its online_url")

    def publish(self, now: datetime) -> Gathering:
        if self.status != DRAFT:
            raise IllegalTransition(f"only a draft is published; this gathering is {self.status}")
        if self.starts_at <= now:
            raise RuleBroken("a gathering is published before it starts")
        self.check_complete()
        return replace(self, status=PUBLISHED)

    def cancel(self, reason: str) -> Gathering:
        if self.status != PUBLISHED:
            raise IllegalTransition(f"only a published gathering is cancelled; this one is {self.status}")
        return replace(self, status=CANCELLED, cancel_reason=reason)

    def close(self, report: CloseGathering, now: datetime) -> Gathering:
        if self.status != PUBLISHED:
            raise IllegalTransition(f"only a published gathering is closed; this one is {self.status}")
        if now < self.starts_at:
            raise IllegalTransition("a gathering is closed once it has started")
        outcomes = [outcome.model_dump() for outcome in report.outcomes]
        return replace(
            self, status=CLOSED, walk_ins=report.walk_ins, summary=report.summary, outcomes=outcomes
        )

    def attendance_of(self, wanted: str | None) -> str:
        """How a registrant attends: as asked, or as the format allows when it allows one way."""
        allowed = ATTENDANCES[self.format]
        if wanted is None:
            return allowed[0]
        if wanted not in allowed:
            raise InvalidField(
                "attendance", f"this gathering is {self.format}: attend {' or '.join(allowed)}"
            )
        return wanted

    def check_registration_open(self, now: datetime) -> None:
        if self.status != PUBLISHED:
            raise IllegalTransition(f"registrations are for published gatherings; this one is {self.status}")
        closes_at = min(self.registration_closes_at or self.starts_at, self.starts_at)
        if now >= closes_at:
            raise IllegalTransition("registration for this gathering is closed")

    def pool(self, attendance: str) -> str | None:
        """Which registrations share the places of one attending `attendance`: all of them (None),
        unless online places are counted apart."""
        return None if self.online_capacity is None else attendance

    def limit(self, pool: str | None) -> int:
        """The places of a pool; 0 is no limit."""
        return (self.online_capacity or 0) if pool == "online" else self.capacity

    def has_place(self, pool: str | None, taken: int) -> bool:
        limit = self.limit(pool)
        return limit == 0 or taken < limit


@dataclass(frozen=True)
class Registration:
    registration_id: str
    gathering_id: str
    member_id: str
    attendance: str
    status: str
    code: str
    created_at: datetime
    reminded_for: datetime | None = None

    def withdrawn(self) -> Registration:
        if self.status == ATTENDED:
            raise IllegalTransition("this registrant attended: the registration stays")
        return replace(self, status=WITHDRAWN)


def create(organiser: str, command: CreateGathering, now: datetime) -> Gathering:
    fields = command.model_dump(mode="python", exclude={"organiser_member_id", "venue", "agenda"})
    agenda = command.model_dump(mode="json", include={"agenda"})["agenda"]
    venue = command.venue.model_dump() if command.venue else None
    return Gathering(
        gathering_id=str(uuid.uuid4()),
        organiser_member_id=organiser,
        venue=venue,
        agenda=agenda,
        created_at=now,
        **fields,
    )


def register(
    gathering: Gathering, member_id: str, attendance: str, *, place: bool, now: datetime
) -> Registration:
    return Registration(
        registration_id=str(uuid.uuid4()),
        gathering_id=gathering.gathering_id,
        member_id=member_id,
        attendance=attendance,
        status=CONFIRMED if place else WAITLISTED,
        code=new_code(),
        created_at=now,
    )


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
