"""HTTP routes of the opportunities service: parse a typed command, call a handler, render."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from passerelle.contracts.opportunities import Instrument, OpportunityKind
from passerelle.runtime.auth import CurrentIdentity
from passerelle.runtime.idempotency import IDEMPOTENT
from passerelle.runtime.pagination import Limit, Offset, describe_page
from passerelle.validation import KnownCountry, Money
from pydantic import BaseModel, Field

from .commands import Close, Code, CreateOpportunity, Decline, EditOpportunity, ExpressInterest, Review
from .domain import Interest, Opportunity
from .handlers import InterestCard, OpportunitiesHandlers, OpportunityView
from .programmes import SupportProgramme
from .repository import OpportunitySearch

Status = Literal["draft", "submitted", "needs_work", "open", "closed"]
DISCLAIMER = (
    "Amounts are indicative. Passerelle lists, reviews and introduces: it moves no money and offers no "
    "security; terms are agreed outside the platform with the promoter and the programmes named."
)


class SupportNeedOut(BaseModel):
    need_id: str
    skill: str
    min_level: int
    mode: str
    count: int


class OpportunityOut(BaseModel):
    opportunity_id: str
    territory_id: str
    promoter_member_id: str
    kind: str
    sector: str
    title: str
    summary: str
    description: str
    language: str
    amount_min: str | None
    amount_max: str | None
    currency: str | None
    instruments: list[str]
    expected_jobs: int | None
    stage: str
    support_programmes: list[str]
    support_needs: list[SupportNeedOut]
    source_idea_ids: list[str]
    expires_on: date | None
    status: Status
    outcome: str | None
    created_at: datetime
    submitted_at: datetime | None
    published_at: datetime | None
    review_notes: str | None = Field(description="Shown to the promoter and the reviewers only")
    disclaimer: str = DISCLAIMER

    @classmethod
    def of(cls, opportunity: Opportunity, may_act: bool) -> OpportunityOut:
        fields: dict[str, Any] = asdict(opportunity)
        fields["review_notes"] = opportunity.review_notes if may_act else None
        return cls.model_validate({name: fields[name] for name in cls.model_fields if name in fields})


class InterestOut(BaseModel):
    """An interest as the member who expressed it sees it: never the reason of a decline."""

    interest_id: str
    opportunity_id: str
    member_id: str
    role: str
    message: str
    amount_min: str | None
    amount_max: str | None
    currency: str | None
    status: str
    created_at: datetime
    answered_at: datetime | None

    @classmethod
    def of(cls, interest: Interest) -> InterestOut:
        fields = asdict(interest)
        return cls.model_validate({name: fields[name] for name in cls.model_fields})


class MemberCard(BaseModel):
    """Who is interested: no e-mail nor any contact detail (the introduction opens a thread)."""

    display_name: str
    kind: str
    country_of_residence: str
    languages: list[str]


class InterestOnDesk(InterestOut):
    """An interest on the promoter's desk, with the member's card and the promoter's own answer."""

    member: MemberCard | None = Field(description="null until the member's profile reached the service")
    decline_reason: str | None
    decline_note: str

    @classmethod
    def of_card(cls, card: InterestCard) -> InterestOnDesk:
        member = card.member
        shown = None
        if member is not None and not member.erased:
            shown = MemberCard(
                display_name=member.display_name,
                kind=member.kind,
                country_of_residence=member.country_of_residence,
                languages=member.languages,
            )
        fields = asdict(card.interest)
        return cls.model_validate(
            {**{name: fields[name] for name in cls.model_fields if name in fields}, "member": shown}
        )


def build_router(handlers: OpportunitiesHandlers) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/opportunities",
        status_code=status.HTTP_201_CREATED,
        tags=["opportunities"],
        dependencies=[IDEMPOTENT],
    )
    async def create_opportunity(body: CreateOpportunity, identity: CurrentIdentity) -> OpportunityOut:
        """Create a draft: for yourself, a member you act for, or as a manager of the territory."""
        return OpportunityOut.of(await handlers.create(identity, body), may_act=True)

    @router.get("/opportunities", tags=["opportunities"])
    async def list_opportunities(
        identity: CurrentIdentity,
        request: Request,
        response: Response,
        territory_id: Annotated[
            Code | None, Query(description="This territory and every one under it")
        ] = None,
        kind: Annotated[OpportunityKind | None, Query()] = None,
        sector: Annotated[Code | None, Query()] = None,
        instrument: Annotated[Instrument | None, Query()] = None,
        amount_max: Annotated[Money | None, Query(description="Those whose indicative minimum fits")] = None,
        opportunity_status: Annotated[
            Status | None, Query(alias="status", description="Default: open")
        ] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> list[OpportunityOut]:
        """Opportunities, newest first; those not approved yet only to their promoter and reviewers."""
        wanted = OpportunitySearch(
            territory_id=territory_id,
            statuses=(opportunity_status or "open",),
            kind=kind,
            sector=sector,
            instrument=instrument,
            amount_max=Decimal(amount_max) if amount_max is not None else None,
        )
        found, total = await handlers.opportunities(identity, wanted, limit, offset)
        describe_page(request, response, total=total, limit=limit, offset=offset, shown=len(found))
        return [OpportunityOut.of(opportunity, may_act=False) for opportunity in found]

    @router.get("/opportunities/{opportunity_id}", tags=["opportunities"])
    async def read_opportunity(opportunity_id: str, identity: CurrentIdentity) -> OpportunityOut:
        """404 to members until approved."""
        view: OpportunityView = await handlers.opportunity(identity, opportunity_id)
        return OpportunityOut.of(view.opportunity, view.may_act)

    @router.patch("/opportunities/{opportunity_id}", tags=["opportunities"])
    async def edit_opportunity(
        opportunity_id: str, body: EditOpportunity, identity: CurrentIdentity
    ) -> OpportunityOut:
        """Edit until closed; an open opportunity's changes are published (OpportunityUpdated)."""
        return OpportunityOut.of(await handlers.edit(identity, opportunity_id, body), may_act=True)

    @router.post("/opportunities/{opportunity_id}/submit", tags=["opportunities"])
    async def submit_opportunity(opportunity_id: str, identity: CurrentIdentity) -> OpportunityOut:
        """Ask the territory's managers to review it (OpportunitySubmitted)."""
        return OpportunityOut.of(await handlers.submit(identity, opportunity_id), may_act=True)

    @router.post("/opportunities/{opportunity_id}/review", tags=["opportunities"])
    async def review_opportunity(
        opportunity_id: str, body: Review, identity: CurrentIdentity
    ) -> OpportunityOut:
        """A manager of the territory or above: approved opens it (OpportunityPublished), needs_work
        sends it back, rejected closes it."""
        return OpportunityOut.of(await handlers.review(identity, opportunity_id, body), may_act=True)

    @router.post("/opportunities/{opportunity_id}/renew", tags=["opportunities"])
    async def renew_opportunity(opportunity_id: str, identity: CurrentIdentity) -> OpportunityOut:
        """Open for 90 more days from today."""
        return OpportunityOut.of(await handlers.renew(identity, opportunity_id), may_act=True)

    @router.post("/opportunities/{opportunity_id}/close", tags=["opportunities"])
    async def close_opportunity(
        opportunity_id: str, body: Close, identity: CurrentIdentity
    ) -> OpportunityOut:
        """Concluded or withdrawn; its pending interests end with it."""
        return OpportunityOut.of(await handlers.close(identity, opportunity_id, body.outcome), may_act=True)

    @router.post(
        "/opportunities/{opportunity_id}/interests",
        status_code=status.HTTP_201_CREATED,
        tags=["interests"],
        dependencies=[IDEMPOTENT],
    )
    async def express_interest(
        opportunity_id: str, body: ExpressInterest, identity: CurrentIdentity
    ) -> InterestOut:
        """One interest per member and opportunity: again is a 409."""
        return InterestOut.of(await handlers.express_interest(identity, opportunity_id, body))

    @router.get("/opportunities/{opportunity_id}/interests", tags=["interests"])
    async def list_interests(opportunity_id: str, identity: CurrentIdentity) -> list[InterestOnDesk]:
        """The promoter's desk (and the reviewers'): no contact detail before an introduction."""
        return [InterestOnDesk.of_card(card) for card in await handlers.interests(identity, opportunity_id)]

    @router.get("/interests", tags=["interests"])
    async def my_interests(
        identity: CurrentIdentity, member_id: Annotated[Code, Query(description="Yours")]
    ) -> list[InterestOut]:
        """The interests a member expressed, newest first, with their status (never a decline's reason)."""
        return [
            InterestOut.of(interest) for interest in await handlers.interests_of_member(identity, member_id)
        ]

    @router.post("/interests/{interest_id}/accept", tags=["interests"])
    async def accept_interest(interest_id: str, identity: CurrentIdentity) -> InterestOut:
        """Introduce the member to the promoter (IntroductionMade: a thread opens between them)."""
        return InterestOut.of(await handlers.accept(identity, interest_id))

    @router.post("/interests/{interest_id}/decline", tags=["interests"])
    async def decline_interest(interest_id: str, body: Decline, identity: CurrentIdentity) -> InterestOut:
        """The member is told kindly, never the reason."""
        return InterestOut.of(await handlers.decline(identity, interest_id, body))

    @router.delete("/interests/{interest_id}", tags=["interests"])
    async def withdraw_interest(interest_id: str, identity: CurrentIdentity) -> InterestOut:
        """The member withdraws a pending interest."""
        return InterestOut.of(await handlers.withdraw_interest(identity, interest_id))

    @router.get("/support-programmes", tags=["support programmes"])
    async def support_programmes(
        identity: CurrentIdentity,
        country: Annotated[KnownCountry | None, Query(description="Where the investment is made")] = None,
        kind: Annotated[OpportunityKind | None, Query()] = None,
    ) -> list[SupportProgramme]:
        return handlers.programmes(country, kind)

    return router
