"""Events owned by the members service (stream MEMBERS, subjects `members.>`)."""

from datetime import date
from typing import ClassVar

from pydantic import EmailStr, Field

from .envelope import EventData
from .types import (
    Attachment,
    CountryCode,
    Generation,
    Identifier,
    LanguageCode,
    Level,
    Locale,
    MemberKind,
    Mode,
    SkillCode,
)


class _MemberEvent(EventData):
    owner: ClassVar[str] = "members"

    member_id: Identifier

    def aggregate_id(self) -> str:
        return self.member_id


class MemberProfile(_MemberEvent):
    """The full profile of a member, as registered or updated."""

    kind: MemberKind
    display_name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    locale: Locale
    country_of_residence: CountryCode
    time_zone: str = Field(min_length=1, max_length=64, description="IANA time zone, e.g. Europe/Brussels")
    languages: list[LanguageCode] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    sectors: list[str] = Field(default_factory=list)
    generation: Generation | None = None
    managers: list[str] = Field(
        default_factory=list,
        description="Identity subs that act for an association or local actor; empty for a person",
    )
    contact_consent: bool | None = Field(
        default=None,
        description="The member agreed to be contacted about projects (null: not said). Added in v1.1.",
    )


class MemberRegistered(MemberProfile):
    """A person, association or local actor joined the community."""

    event_name: ClassVar[str] = "MemberRegistered"
    subject: ClassVar[str] = "members.member_registered.v1"


class MemberProfileUpdated(MemberProfile):
    """A member's profile changed; carries the full snapshot."""

    event_name: ClassVar[str] = "MemberProfileUpdated"
    subject: ClassVar[str] = "members.member_profile_updated.v1"


class SkillOffered(_MemberEvent):
    """A member offers a skill to the community's projects."""

    event_name: ClassVar[str] = "SkillOffered"
    subject: ClassVar[str] = "members.skill_offered.v1"

    offer_id: Identifier
    skill: SkillCode
    level: Level
    modes: list[Mode] = Field(min_length=1)
    languages: list[LanguageCode] = Field(default_factory=list)
    territory_ids: list[Identifier] = Field(
        default_factory=list, description="Empty means the member's attachments"
    )
    sectors: list[str] = Field(default_factory=list)
    available_from: date | None = None
    available_until: date | None = None
    hours_per_month: int | None = Field(default=None, ge=1, le=744)


class SkillOfferUpdated(SkillOffered):
    """A member changed a skill offer; carries the full snapshot. Added in v1.1: a consumer that does
    not know it still has the offer as first offered."""

    event_name: ClassVar[str] = "SkillOfferUpdated"
    subject: ClassVar[str] = "members.skill_offer_updated.v1"


class SkillOfferWithdrawn(_MemberEvent):
    """A member withdrew a skill offer."""

    event_name: ClassVar[str] = "SkillOfferWithdrawn"
    subject: ClassVar[str] = "members.skill_offer_withdrawn.v1"

    offer_id: Identifier


class MemberErased(_MemberEvent):
    """A member asked to be forgotten: every service deletes or anonymises their personal data."""

    event_name: ClassVar[str] = "MemberErased"
    subject: ClassVar[str] = "members.member_erased.v1"
