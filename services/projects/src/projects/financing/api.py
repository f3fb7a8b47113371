"""HTTP routes of participatory financing (contract 4.8): parse, call one use case, render."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from passerelle.runtime.auth import CurrentIdentity
from passerelle.runtime.idempotency import IDEMPOTENT
from passerelle.runtime.pagination import Limit, Offset, describe_page
from pydantic import BaseModel, Field

from .commands import (
    CampaignIn,
    CofundingIn,
    CollectionsIn,
    ExtendIn,
    OfflinePledgeIn,
    PlanIn,
    PledgeIn,
    UpdateIn,
)
from .domain import Campaign, CofundingOffer, Pledge, Programme
from .handlers import FinancingHandlers, PlanView, Receipt
from .ledger import Ledger
from .orm import ProjectUpdateRow


def money(amount: Decimal) -> str:
    return f"{amount:.2f}"


class ProgrammeOut(BaseModel):
    code: str
    name: str
    country: str
    currency: str
    sources: list[str]
    max_share_of_budget: str | None
    max_amount: str | None
    max_budget: str | None
    url: str | None

    @classmethod
    def of(cls, programme: Programme) -> ProgrammeOut:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return cls(
            **{
                **asdict(programme),
                "sources": list(programme.sources),
                "max_share_of_budget": text(programme.max_share_of_budget),
                "max_amount": text(programme.max_amount),
                "max_budget": text(programme.max_budget),
            }
        )


class PlanLineOut(BaseModel):
    source: str
    label: str
    amount: str
    status: str
    programme_code: str | None


class CollectorOut(BaseModel):
    kind: str
    name: str
    payment_instructions: str
    confirmer_subs: list[str] | None = Field(description="Shown to the project's team only")


class PlanOut(BaseModel):
    project_id: str
    budget_amount: str
    currency: str
    lines: list[PlanLineOut]
    collector: CollectorOut
    you_confirm: bool = Field(description="Whether the reader confirms this collector's collections")

    @classmethod
    def of(cls, view: PlanView) -> PlanOut:
        plan, collector = view.plan, view.plan.collector
        return cls(
            project_id=plan.project_id,
            budget_amount=money(plan.budget_amount),
            currency=plan.currency,
            lines=[PlanLineOut(**{**asdict(line), "amount": money(line.amount)}) for line in plan.lines],
            collector=CollectorOut(
                kind=collector.kind,
                name=collector.name,
                payment_instructions=collector.payment_instructions,
                confirmer_subs=list(collector.confirmer_subs) if view.may_act else None,
            ),
            you_confirm=view.may_confirm,
        )


class CampaignOut(BaseModel):
    campaign_id: str
    project_id: str
    goal_amount: str
    minimum_amount: str | None
    currency: str
    rule: Literal["all_or_nothing", "keep_it_all"]
    opens_at: datetime
    closes_at: datetime
    collection_days: int
    collection_ends_at: datetime
    status: Literal["open", "succeeded", "failed", "cancelled"]
    pledged_total: str
    collected_total: str
    closed_at: datetime | None

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignOut:
        return cls(
            **{
                **asdict(campaign),
                "goal_amount": money(campaign.goal_amount),
                "minimum_amount": money(campaign.minimum_amount) if campaign.minimum_amount else None,
                "pledged_total": money(campaign.pledged_total),
                "collected_total": money(campaign.collected_total),
            },
            collection_ends_at=campaign.collection_ends_at,
        )


class PledgeReceiptOut(BaseModel):
    pledge_id: str
    project_id: str
    campaign_id: str | None
    member_id: str | None = Field(description="null once the member was erased; the amount stays")
    on_behalf_of_member_id: str | None
    amount: str
    currency: str
    pledged_at: datetime
    reference: str | None = Field(description="Write it on the transfer, so that the collector can tell")
    payment_instructions: str | None = Field(description="The collector's, from the financing plan")
    collector_name: str | None
    public_name: str | None
    status: Literal["pledged", "collected", "cancelled", "released", "lapsed"]
    offline: bool
    collected_amount: str | None
    collected_at: datetime | None
    method: str | None

    @classmethod
    def of(cls, receipt: Receipt) -> PledgeReceiptOut:
        return cls.of_pledge(receipt.pledge, receipt.payment_instructions, receipt.collector_name)

    @classmethod
    def of_pledge(
        cls, pledge: Pledge, instructions: str | None = None, collector: str | None = None
    ) -> PledgeReceiptOut:
        fields = asdict(pledge)
        for name in ("collected_by", "reminders_sent"):
            fields.pop(name)
        return cls(
            **{
                **fields,
                "amount": money(pledge.amount),
                "collected_amount": money(pledge.collected_amount) if pledge.collected_amount else None,
            },
            payment_instructions=instructions,
            collector_name=collector,
        )


class MemberPledgeOut(BaseModel):
    pledge_id: str
    project_id: str
    project_title: str
    campaign_id: str | None
    on_behalf_of_member_id: str | None
    amount: str
    currency: str
    status: Literal["pledged", "collected", "cancelled", "released", "lapsed"]
    reference: str | None = Field(description="Write it on the transfer, so that the collector can tell")
    pledged_at: datetime
    offline: bool
    collected_amount: str | None

    @classmethod
    def of(cls, pledge: Pledge, project_title: str) -> MemberPledgeOut:
        fields = {name: getattr(pledge, name) for name in cls.model_fields if hasattr(pledge, name)}
        return cls(
            **{
                **fields,
                "amount": money(pledge.amount),
                "collected_amount": money(pledge.collected_amount) if pledge.collected_amount else None,
            },
            project_title=project_title,
        )


class OfferOut(BaseModel):
    offer_id: str
    project_id: str
    sponsor_member_id: str
    ratio: str
    cap_amount: str
    used_amount: str
    remaining_amount: str
    currency: str
    status: Literal["active", "exhausted", "withdrawn"]
    conditions: dict[str, object]

    @classmethod
    def of(cls, offer: CofundingOffer) -> OfferOut:
        conditions = offer.conditions
        return cls(
            offer_id=offer.offer_id,
            project_id=offer.project_id,
            sponsor_member_id=offer.sponsor_member_id,
            ratio=str(offer.ratio),
            cap_amount=money(offer.cap_amount),
            used_amount=money(offer.used_amount),
            remaining_amount=money(offer.remaining),
            currency=offer.currency,
            status=offer.status,
            conditions={
                "bonds": list(conditions.bonds),
                "starts_on": conditions.starts_on,
                "ends_on": conditions.ends_on,
                "territory_ids": list(conditions.territory_ids),
            },
        )


class UpdateOut(BaseModel):
    update_id: str
    project_id: str
    title: str
    body: str
    posted_at: datetime

    @classmethod
    def of(cls, row: ProjectUpdateRow) -> UpdateOut:
        return cls(
            update_id=row.update_id,
            project_id=row.project_id,
            title=row.title,
            body=row.body,
            posted_at=row.posted_at,
        )


class SourceOut(BaseModel):
    planned_amount: str
    committed_amount: str = Field(description="Pledged, for the diaspora; offered, for co-funding")
    received_amount: str = Field(description="Collected, for the diaspora; applied, for co-funding")


class LedgerEntryOut(BaseModel):
    amount: str
    status: str
    name: str | None = Field(description="Only where the pledger chose to be public")
    campaign_id: str | None
    offline: bool
    collected_amount: str | None


class LedgerCofundingOut(BaseModel):
    offer_id: str
    sponsor_member_id: str
    ratio: str
    cap_amount: str
    applied_amount: str
    status: str


class LedgerOut(BaseModel):
    project_id: str
    currency: str | None
    budget_amount: str | None
    pledged_total: str = Field(description="What still stands: pledged or collected")
    collected_total: str
    cofunded_total: str
    by_source: dict[str, SourceOut]
    pledges: list[LedgerEntryOut]
    cofunding: list[LedgerCofundingOut]

    @classmethod
    def of(cls, project_id: str, ledger: Ledger) -> LedgerOut:
        return cls(
            project_id=project_id,
            currency=ledger.currency,
            budget_amount=money(ledger.budget_amount) if ledger.budget_amount is not None else None,
            pledged_total=money(ledger.pledged_total),
            collected_total=money(ledger.collected_total),
            cofunded_total=money(ledger.cofunded_total),
            by_source={
                source: SourceOut(
                    planned_amount=money(totals.planned),
                    committed_amount=money(totals.committed),
                    received_amount=money(totals.received),
                )
                for source, totals in ledger.by_source.items()
            },
            pledges=[
                LedgerEntryOut(
                    amount=money(entry.amount),
                    status=entry.status,
                    name=entry.name,
                    campaign_id=entry.campaign_id,
                    offline=entry.offline,
                    collected_amount=money(entry.collected_amount) if entry.collected_amount else None,
                )
                for entry in ledger.entries
            ],
            cofunding=[
                LedgerCofundingOut(
                    offer_id=offer.offer_id,
                    sponsor_member_id=offer.sponsor_member_id,
                    ratio=str(offer.ratio),
                    cap_amount=money(offer.cap_amount),
                    applied_amount=money(applied),
                    status=offer.status,
                )
                for offer, applied in ledger.cofunding
            ],
        )


def build_financing_router(handlers: FinancingHandlers) -> APIRouter:
    router = APIRouter(tags=["financing"])

    @router.get("/financing-programmes")
    async def list_programmes(identity: CurrentIdentity) -> list[ProgrammeOut]:
        """The co-financing programmes a plan line may name, with the rules they set."""
        return [ProgrammeOut.of(p) for p in sorted(handlers.rules.programmes.values(), key=lambda p: p.code)]

    @router.get("/projects/{project_id}/financing-plan")
    async def read_plan(project_id: str, identity: CurrentIdentity) -> PlanOut:
        return PlanOut.of(await handlers.plan(identity, project_id))

    @router.put("/projects/{project_id}/financing-plan")
    async def set_plan(project_id: str, body: PlanIn, identity: CurrentIdentity) -> PlanOut:
        """Set the budget, its lines by source and the collector; a programme's rule broken is a 422
        naming the rule and the programme (emits FinancingPlanUpdated)."""
        return PlanOut.of(await handlers.set_plan(identity, project_id, body))

    @router.post(
        "/projects/{project_id}/campaigns", status_code=status.HTTP_201_CREATED, dependencies=[IDEMPOTENT]
    )
    async def open_campaign(project_id: str, body: CampaignIn, identity: CurrentIdentity) -> CampaignOut:
        """Open a campaign, all or nothing or keep it all (emits CampaignOpened)."""
        return CampaignOut.of(await handlers.open_campaign(identity, project_id, body))

    @router.get("/projects/{project_id}/campaigns")
    async def list_campaigns(project_id: str, identity: CurrentIdentity) -> list[CampaignOut]:
        """The project's campaigns, the latest first."""
        return [CampaignOut.of(c) for c in await handlers.campaigns(identity, project_id)]

    @router.get("/projects/{project_id}/campaigns/{campaign_id}")
    async def read_campaign(project_id: str, campaign_id: str, identity: CurrentIdentity) -> CampaignOut:
        return CampaignOut.of(await handlers.campaign(identity, project_id, campaign_id))

    @router.post("/projects/{project_id}/campaigns/{campaign_id}/extend")
    async def extend_campaign(
        project_id: str, campaign_id: str, body: ExtendIn, identity: CurrentIdentity
    ) -> CampaignOut:
        """Close later; a closed campaign reopens only while nothing of it was collected."""
        return CampaignOut.of(await handlers.extend(identity, project_id, campaign_id, body.closes_at))

    @router.post("/projects/{project_id}/campaigns/{campaign_id}/cancel")
    async def cancel_campaign(project_id: str, campaign_id: str, identity: CurrentIdentity) -> CampaignOut:
        """Cancel an open campaign: every pledge still to be paid is released."""
        return CampaignOut.of(await handlers.cancel_campaign(identity, project_id, campaign_id))

    @router.post(
        "/projects/{project_id}/pledges",
        status_code=status.HTTP_201_CREATED,
        tags=["projects"],
        dependencies=[IDEMPOTENT],
    )
    async def pledge(project_id: str, body: PledgeIn, identity: CurrentIdentity) -> PledgeReceiptOut:
        """Pledge money to a published project with a funding goal, to its campaign if it has one;
        the answer gives the reference to write on the transfer and the collector's instructions
        (emits PledgeMade, and FundingGoalReached the first time the total reaches the goal)."""
        return PledgeReceiptOut.of(await handlers.pledge(identity, project_id, body))

    @router.get("/pledges")
    async def list_member_pledges(
        member_id: Annotated[str, Query(min_length=1, max_length=100)],
        identity: CurrentIdentity,
        request: Request,
        response: Response,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> list[MemberPledgeOut]:
        """A member's pledges, made by them or in their name, newest first: for the member, those who
        manage them and operators. `X-Total-Count` and `Link` page it."""
        found, total = await handlers.member_pledges(identity, member_id, limit, offset)
        describe_page(request, response, total=total, limit=limit, offset=offset, shown=len(found))
        return [MemberPledgeOut.of(pledge, title) for pledge, title in found]

    @router.get("/pledges/{pledge_id}")
    async def read_pledge(pledge_id: str, identity: CurrentIdentity) -> PledgeReceiptOut:
        return PledgeReceiptOut.of(await handlers.read_pledge(identity, pledge_id))

    @router.post("/pledges/{pledge_id}/cancel")
    async def cancel_pledge(pledge_id: str, identity: CurrentIdentity) -> PledgeReceiptOut:
        """The pledger or the project's team cancels a pledge before its campaign closes."""
        return PledgeReceiptOut.of_pledge(await handlers.cancel_pledge(identity, pledge_id))

    @router.post("/projects/{project_id}/collections", dependencies=[IDEMPOTENT])
    async def collect(
        project_id: str, body: CollectionsIn, identity: CurrentIdentity
    ) -> list[PledgeReceiptOut]:
        """The collector's confirmers say which transfers arrived: all the batch, or nothing and a
        422 listing the references that cannot be collected (emits PledgeCollected, CofundingApplied)."""
        return [PledgeReceiptOut.of_pledge(p) for p in await handlers.collect(identity, project_id, body)]

    @router.post(
        "/projects/{project_id}/offline-pledges",
        status_code=status.HTTP_201_CREATED,
        dependencies=[IDEMPOTENT],
    )
    async def offline_pledge(
        project_id: str, body: OfflinePledgeIn, identity: CurrentIdentity
    ) -> PledgeReceiptOut:
        """Money given by hand, recorded by a confirmer: pledged and collected at once."""
        return PledgeReceiptOut.of(await handlers.offline_pledge(identity, project_id, body))

    @router.post(
        "/projects/{project_id}/cofunding-offers",
        status_code=status.HTTP_201_CREATED,
        dependencies=[IDEMPOTENT],
    )
    async def offer_cofunding(project_id: str, body: CofundingIn, identity: CurrentIdentity) -> OfferOut:
        """A sponsor matches each collection: min(ratio x collected, what remains of the cap)."""
        return OfferOut.of(await handlers.offer_cofunding(identity, project_id, body))

    @router.get("/projects/{project_id}/cofunding-offers")
    async def list_offers(project_id: str, identity: CurrentIdentity) -> list[OfferOut]:
        return [OfferOut.of(offer) for offer in await handlers.offers(identity, project_id)]

    @router.post("/cofunding-offers/{offer_id}/withdraw")
    async def withdraw_offer(offer_id: str, identity: CurrentIdentity) -> OfferOut:
        """The sponsor matches no more collections; what it matched stays."""
        return OfferOut.of(await handlers.withdraw_offer(identity, offer_id))

    @router.post(
        "/projects/{project_id}/updates", status_code=status.HTTP_201_CREATED, dependencies=[IDEMPOTENT]
    )
    async def post_update(project_id: str, body: UpdateIn, identity: CurrentIdentity) -> UpdateOut:
        """News for those who gave (emits ProjectUpdatePosted)."""
        return UpdateOut.of(await handlers.post_update(identity, project_id, body))

    @router.get("/projects/{project_id}/updates")
    async def list_updates(
        project_id: str,
        identity: CurrentIdentity,
        request: Request,
        response: Response,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> list[UpdateOut]:
        """Newest first; `X-Total-Count` and `Link` page it."""
        found, total = await handlers.updates(identity, project_id, limit, offset)
        describe_page(request, response, total=total, limit=limit, offset=offset, shown=len(found))
        return [UpdateOut.of(row) for row in found]

    @router.get("/projects/{project_id}/ledger")
    async def read_ledger(project_id: str, identity: CurrentIdentity) -> LedgerOut:
        """Totals by source, pledged vs collected vs co-funded, and the names of public pledgers."""
        return LedgerOut.of(project_id, await handlers.ledger(identity, project_id))

    return router
