"""Members and their skill offers: plain rules, no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import Enum
from typing import Any

from passerelle.errors import IllegalTransition, InvalidField
from passerelle.taxonomy import Taxonomy

from .commands import OfferSkill, RegisterMember, UpdateMember, UpdateOffer

PERSON = "person"
MANAGER_ROLES = frozenset({"community_manager", "territory_manager"})
# Who finds a member in searches and reads their card: everyone signed in, community and territory
# managers (the default), or nobody but the member, those who manage it and operators.
VISIBILITIES = ("public", "managers", "private")
DEFAULT_VISIBILITY = "managers"


class View(Enum):
    """How much of a member someone may see."""

    FULL = "full"  # everything: the member, those who manage it, operators
    CARD = "card"  # what mobilising needs; the e-mail only with the member's consent to be contacted


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
    visibility: str = DEFAULT_VISIBILITY
    contact_consent: bool = False
    contact_consent_at: datetime | None = None

    def may_be_managed_by(self, sub: str) -> bool:
        """A person acts on their own profile; an association or local actor through its managers."""
        return sub == self.member_id if self.kind == PERSON else sub in self.managers

    def view_for(self, sub: str, roles: Collection[str]) -> View | None:
        if "operator" in roles or self.may_be_managed_by(sub):
            return View.FULL
        if self.visibility == "public" or (
            self.visibility == "managers" and MANAGER_ROLES.intersection(roles)
        ):
            return View.CARD
        return None

    def profile(self) -> dict[str, Any]:
        """The fields of MemberRegistered and MemberProfileUpdated."""
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
            "contact_consent": self.contact_consent,
        }

    def updated(self, update: UpdateMember, taxonomy: Taxonomy, now: datetime) -> Member:
        updated = replace(self, **update.model_dump(mode="json", exclude_unset=True))
        if updated.contact_consent != self.contact_consent:
            updated = replace(updated, contact_consent_at=now)
        return _checked(updated, taxonomy)

    def without_manager(self, sub: str) -> Member:
        """An erased identity stops managing; an association left without managers waits for an
        operator to name new ones."""
        return replace(self, managers=[manager for manager in self.managers if manager != sub])

    def changed_fields(self, other: Member) -> list[str]:
        return [name for name, value in vars(self).items() if getattr(other, name) != value]


def register(registrant_sub: str, registration: RegisterMember, taxonomy: Taxonomy, now: datetime) -> Member:
    """A person registers themself (member_id = their identity); an association or local actor gets a
    new id and is managed by the registrant and the managers they name."""
    fields = registration.model_dump(mode="json")
    consent_at = now if fields.get("contact_consent") else None
    if fields["kind"] == PERSON:
        if fields.get("managers"):
            raise InvalidField(
                "managers", "a person has no managers: they are for associations and local actors"
            )
        member = Member(member_id=registrant_sub, **{**fields, "managers": []}, contact_consent_at=consent_at)
    else:
        managers = list(dict.fromkeys([registrant_sub, *fields.get("managers", [])]))
        member = Member(
            member_id=str(uuid.uuid4()), **{**fields, "managers": managers}, contact_consent_at=consent_at
        )
    return _checked(member, taxonomy)


def _checked(member: Member, taxonomy: Taxonomy) -> Member:
    if member.kind == PERSON and member.managers:
        raise InvalidField("managers", "a person has no managers: they are for associations and local actors")
    if member.kind != PERSON and not member.managers:
        raise InvalidField("managers", "an association or local actor needs at least one manager")
    _check_sectors(member.sectors, taxonomy)
    territories = [attachment["territory_id"] for attachment in member.attachments]
    if len(set(territories)) != len(territories):
        raise InvalidField("attachments", "each territory appears once, with the member's strongest bond")
    return member


def _check_sectors(sectors: list[str], taxonomy: Taxonomy) -> None:
    unknown = sorted(set(sectors) - taxonomy.sectors)
    if unknown:
        raise InvalidField(
            "sectors", f"unknown sector(s) {', '.join(unknown)}; known: {', '.join(sorted(taxonomy.sectors))}"
        )


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

    def event_fields(self) -> dict[str, Any]:
        """The fields of SkillOffered and SkillOfferUpdated."""
        return {name: value for name, value in vars(self).items() if name != "withdrawn"}

    def updated(self, update: UpdateOffer, taxonomy: Taxonomy) -> SkillOffer:
        if self.withdrawn:
            raise IllegalTransition("this offer was withdrawn: offer the skill again instead")
        return _checked_offer(replace(self, **update.model_dump(exclude_unset=True)), taxonomy)

    def changed_fields(self, other: SkillOffer) -> list[str]:
        return sorted(name for name, value in vars(self).items() if getattr(other, name) != value)

    def withdrawn_now(self) -> SkillOffer:
        return replace(self, withdrawn=True)


def offer_skill(member: Member, offer: OfferSkill, taxonomy: Taxonomy) -> SkillOffer:
    return _checked_offer(
        SkillOffer(offer_id=str(uuid.uuid4()), member_id=member.member_id, **offer.model_dump()), taxonomy
    )


def _checked_offer(offer: SkillOffer, taxonomy: Taxonomy) -> SkillOffer:
    if offer.skill not in taxonomy:
        raise InvalidField("skill", f"unknown skill code {offer.skill!r}: find codes with GET /skills?q=")
    _check_sectors(offer.sectors, taxonomy)
    if offer.available_from and offer.available_until and offer.available_until < offer.available_from:
        raise InvalidField("available_until", "is before available_from")
    return offer
