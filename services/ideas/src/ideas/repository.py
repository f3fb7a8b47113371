"""Loading, saving and erasing ideas: the protocol the use cases see, and its SQLAlchemy
implementation, which the service's units of work carry."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import Idea
from .orm import IdeaRow

_FIELDS = [f.name for f in fields(Idea)]


class IdeasRepository(Protocol):
    async def get(self, idea_id: str, *, for_update: bool = False) -> Idea | None: ...

    async def count_of(self, member_id: str) -> int: ...

    async def save(self, idea: Idea) -> None: ...

    async def erase_of(self, member_id: str) -> None: ...


class SqlIdeasRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, idea_id: str, *, for_update: bool = False) -> Idea | None:
        """`for_update` locks the row until the unit of work ends: changes to it wait for one another."""
        row = await self.session.get(IdeaRow, idea_id, with_for_update=for_update)
        return Idea(**{name: getattr(row, name) for name in _FIELDS}) if row else None

    async def count_of(self, member_id: str) -> int:
        """How many ideas the member has; their creations wait for one another until the unit of
        work ends, so that two at once cannot both pass the limit."""
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(member_id))))
        count = await self.session.scalar(
            select(func.count()).select_from(IdeaRow).where(IdeaRow.owner_member_id == member_id)
        )
        return count or 0

    async def save(self, idea: Idea) -> None:
        await self.session.merge(IdeaRow(**asdict(idea)))

    async def erase_of(self, member_id: str) -> None:
        await self.session.execute(delete(IdeaRow).where(IdeaRow.owner_member_id == member_id))
