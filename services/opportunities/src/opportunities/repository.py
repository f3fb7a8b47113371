"""Loading, saving and erasing opportunities: the protocol the use cases see, and its SQLAlchemy
implementation, which the service's units of work carry."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import Opportunity
from .orm import OpportunityRow

_FIELDS = [f.name for f in fields(Opportunity)]


class OpportunitiesRepository(Protocol):
    async def get(self, opportunity_id: str, *, for_update: bool = False) -> Opportunity | None: ...

    async def count_of(self, member_id: str) -> int: ...

    async def save(self, opportunity: Opportunity) -> None: ...

    async def erase_of(self, member_id: str) -> None: ...


class SqlOpportunitiesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, opportunity_id: str, *, for_update: bool = False) -> Opportunity | None:
        """`for_update` locks the row until the unit of work ends: changes to it wait for one another."""
        row = await self.session.get(OpportunityRow, opportunity_id, with_for_update=for_update)
        return Opportunity(**{name: getattr(row, name) for name in _FIELDS}) if row else None

    async def count_of(self, member_id: str) -> int:
        """How many opportunities the member has; their creations wait for one another until the unit of
        work ends, so that two at once cannot both pass the limit."""
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(member_id))))
        count = await self.session.scalar(
            select(func.count())
            .select_from(OpportunityRow)
            .where(OpportunityRow.owner_member_id == member_id)
        )
        return count or 0

    async def save(self, opportunity: Opportunity) -> None:
        await self.session.merge(OpportunityRow(**asdict(opportunity)))

    async def erase_of(self, member_id: str) -> None:
        await self.session.execute(delete(OpportunityRow).where(OpportunityRow.owner_member_id == member_id))
