"""Loading, saving and finding opportunities and interests, and the read models of territories,
their managers and members: the SQLAlchemy implementation the service's units of work carry."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from passerelle.contracts import ERASED_OWNER
from passerelle.persistence.database import FOREVER
from sqlalchemy import ColumnElement, Select, String, and_, delete, func, literal, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import ERASED_KIND, OPEN, Interest, MemberFacts, Opportunity
from .orm import InterestRow, MemberRow, OpportunityRow, TerritoryRoleRow, TerritoryRow

_OPPORTUNITY_FIELDS = [f.name for f in fields(Opportunity)]
_INTEREST_FIELDS = [f.name for f in fields(Interest)]
_AMOUNTS = ("amount_min", "amount_max")


@dataclass(frozen=True)
class OpportunitySearch:
    territory_id: str | None = None  # this territory and every one under it
    statuses: Collection[str] = (OPEN,)
    kind: str | None = None
    sector: str | None = None
    instrument: str | None = None
    amount_max: Decimal | None = None  # those whose indicative minimum is within it


@dataclass(frozen=True)
class Visibility:
    """What a caller sees besides what members see (approved opportunities): those of the promoters
    they act for and those in the territories they manage. None: everything (an operator)."""

    promoters: Collection[str]
    territories: Collection[str]


def _from_row(row: Any, names: list[str]) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in names}
    for name in _AMOUNTS:
        if values.get(name) is not None:
            values[name] = f"{values[name]:.2f}"
    return values


def _to_row(values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: Decimal(value) if name in _AMOUNTS and value is not None else value
        for name, value in values.items()
    }


def descendants_query(territory_id: str) -> Select[tuple[str]]:
    """The territory and every territory under it."""
    tree = (
        select(TerritoryRow.territory_id).where(TerritoryRow.territory_id == territory_id).cte(recursive=True)
    )
    tree = tree.union_all(
        select(TerritoryRow.territory_id).where(TerritoryRow.parent_id == tree.c.territory_id)
    )
    return select(tree.c.territory_id)


class SqlOpportunitiesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Opportunities

    async def opportunity(self, opportunity_id: str, *, for_update: bool = False) -> Opportunity | None:
        """`for_update` locks the row until the unit of work ends: changes to it wait for one another."""
        row = await self.session.get(OpportunityRow, opportunity_id, with_for_update=for_update)
        return Opportunity(**_from_row(row, _OPPORTUNITY_FIELDS)) if row else None

    async def save(self, opportunity: Opportunity) -> None:
        await self.session.merge(OpportunityRow(**_to_row(asdict(opportunity))))

    async def count_promoted_by(self, member_id: str) -> int:
        """How many opportunities the member promotes; their creations wait for one another until the
        unit of work ends, so that two at once cannot both pass the limit."""
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(member_id))))
        count = await self.session.scalar(
            select(func.count())
            .select_from(OpportunityRow)
            .where(OpportunityRow.promoter_member_id == member_id)
        )
        return count or 0

    async def search(
        self, wanted: OpportunitySearch, visibility: Visibility | None, limit: int, offset: int
    ) -> tuple[list[Opportunity], int]:
        conditions: list[ColumnElement[bool]] = [OpportunityRow.status.in_(list(wanted.statuses))]
        if visibility is not None:
            conditions.append(
                or_(
                    OpportunityRow.published_at.is_not(None),
                    OpportunityRow.promoter_member_id.in_(list(visibility.promoters)),
                    OpportunityRow.territory_id.in_(list(visibility.territories)),
                )
            )
        if wanted.territory_id:
            conditions.append(OpportunityRow.territory_id.in_(descendants_query(wanted.territory_id)))
        if wanted.kind:
            conditions.append(OpportunityRow.kind == wanted.kind)
        if wanted.sector:
            conditions.append(OpportunityRow.sector == wanted.sector)
        if wanted.instrument:
            conditions.append(OpportunityRow.instruments.contains([wanted.instrument]))
        if wanted.amount_max is not None:
            conditions.append(
                or_(OpportunityRow.amount_min.is_(None), OpportunityRow.amount_min <= wanted.amount_max)
            )
        where = and_(true(), *conditions)
        total = await self.session.scalar(select(func.count()).select_from(OpportunityRow).where(where))
        rows = await self.session.scalars(
            select(OpportunityRow)
            .where(where)
            .order_by(OpportunityRow.created_at.desc(), OpportunityRow.opportunity_id)
            .limit(limit)
            .offset(offset)
        )
        return [Opportunity(**_from_row(row, _OPPORTUNITY_FIELDS)) for row in rows], total or 0

    async def open_expiring_by(self, day: date) -> list[str]:
        """Open opportunities that expire on `day` or before, soonest first."""
        query = (
            select(OpportunityRow.opportunity_id)
            .where(OpportunityRow.status == OPEN, OpportunityRow.expires_on <= day)
            .order_by(OpportunityRow.expires_on, OpportunityRow.opportunity_id)
        )
        return list(await self.session.scalars(query))

    # Interests

    async def interest(self, interest_id: str, *, for_update: bool = False) -> Interest | None:
        row = await self.session.get(InterestRow, interest_id, with_for_update=for_update)
        return Interest(**_from_row(row, _INTEREST_FIELDS)) if row else None

    async def interest_of(self, opportunity_id: str, member_id: str) -> Interest | None:
        row = await self.session.scalar(
            select(InterestRow).where(
                InterestRow.opportunity_id == opportunity_id, InterestRow.member_id == member_id
            )
        )
        return Interest(**_from_row(row, _INTEREST_FIELDS)) if row else None

    async def save_interest(self, interest: Interest) -> None:
        await self.session.merge(InterestRow(**_to_row(asdict(interest))))

    async def interests(self, opportunity_id: str, statuses: Collection[str] | None = None) -> list[Interest]:
        query = select(InterestRow).where(InterestRow.opportunity_id == opportunity_id)
        if statuses is not None:
            query = query.where(InterestRow.status.in_(list(statuses)))
        rows = await self.session.scalars(query.order_by(InterestRow.created_at, InterestRow.interest_id))
        return [Interest(**_from_row(row, _INTEREST_FIELDS)) for row in rows]

    async def interests_of_member(self, member_id: str) -> list[Interest]:
        query = select(InterestRow).where(InterestRow.member_id == member_id)
        rows = await self.session.scalars(
            query.order_by(InterestRow.created_at.desc(), InterestRow.interest_id)
        )
        return [Interest(**_from_row(row, _INTEREST_FIELDS)) for row in rows]

    # Territories and their managers

    async def remember_territory(
        self, territory_id: str, name: str, country: str, parent_id: str | None
    ) -> None:
        statement = insert(TerritoryRow).values(
            territory_id=territory_id, name=name, country=country, parent_id=parent_id
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[TerritoryRow.territory_id],
                set_={"name": name, "country": country, "parent_id": parent_id},
            )
        )

    async def territory_known(self, territory_id: str) -> bool:
        return await self.session.get(TerritoryRow, territory_id) is not None

    async def lineage(self, territory_id: str) -> list[str]:
        """The territory and every territory above it."""
        chain = (
            select(TerritoryRow.territory_id, TerritoryRow.parent_id)
            .where(TerritoryRow.territory_id == territory_id)
            .cte(recursive=True)
        )
        chain = chain.union_all(
            select(TerritoryRow.territory_id, TerritoryRow.parent_id).where(
                TerritoryRow.territory_id == chain.c.parent_id
            )
        )
        return list(await self.session.scalars(select(chain.c.territory_id)))

    async def name_manager(self, territory_id: str, sub: str, role: str) -> None:
        statement = insert(TerritoryRoleRow).values(territory_id=territory_id, sub=sub, role=role)
        await self.session.execute(statement.on_conflict_do_nothing())

    async def remove_manager(self, territory_id: str, sub: str, role: str) -> None:
        await self.session.execute(
            delete(TerritoryRoleRow).where(
                TerritoryRoleRow.territory_id == territory_id,
                TerritoryRoleRow.sub == sub,
                TerritoryRoleRow.role == role,
            )
        )

    async def manages_any(self, sub: str, territory_ids: Collection[str]) -> bool:
        query = select(TerritoryRoleRow.sub).where(
            TerritoryRoleRow.sub == sub, TerritoryRoleRow.territory_id.in_(list(territory_ids))
        )
        return await self.session.scalar(query.limit(1)) is not None

    async def territories_managed_by(self, sub: str) -> list[str]:
        """Every territory a manager acts on: those granted and everything under them."""
        granted = await self.session.scalars(
            select(TerritoryRoleRow.territory_id).where(TerritoryRoleRow.sub == sub)
        )
        managed: set[str] = set()
        for territory_id in list(granted):
            managed.update(await self.session.scalars(descendants_query(territory_id)))
        return sorted(managed)

    # Members

    async def member(self, member_id: str) -> MemberFacts | None:
        row = await self.session.get(MemberRow, member_id)
        if row is None:
            return None
        return MemberFacts(
            row.member_id, row.kind, row.display_name, row.country_of_residence, row.languages, row.managers
        )

    async def members(self, member_ids: Collection[str]) -> dict[str, MemberFacts]:
        rows = await self.session.scalars(select(MemberRow).where(MemberRow.member_id.in_(list(member_ids))))
        return {
            row.member_id: MemberFacts(
                row.member_id,
                row.kind,
                row.display_name,
                row.country_of_residence,
                row.languages,
                row.managers,
            )
            for row in rows
        }

    async def was_erased(self, member_id: str) -> bool:
        member = await self.member(member_id)
        return member is not None and member.erased

    async def members_managed_by(self, sub: str) -> list[str]:
        query = select(MemberRow.member_id).where(MemberRow.managers.contains([sub]))
        return list(await self.session.scalars(query))

    async def remember_member(self, facts: MemberFacts, as_of: datetime) -> None:
        """Keep the newest facts whatever order the events arrive in."""
        statement = insert(MemberRow).values(**asdict(facts), as_of=as_of)
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[MemberRow.member_id],
            set_={name: getattr(excluded, name) for name in (*asdict(facts), "as_of") if name != "member_id"},
            where=MemberRow.as_of < excluded.as_of,
        )
        await self.session.execute(statement)

    async def forget_member(self, member_id: str) -> list[str]:
        """Remove the member's interests, card and every right they held; returns the opportunities
        they promoted, now promoted by the erased marker and locked until the commit."""
        await self.remember_member(MemberFacts(member_id, ERASED_KIND), as_of=FOREVER)
        await self.session.execute(delete(InterestRow).where(InterestRow.member_id == member_id))
        await self.session.execute(delete(TerritoryRoleRow).where(TerritoryRoleRow.sub == member_id))
        await self.session.execute(
            update(OpportunityRow).where(OpportunityRow.reviewed_by == member_id).values(reviewed_by=None)
        )
        await self.session.execute(
            update(MemberRow)
            .where(MemberRow.managers.contains([member_id]))
            .values(managers=MemberRow.managers.op("-")(literal(member_id, String())))
        )
        promoted = await self.session.scalars(
            update(OpportunityRow)
            .where(OpportunityRow.promoter_member_id == member_id)
            .values(promoter_member_id=ERASED_OWNER)
            .returning(OpportunityRow.opportunity_id)
            .execution_options(synchronize_session=False)
        )
        return sorted(promoted)
