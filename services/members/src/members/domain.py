"""Members and their skill offers: plain rules, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

PERSON = "person"


class DomainError(Exception):
    """A rule of the domain was broken; the message says which."""


@dataclass(frozen=True)
class Member:
    member_id: str
    kind: str
    display_name: str
    email: str
    locale: str
    country_of_residence: str
    time_zone: str
    languages: list[str] = field(default_factory=list)
    attachments: list[dict[str, str]] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)
    generation: str | None = None
    managers: list[str] = field(default_factory=list)

    def may_be_managed_by(self, sub: str) -> bool:
        """A person acts on their own profile; an association or local actor through its managers."""
        return sub == self.member_id if self.kind == PERSON else sub in self.managers

    def profile(self) -> dict[str, Any]:
        return {
            "member_id": self.member_id,
            "kind": self.kind,
            "display_name": self.display_name,
            "email": self.email,
            "locale": self.locale,
            "country_of_residence": self.country_of_residence,
            "time_zone": self.time_zone,
            "languages": self.languages,
            "attachments": self.attachments,
            "sectors": self.sectors,
            "generation": self.generation,
            "managers": self.managers,
        }

    def updated(self, changes: dict[str, Any]) -> Member:
        if "kind" in changes and changes["kind"] != self.kind:
            raise DomainError("kind cannot change: register a new member instead")
        updated = replace(self, **changes)
        return _with_valid_managers(updated)


def register(registrant_sub: str, fields: dict[str, Any]) -> Member:
    """A person registers themself (member_id = their identity); an association or local actor gets a
    new id and is managed by the registrant and the managers they name."""
    if fields["kind"] == PERSON:
        member = Member(member_id=registrant_sub, **{**fields, "managers": []})
    else:
        managers = list(dict.fromkeys([registrant_sub, *fields.get("managers", [])]))
        member = Member(member_id=str(uuid.uuid4()), **{**fields, "managers": managers})
    return _with_valid_managers(member)


def _with_valid_managers(member: Member) -> Member:
    if member.kind == PERSON and member.managers:
        raise DomainError("a person has no managers: managers are for associations and local actors")
    if member.kind != PERSON and not member.managers:
        raise DomainError("an association or local actor needs at least one manager")
    return member


@dataclass(frozen=True)
class SkillOffer:
    offer_id: str
    member_id: str
    skill: str
    level: int
    modes: list[str]
    languages: list[str] = field(default_factory=list)
    territory_ids: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)
    available_from: date | None = None
    available_until: date | None = None
    hours_per_month: int | None = None
    withdrawn: bool = False


def offer_skill(member: Member, fields: dict[str, Any]) -> SkillOffer:
    offer = SkillOffer(offer_id=str(uuid.uuid4()), member_id=member.member_id, **fields)
    if offer.available_from and offer.available_until and offer.available_until < offer.available_from:
        raise DomainError("available_until is before available_from")
    return offer
