"""What the API asks of the members service: typed commands, validated at the edge (their lengths are
those of the columns), that use cases and the domain take as they are."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from passerelle.contracts.types import ONE_LINE, Attachment, Generation, Level, MemberKind, Mode
from passerelle.validation import KnownCountry, KnownLanguage, KnownLocale, KnownTimeZone, omittable
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE]
Visibility = Literal["public", "managers", "private"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterMember(Strict):
    kind: MemberKind
    display_name: Name
    email: EmailStr
    locale: KnownLocale
    country_of_residence: KnownCountry
    time_zone: KnownTimeZone
    languages: list[KnownLanguage] = Field(default_factory=list, max_length=20)
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)
    sectors: list[Code] = Field(default_factory=list, max_length=20)
    generation: Generation | None = None
    managers: list[Name] = Field(default_factory=list, max_length=20)
    visibility: Visibility = Field(
        default="managers",
        description="public: any signed-in member finds you; managers: only community and territory "
        "managers do; private: nobody searching does",
    )
    contact_consent: bool = Field(
        default=False, description="You agree that managers see your e-mail to contact you about projects"
    )


class UpdateMember(Strict):
    """Only the fields sent change; null clears `generation` and is refused elsewhere."""

    display_name: Name = omittable()
    email: EmailStr = omittable()
    locale: KnownLocale = omittable()
    country_of_residence: KnownCountry = omittable()
    time_zone: KnownTimeZone = omittable()
    languages: list[KnownLanguage] = omittable(max_length=20)
    attachments: list[Attachment] = omittable(max_length=20)
    sectors: list[Code] = omittable(max_length=20)
    generation: Generation | None = None
    managers: list[Name] = omittable(max_length=20)
    visibility: Visibility = omittable()
    contact_consent: bool = omittable()


class OfferSkill(Strict):
    skill: Code
    level: Level
    modes: list[Mode] = Field(min_length=1, max_length=4)
    languages: list[KnownLanguage] = Field(default_factory=list, max_length=20)
    territory_ids: list[Code] = Field(
        default_factory=list, max_length=50, description="Empty: the member's attachments"
    )
    sectors: list[Code] = Field(default_factory=list, max_length=20)
    available_from: date | None = None
    available_until: date | None = None
    hours_per_month: int | None = Field(default=None, ge=1, le=744)


class UpdateOffer(Strict):
    """Only the fields sent change; null clears the dates and hours and is refused elsewhere."""

    skill: Code = omittable()
    level: Level = omittable()
    modes: list[Mode] = omittable(min_length=1, max_length=4)
    languages: list[KnownLanguage] = omittable(max_length=20)
    territory_ids: list[Code] = omittable(max_length=50)
    sectors: list[Code] = omittable(max_length=20)
    available_from: date | None = None
    available_until: date | None = None
    hours_per_month: int | None = Field(default=None, ge=1, le=744)
