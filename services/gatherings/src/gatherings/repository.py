"""Loading, saving and erasing gatherings: the protocol the use cases see, and its SQLAlchemy
implementation, which the service's units of work carry."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import Gathering
from .orm import GatheringRow

_FIELDS = [f.name for f in fields(Gathering)]


class GatheringsRepository(Protocol):
    async def get(self, gathering_id: str, *, for_update: bool = False) -> Gathering | None: ...

    async def count_of(self, member_id: str) -> int: ...

    async def save(self, gathering: Gathering) -> None: ...

    async def erase_of(self, member_id: str) -> None: ...


class SqlGatheringsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, gathering_id: str, *, for_update: bool = False) -> Gathering | None:
        """`for_update` locks the row until the unit of work ends: changes to it wait for one another."""
        row = await self.session.get(GatheringRow, gathering_id, with_for_update=for_update)
        return Gathering(**{name: getattr(row, name) for name in _FIELDS}) if row else None

    async def count_of(self, member_id: str) -> int:
        """How many gatherings the member has; their creations wait for one another until the unit of
        work ends, so that two at once cannot both pass the limit."""
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(member_id))))
        count = await self.session.scalar(
            select(func.count()).select_from(GatheringRow).where(GatheringRow.owner_member_id == member_id)
        )
        return count or 0

    async def save(self, gathering: Gathering) -> None:
        await self.session.merge(GatheringRow(**asdict(gathering)))

    async def erase_of(self, member_id: str) -> None:
        await self.session.execute(delete(GatheringRow).where(GatheringRow.owner_member_id == member_id))
