"""Loading and saving financing plans, campaigns, pledges, co-funding and updates."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert

from ..orm import PledgeRow, ProjectRow
from ..repository import ProjectsRepository
from .domain import (
    OPEN,
    SUCCEEDED,
    Campaign,
    CofundingOffer,
    Collector,
    Conditions,
    FinancingPlan,
    PlanLine,
    Pledge,
)
from .orm import CampaignRow, CofundingApplicationRow, CofundingOfferRow, FinancingPlanRow, ProjectUpdateRow

_CAMPAIGN_FIELDS = [f.name for f in fields(Campaign)]
_PLEDGE_FIELDS = [f.name for f in fields(Pledge)]


def _plan(row: FinancingPlanRow) -> FinancingPlan:
    collector = {**row.collector, "confirmer_subs": tuple(row.collector["confirmer_subs"])}
    lines = tuple(PlanLine(**{**line, "amount": Decimal(line["amount"])}) for line in row.lines)
    return FinancingPlan(row.project_id, row.budget_amount, row.currency, lines, Collector(**collector))


def _campaign(row: CampaignRow) -> Campaign:
    return Campaign(**{name: getattr(row, name) for name in _CAMPAIGN_FIELDS})


def _pledge(row: PledgeRow) -> Pledge:
    return Pledge(**{name: getattr(row, name) for name in _PLEDGE_FIELDS})


def _conditions(data: dict[str, Any]) -> Conditions:
    return Conditions(
        bonds=tuple(data.get("bonds", ())),
        starts_on=datetime.fromisoformat(data["starts_on"]).date() if data.get("starts_on") else None,
        ends_on=datetime.fromisoformat(data["ends_on"]).date() if data.get("ends_on") else None,
        territory_ids=tuple(data.get("territory_ids", ())),
    )


def _offer(row: CofundingOfferRow) -> CofundingOffer:
    return CofundingOffer(
        row.offer_id,
        row.project_id,
        row.sponsor_member_id,
        row.ratio,
        row.cap_amount,
        row.currency,
        _conditions(row.conditions),
        row.used_amount,
        row.status,
    )


class FinancingRepository(ProjectsRepository):
    """The projects repository, and what financing keeps: one unit of work sees both."""

    # Plans

    async def plan(self, project_id: str) -> FinancingPlan | None:
        row = await self.session.get(FinancingPlanRow, project_id)
        return _plan(row) if row else None

    async def save_plan(self, plan: FinancingPlan) -> None:
        row = asdict(plan)
        row["lines"] = [{**line, "amount": str(line["amount"])} for line in row["lines"]]
        row["collector"]["confirmer_subs"] = list(plan.collector.confirmer_subs)
        await self.session.merge(FinancingPlanRow(**row))

    # Campaigns

    async def campaign(self, campaign_id: str, *, for_update: bool = False) -> Campaign | None:
        row = await self.session.get(CampaignRow, campaign_id, with_for_update=for_update)
        return _campaign(row) if row else None

    async def current_campaign_of(self, project_id: str) -> Campaign | None:
        """The project's latest campaign, locked."""
        query = select(CampaignRow).where(CampaignRow.project_id == project_id)
        query = query.order_by(CampaignRow.opens_at.desc(), CampaignRow.campaign_id).limit(1)
        row = await self.session.scalar(query.with_for_update())
        return _campaign(row) if row else None

    async def campaigns_of(self, project_id: str) -> list[Campaign]:
        query = select(CampaignRow).where(CampaignRow.project_id == project_id)
        rows = await self.session.scalars(
            query.order_by(CampaignRow.opens_at.desc(), CampaignRow.campaign_id)
        )
        return [_campaign(row) for row in rows]

    async def save_campaign(self, campaign: Campaign) -> None:
        await self.session.merge(CampaignRow(**asdict(campaign)))
        await self.session.flush()

    async def due_campaigns(self, now: datetime, limit: int) -> list[str]:
        """Open campaigns past their closing time (each is checked again under its lock)."""
        query = (
            select(CampaignRow.campaign_id)
            .where(CampaignRow.status == OPEN, CampaignRow.closes_at <= now)
            .order_by(CampaignRow.closes_at)
            .limit(limit)
        )
        return list(await self.session.scalars(query))

    async def collecting_campaigns(self, limit: int) -> list[str]:
        """Succeeded campaigns that still have pledges to collect."""
        pending = select(PledgeRow.campaign_id).where(
            PledgeRow.status == "pledged", PledgeRow.campaign_id == CampaignRow.campaign_id
        )
        query = (
            select(CampaignRow.campaign_id)
            .where(CampaignRow.status == SUCCEEDED, pending.exists())
            .order_by(CampaignRow.closes_at)
            .limit(limit)
        )
        return list(await self.session.scalars(query))

    # Pledges

    async def pledge(self, pledge_id: str, *, for_update: bool = False) -> Pledge | None:
        row = await self.session.get(PledgeRow, pledge_id, with_for_update=for_update)
        return _pledge(row) if row else None

    async def reference_taken(self, reference: str) -> bool:
        query = select(PledgeRow.pledge_id).where(PledgeRow.reference == reference)
        return await self.session.scalar(query) is not None

    async def add_financed_pledge(self, pledge: Pledge) -> None:
        self.session.add(PledgeRow(**asdict(pledge)))
        await self.session.flush()

    async def save_pledge(self, pledge: Pledge) -> None:
        await self.session.merge(PledgeRow(**asdict(pledge)))

    async def pledges_of(
        self, project_id: str, *, campaign_id: str | None = None, status: str | None = None
    ) -> list[Pledge]:
        query = select(PledgeRow).where(PledgeRow.project_id == project_id)
        if campaign_id is not None:
            query = query.where(PledgeRow.campaign_id == campaign_id)
        if status is not None:
            query = query.where(PledgeRow.status == status)
        rows = await self.session.scalars(query.order_by(PledgeRow.pledged_at, PledgeRow.pledge_id))
        return [_pledge(row) for row in rows]

    async def pledges_by_member(
        self, member_id: str, limit: int, offset: int
    ) -> tuple[list[tuple[Pledge, str]], int]:
        """The member's pledges, theirs or given in their name, newest first, with their project's title."""
        where = or_(PledgeRow.member_id == member_id, PledgeRow.on_behalf_of_member_id == member_id)
        total = await self.session.scalar(select(func.count()).select_from(PledgeRow).where(where))
        query = (
            select(PledgeRow, ProjectRow.title)
            .join(ProjectRow, ProjectRow.project_id == PledgeRow.project_id)
            .where(where)
            .order_by(PledgeRow.pledged_at.desc(), PledgeRow.pledge_id)
        )
        rows = await self.session.execute(query.limit(limit).offset(offset))
        return [(_pledge(row), title) for row, title in rows], total or 0

    async def pledges_by_reference(self, project_id: str, references: list[str]) -> dict[str, Pledge]:
        """The project's pledges with these references, locked until the commit."""
        query = (
            select(PledgeRow)
            .where(PledgeRow.project_id == project_id, PledgeRow.reference.in_(references))
            .with_for_update()
        )
        return {row.reference: _pledge(row) for row in await self.session.scalars(query) if row.reference}

    async def bonds_to(self, member_id: str | None, territory_ids: list[str]) -> set[str]:
        """The member's bonds (origin, family, heart) to any of these territories."""
        member = await self.member(member_id) if member_id else None
        if member is None:
            return set()
        return {item["bond"] for item in member.attachments if item["territory_id"] in territory_ids}

    # Co-funding

    async def offers(self, project_id: str, *, for_update: bool = False) -> list[CofundingOffer]:
        query = select(CofundingOfferRow).where(CofundingOfferRow.project_id == project_id)
        query = query.order_by(CofundingOfferRow.created_at, CofundingOfferRow.offer_id)
        rows = await self.session.scalars(query.with_for_update() if for_update else query)
        return [_offer(row) for row in rows]

    async def offer(self, offer_id: str, *, for_update: bool = False) -> CofundingOffer | None:
        row = await self.session.get(CofundingOfferRow, offer_id, with_for_update=for_update)
        return _offer(row) if row else None

    async def save_offer(self, offer: CofundingOffer) -> None:
        row = asdict(offer)
        conditions = offer.conditions
        row["conditions"] = {
            "bonds": list(conditions.bonds),
            "starts_on": conditions.starts_on.isoformat() if conditions.starts_on else None,
            "ends_on": conditions.ends_on.isoformat() if conditions.ends_on else None,
            "territory_ids": list(conditions.territory_ids),
        }
        await self.session.merge(CofundingOfferRow(**row))
        await self.session.flush()

    async def apply_cofunding(self, offer_id: str, pledge_id: str, project_id: str, amount: Decimal) -> bool:
        """False when this offer already matched this pledge: it matches each at most once."""
        statement = (
            insert(CofundingApplicationRow)
            .values(offer_id=offer_id, pledge_id=pledge_id, project_id=project_id, amount=amount)
            .on_conflict_do_nothing()
            .returning(CofundingApplicationRow.offer_id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def cofunded_by_offer(self, project_id: str) -> dict[str, Decimal]:
        query = (
            select(CofundingApplicationRow.offer_id, func.sum(CofundingApplicationRow.amount))
            .where(CofundingApplicationRow.project_id == project_id)
            .group_by(CofundingApplicationRow.offer_id)
        )
        return {offer_id: total for offer_id, total in await self.session.execute(query)}

    # Updates

    async def add_update(self, row: ProjectUpdateRow) -> None:
        self.session.add(row)

    async def updates(self, project_id: str, limit: int, offset: int) -> tuple[list[ProjectUpdateRow], int]:
        where = ProjectUpdateRow.project_id == project_id
        total = await self.session.scalar(select(func.count()).select_from(ProjectUpdateRow).where(where))
        query = select(ProjectUpdateRow).where(where).order_by(ProjectUpdateRow.posted_at.desc())
        return list(await self.session.scalars(query.limit(limit).offset(offset))), total or 0
