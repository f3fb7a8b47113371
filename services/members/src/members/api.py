"""HTTP routes of the members service: parse, authorize (in the handlers), render."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from passerelle.contracts.types import Attachment, Bond, Generation, MemberKind
from passerelle.errors import NotFound
from passerelle.identity import Identity
from passerelle.runtime.auth import CurrentIdentity
from passerelle.runtime.idempotency import IDEMPOTENT
from passerelle.runtime.pagination import Limit, Offset, describe_page
from passerelle.taxonomy import Skill, Taxonomy
from passerelle.validation import KnownCountry, KnownLanguage
from pydantic import BaseModel, ConfigDict, Field

from .commands import Code, OfferSkill, RegisterMember, UpdateMember, UpdateOffer, Visibility
from .domain import MANAGER_ROLES, SkillOffer, View
from .handlers import MembersHandlers, Seen
from .repository import MemberSearch


class OfferedSkill(BaseModel):
    offer_id: str
    skill: str
    label: str
    level: int
    modes: list[str]


class MemberOut(BaseModel):
    """A member as the caller may see them: `view` is `full` for the member, those who manage it and
    operators; `card` for others, without the private fields (null)."""

    view: Literal["full", "card"]
    member_id: str
    kind: MemberKind
    display_name: str
    country_of_residence: str
    languages: list[str]
    attachments: list[Attachment]
    sectors: list[str]
    generation: Generation | None
    skills: list[OfferedSkill]
    contact_consent: bool
    email: str | None = Field(description="Shown on a card only to managers, and only with consent")
    locale: str | None
    time_zone: str | None
    managers: list[str] | None
    visibility: Visibility | None
    contact_consent_at: datetime | None


class OfferOut(OfferSkill):
    model_config = ConfigDict(extra="ignore", from_attributes=True)

    offer_id: str
    member_id: str
    withdrawn: bool


class SkillOut(BaseModel):
    code: str
    label: str
    labels: dict[str, str]
    sector: str
    broader: list[str]
    narrower: list[str]
    related: list[str]
    esco_uri: str | None


def _render(seen: Seen, identity: Identity, taxonomy: Taxonomy, lang: str | None = None) -> MemberOut:
    member, full = seen.member, seen.view is View.FULL
    may_contact = full or (member.contact_consent and bool(MANAGER_ROLES.intersection(identity.roles)))
    return MemberOut(
        view=seen.view.value,
        member_id=member.member_id,
        kind=member.kind,
        display_name=member.display_name,
        country_of_residence=member.country_of_residence,
        languages=member.languages,
        attachments=[Attachment.model_validate(a) for a in member.attachments],
        sectors=member.sectors,
        generation=member.generation,
        skills=[_offered(offer, lang or member.locale, taxonomy) for offer in seen.live_offers],
        contact_consent=member.contact_consent,
        email=member.email if may_contact else None,
        locale=member.locale if full else None,
        time_zone=member.time_zone if full else None,
        managers=member.managers if full else None,
        visibility=member.visibility if full else None,
        contact_consent_at=member.contact_consent_at if full else None,
    )


def _offered(offer: SkillOffer, locale: str, taxonomy: Taxonomy) -> OfferedSkill:
    skill = taxonomy.get(offer.skill)
    label = skill.label(locale) if skill else offer.skill
    return OfferedSkill(
        offer_id=offer.offer_id, skill=offer.skill, label=label, level=offer.level, modes=offer.modes
    )


def _skill_out(skill: Skill, taxonomy: Taxonomy, language: str) -> SkillOut:
    return SkillOut(
        code=skill.code,
        label=skill.label(language),
        labels=dict(skill.labels),
        sector=skill.sector,
        broader=list(skill.broader),
        narrower=taxonomy.narrower(skill.code),
        related=list(skill.related),
        esco_uri=skill.esco_uri,
    )


LabelLanguage = Annotated[
    KnownLanguage | None, Query(description="Language of skill labels (default: each member's own)")
]


def build_router(handlers: MembersHandlers, taxonomy: Taxonomy) -> APIRouter:
    router = APIRouter()

    @router.post("/members", status_code=status.HTTP_201_CREATED, tags=["members"], dependencies=[IDEMPOTENT])
    async def register_member(body: RegisterMember, identity: CurrentIdentity) -> MemberOut:
        """Register the caller: a person as themself, or an association / local actor they manage."""
        member = await handlers.register(identity, body)
        return _render(Seen(member, View.FULL, []), identity, taxonomy)

    @router.get("/members", tags=["members"])
    async def find_members(
        identity: CurrentIdentity,
        request: Request,
        response: Response,
        territory_id: Annotated[Code | None, Query(description="Attached to this territory")] = None,
        bond: Annotated[Bond | None, Query(description="With this bond (to territory_id if given)")] = None,
        skill: Annotated[Code | None, Query(description="Offering this skill or a narrower one")] = None,
        language: Annotated[KnownLanguage | None, Query(description="Speaking this language")] = None,
        country: Annotated[KnownCountry | None, Query(description="Living in this country")] = None,
        kind: Annotated[MemberKind | None, Query()] = None,
        sector: Annotated[Code | None, Query()] = None,
        limit: Limit = 20,
        offset: Offset = 0,
        lang: LabelLanguage = None,
    ) -> list[MemberOut]:
        """Find members to mobilise for a territory; each member's visibility setting is honoured.

        A page of members by name; `X-Total-Count` says how many match, `Link` gives the next page."""
        wanted = MemberSearch(
            territory_id=territory_id, bond=bond, language=language, country=country, kind=kind, sector=sector
        )
        page = await handlers.search(identity, wanted, skill, limit, offset)
        describe_page(request, response, total=page.total, limit=limit, offset=offset, shown=len(page.items))
        return [_render(seen, identity, taxonomy, lang) for seen in page.items]

    @router.get("/members/{member_id}", tags=["members"])
    async def read_member(member_id: str, identity: CurrentIdentity, lang: LabelLanguage = None) -> MemberOut:
        return _render(await handlers.profile(identity, member_id), identity, taxonomy, lang)

    @router.patch("/members/{member_id}", tags=["members"])
    async def update_member(member_id: str, body: UpdateMember, identity: CurrentIdentity) -> MemberOut:
        member = await handlers.update(identity, member_id, body)
        return _render(Seen(member, View.FULL, []), identity, taxonomy)

    @router.delete("/members/{member_id}", status_code=status.HTTP_202_ACCEPTED, tags=["members"])
    async def erase_member(member_id: str, identity: CurrentIdentity) -> dict[str, str]:
        """Erase the member's personal data here at once; the other services follow on MemberErased."""
        await handlers.erase(identity, member_id)
        return {"member_id": member_id, "status": "erased"}

    @router.get("/members/{member_id}/export", tags=["members"])
    async def export_member(member_id: str, identity: CurrentIdentity) -> JSONResponse:
        """Everything held on the member: profile, offers, consents and history (GDPR art. 15 and 20)."""
        exported = await handlers.export(identity, member_id)
        return JSONResponse(
            jsonable_encoder(exported),
            headers={"Content-Disposition": f'attachment; filename="passerelle-member-{member_id}.json"'},
        )

    @router.post(
        "/members/{member_id}/offers",
        status_code=status.HTTP_201_CREATED,
        tags=["offers"],
        dependencies=[IDEMPOTENT],
    )
    async def offer_skill(member_id: str, body: OfferSkill, identity: CurrentIdentity) -> OfferOut:
        """Offer a skill to the community's projects."""
        offer = await handlers.offer_skill(identity, member_id, body)
        return OfferOut.model_validate(offer)

    @router.get("/members/{member_id}/offers", tags=["offers"])
    async def list_offers(member_id: str, identity: CurrentIdentity) -> list[OfferOut]:
        return [OfferOut.model_validate(offer) for offer in await handlers.offers(identity, member_id)]

    @router.patch("/members/{member_id}/offers/{offer_id}", tags=["offers"])
    async def update_offer(
        member_id: str, offer_id: str, body: UpdateOffer, identity: CurrentIdentity
    ) -> OfferOut:
        return OfferOut.model_validate(await handlers.update_offer(identity, member_id, offer_id, body))

    @router.delete(
        "/members/{member_id}/offers/{offer_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["offers"]
    )
    async def withdraw_offer(member_id: str, offer_id: str, identity: CurrentIdentity) -> Response:
        await handlers.withdraw_offer(identity, member_id, offer_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/skills", tags=["skills"])
    async def search_skills(
        identity: CurrentIdentity,
        request: Request,
        response: Response,
        q: Annotated[str, Query(max_length=100, description="Words of a label, in any language")] = "",
        lang: Annotated[KnownLanguage, Query(description="Language of the labels and of the ranking")] = "en",
        sector: Annotated[Code | None, Query()] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> list[SkillOut]:
        """Search the skill taxonomy, best match first (paged like GET /members)."""
        found = taxonomy.search(q, lang, sector)
        page = found[offset : offset + limit]
        describe_page(request, response, total=len(found), limit=limit, offset=offset, shown=len(page))
        return [_skill_out(skill, taxonomy, lang) for skill in page]

    @router.get("/skills/{code:path}", tags=["skills"])
    async def read_skill(
        code: str, identity: CurrentIdentity, lang: Annotated[KnownLanguage, Query()] = "en"
    ) -> SkillOut:
        skill = taxonomy.get(code)
        if skill is None:
            raise NotFound("skill", code)
        return _skill_out(skill, taxonomy, lang)

    return router
