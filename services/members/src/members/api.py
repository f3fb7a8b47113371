"""HTTP routes of the members service: parse, authorize (in the handlers), render."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Response, status
from passerelle.contracts.types import Attachment, Generation, Level, MemberKind, Mode, SkillCode
from passerelle.runtime.auth import CurrentIdentity
from passerelle.validation import KnownCountry, KnownLanguage, KnownLocale, KnownTimeZone
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from .domain import Member
from .handlers import MembersHandlers

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Sector = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


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
    sectors: list[Sector] = Field(default_factory=list, max_length=20)
    generation: Generation | None = None
    managers: list[Name] = Field(default_factory=list, max_length=20)


class UpdateMember(Strict):
    display_name: Name | None = None
    email: EmailStr | None = None
    locale: KnownLocale | None = None
    country_of_residence: KnownCountry | None = None
    time_zone: KnownTimeZone | None = None
    languages: list[KnownLanguage] | None = Field(default=None, max_length=20)
    attachments: list[Attachment] | None = Field(default=None, max_length=20)
    sectors: list[Sector] | None = Field(default=None, max_length=20)
    generation: Generation | None = None
    managers: list[Name] | None = Field(default=None, max_length=20)


class MemberOut(BaseModel):
    member_id: str
    kind: MemberKind
    display_name: str
    email: str
    locale: str
    country_of_residence: str
    time_zone: str
    languages: list[str]
    attachments: list[Attachment]
    sectors: list[str]
    generation: Generation | None
    managers: list[str]

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        return cls.model_validate(member.profile())


class OfferSkill(Strict):
    skill: SkillCode
    level: Level
    modes: list[Mode] = Field(min_length=1, max_length=4)
    languages: list[KnownLanguage] = Field(default_factory=list, max_length=20)
    territory_ids: list[Name] = Field(default_factory=list, max_length=50)
    sectors: list[Sector] = Field(default_factory=list, max_length=20)
    available_from: date | None = None
    available_until: date | None = None
    hours_per_month: int | None = Field(default=None, ge=1, le=744)


class OfferOut(OfferSkill):
    model_config = ConfigDict(extra="ignore", from_attributes=True)

    offer_id: str
    member_id: str
    withdrawn: bool


def build_router(handlers: MembersHandlers) -> APIRouter:
    router = APIRouter(prefix="/members", tags=["members"])

    @router.post("", status_code=status.HTTP_201_CREATED)
    async def register_member(body: RegisterMember, identity: CurrentIdentity) -> MemberOut:
        """Register the caller: a person as themself, or an association / local actor they manage."""
        return MemberOut.of(await handlers.register(identity, body.model_dump(mode="json")))

    @router.get("/{member_id}")
    async def read_member(member_id: str, identity: CurrentIdentity) -> MemberOut:
        return MemberOut.of(await handlers.profile(identity, member_id))

    @router.patch("/{member_id}")
    async def update_member(member_id: str, body: UpdateMember, identity: CurrentIdentity) -> MemberOut:
        changes = body.model_dump(mode="json", exclude_unset=True)
        return MemberOut.of(await handlers.update(identity, member_id, changes))

    @router.post("/{member_id}/offers", status_code=status.HTTP_201_CREATED)
    async def offer_skill(member_id: str, body: OfferSkill, identity: CurrentIdentity) -> OfferOut:
        """Offer a skill to the community's projects."""
        offer = await handlers.offer_skill(identity, member_id, body.model_dump())
        return OfferOut.model_validate(offer)

    @router.get("/{member_id}/offers")
    async def list_offers(member_id: str, identity: CurrentIdentity) -> list[OfferOut]:
        return [OfferOut.model_validate(offer) for offer in await handlers.offers(identity, member_id)]

    @router.delete("/{member_id}/offers/{offer_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def withdraw_offer(member_id: str, offer_id: str, identity: CurrentIdentity) -> Response:
        await handlers.withdraw_offer(identity, member_id, offer_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
