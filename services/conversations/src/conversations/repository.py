"""Loading, saving and erasing conversations: the protocol the use cases see, and its SQLAlchemy
implementation, which the service's units of work carry."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import Conversation
from .orm import ConversationRow

_FIELDS = [f.name for f in fields(Conversation)]


class ConversationsRepository(Protocol):
    async def get(self, conversation_id: str, *, for_update: bool = False) -> Conversation | None: ...

    async def count_of(self, member_id: str) -> int: ...

    async def save(self, conversation: Conversation) -> None: ...

    async def erase_of(self, member_id: str) -> None: ...


class SqlConversationsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, conversation_id: str, *, for_update: bool = False) -> Conversation | None:
        """`for_update` locks the row until the unit of work ends: changes to it wait for one another."""
        row = await self.session.get(ConversationRow, conversation_id, with_for_update=for_update)
        return Conversation(**{name: getattr(row, name) for name in _FIELDS}) if row else None

    async def count_of(self, member_id: str) -> int:
        """How many conversations the member has; their creations wait for one another until the unit of
        work ends, so that two at once cannot both pass the limit."""
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(member_id))))
        count = await self.session.scalar(
            select(func.count())
            .select_from(ConversationRow)
            .where(ConversationRow.owner_member_id == member_id)
        )
        return count or 0

    async def save(self, conversation: Conversation) -> None:
        await self.session.merge(ConversationRow(**asdict(conversation)))

    async def erase_of(self, member_id: str) -> None:
        await self.session.execute(
            delete(ConversationRow).where(ConversationRow.owner_member_id == member_id)
        )
