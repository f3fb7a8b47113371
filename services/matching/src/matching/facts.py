"""What matching knows of offers, members, projects and their needs, and how it learns it: from the
contracts' events and from its own rows, in one shape, with strings and sets shared across facts (a
million offers hold a few dozen distinct sets)."""

from __future__ import annotations

import json
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from passerelle.contracts import MemberProfile, ProjectSnapshot, SkillOffered

from .timezones import zone_offset

if TYPE_CHECKING:
    from .orm import ProjectRow


@dataclass(frozen=True, slots=True)
class OfferFacts:
    offer_id: str
    member_id: str
    skill: str
    level: int
    modes: frozenset[str]
    languages: frozenset[str] = frozenset()
    territory_ids: frozenset[str] = frozenset()  # empty: the member's attachments
    sectors: frozenset[str] = frozenset()
    available_from: date | None = None
    available_until: date | None = None
    as_of: float = 0.0  # time of the event that said so (POSIX seconds)


@dataclass(frozen=True, slots=True)
class MemberFacts:
    member_id: str
    languages: frozenset[str] = frozenset()
    attachments: tuple[tuple[str, str], ...] = ()  # (territory_id, bond)
    sectors: frozenset[str] = frozenset()
    utc_offset: float | None = None  # hours, from the member's time zone
    managers: tuple[str, ...] = ()
    as_of: float = 0.0
    places: frozenset[str] = field(init=False)  # the territories of the attachments

    def __post_init__(self) -> None:
        object.__setattr__(self, "places", frozenset(territory for territory, _ in self.attachments))


@dataclass(frozen=True, slots=True)
class NeedSpec:
    """A need as its project's snapshot states it."""

    need_id: str
    skill: str
    min_level: int
    mode: str
    count: int
    starts_on: date | None = None
    ends_on: date | None = None


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    project_id: str
    territory_id: str
    owner_member_id: str
    sector: str
    languages: frozenset[str]
    needs: tuple[NeedSpec, ...]
    as_of: float = 0.0


@dataclass(frozen=True, slots=True)
class NeedFacts:
    """A need of an open project, with what matching needs to know of the project."""

    need_id: str
    project_id: str
    skill: str
    min_level: int
    mode: str
    count: int
    lineage: tuple[str, ...]  # the project's territory, then each territory above it
    languages: frozenset[str] = frozenset()
    sector: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    utc_offset: float | None = None  # hours, from the territory's country


# From the events


def offer_of(offer: SkillOffered, as_of: datetime) -> OfferFacts:
    return OfferFacts(
        offer_id=offer.offer_id,
        member_id=sys.intern(offer.member_id),
        skill=sys.intern(offer.skill),
        level=offer.level,
        modes=frozen(offer.modes),
        languages=frozen(offer.languages),
        territory_ids=frozen(offer.territory_ids),
        sectors=frozen(offer.sectors),
        available_from=day(offer.available_from),
        available_until=day(offer.available_until),
        as_of=as_of.timestamp(),
    )


def member_of(member: MemberProfile, as_of: datetime) -> MemberFacts:
    return MemberFacts(
        member_id=sys.intern(member.member_id),
        languages=frozen(member.languages),
        attachments=tuple((sys.intern(a.territory_id), sys.intern(a.bond)) for a in member.attachments),
        sectors=frozen(member.sectors),
        utc_offset=zone_offset(member.time_zone),
        managers=tuple(member.managers),
        as_of=as_of.timestamp(),
    )


def project_of(project: ProjectSnapshot, as_of: datetime) -> ProjectFacts:
    return ProjectFacts(
        project_id=project.project_id,
        territory_id=project.territory_id,
        owner_member_id=project.owner_member_id,
        sector=project.sector,
        languages=frozen(project.languages),
        needs=tuple(
            NeedSpec(
                need.need_id, need.skill, need.min_level, need.mode, need.count, need.starts_on, need.ends_on
            )
            for need in project.needs
        ),
        as_of=as_of.timestamp(),
    )


# From matching's rows: JSON as text, parsed once per distinct text


def offer_from_record(record: Mapping[str, Any]) -> OfferFacts:
    return OfferFacts(
        offer_id=record["offer_id"],
        member_id=sys.intern(record["member_id"]),
        skill=sys.intern(record["skill"]),
        level=record["level"],
        modes=codes(record["modes"]),
        languages=codes(record["languages"]),
        territory_ids=codes(record["territory_ids"]),
        sectors=codes(record["sectors"]),
        available_from=day(record["available_from"]),
        available_until=day(record["available_until"]),
        as_of=seconds(record["as_of"]),
    )


def member_from_record(record: Mapping[str, Any]) -> MemberFacts:
    return MemberFacts(
        member_id=sys.intern(record["member_id"]),
        languages=codes(record["languages"]),
        attachments=tuple(
            (sys.intern(a["territory_id"]), sys.intern(a["bond"])) for a in json.loads(record["attachments"])
        ),
        sectors=codes(record["sectors"]),
        utc_offset=zone_offset(record["time_zone"]),
        managers=tuple(json.loads(record["managers"])),
        as_of=seconds(record["as_of"]),
    )


def project_from_row(row: ProjectRow) -> ProjectFacts:
    return ProjectFacts(
        project_id=row.project_id,
        territory_id=row.territory_id,
        owner_member_id=row.owner_member_id,
        sector=row.sector,
        languages=frozen(row.languages),
        needs=tuple(_need_from_json(need) for need in row.needs),
        as_of=seconds(row.as_of),
    )


def _need_from_json(need: dict[str, Any]) -> NeedSpec:
    def iso_day(value: Any) -> date | None:
        return date.fromisoformat(value) if isinstance(value, str) else value

    return NeedSpec(
        need_id=need["need_id"],
        skill=need["skill"],
        min_level=need["min_level"],
        mode=need["mode"],
        count=need["count"],
        starts_on=iso_day(need.get("starts_on")),
        ends_on=iso_day(need.get("ends_on")),
    )


# Sharing

_interned: dict[tuple[str, ...], frozenset[str]] = {}
_parsed: dict[str, frozenset[str]] = {}
_reasons: dict[str, tuple[str, ...]] = {}
_days: dict[date, date] = {}


def frozen(values: Collection[str]) -> frozenset[str]:
    """One shared frozenset per distinct set of codes."""
    key = tuple(sorted(values))
    return _interned.setdefault(key, frozenset(key))


def codes(text: str) -> frozenset[str]:
    """Codes from a row's JSON text, shared."""
    found = _parsed.get(text)
    if found is None:
        found = _parsed[text] = frozen(json.loads(text))
    return found


def reasons_json(text: str) -> tuple[str, ...]:
    """Reasons as one shared tuple per distinct list: a million matches hold a few hundred lists."""
    found = _reasons.get(text)
    if found is None:
        found = _reasons[text] = tuple(sys.intern(reason) for reason in json.loads(text))
    return found


def day(value: date | None) -> date | None:
    return None if value is None else _days.setdefault(value, value)


def seconds(moment: datetime | None) -> float:
    return moment.timestamp() if moment else 0.0
