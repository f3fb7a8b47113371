"""Use cases of the conversations service: one unit of work each; they raise passerelle.errors and know
no HTTP and no messaging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from passerelle.errors import Forbidden, NotFound
from passerelle.identity import Identity
from passerelle.unit_of_work import UnitOfWork

from . import domain
from .commands import ChangeConversation, CreateConversation
from .config import ConversationsSettings
from .domain import Conversation
from .repository import ConversationsRepository

ConversationsUnitOfWork = UnitOfWork[ConversationsRepository]


def _now() -> datetime:
    return datetime.now(UTC)


class ConversationsHandlers:
    def __init__(self, units: Callable[[], ConversationsUnitOfWork], settings: ConversationsSettings) -> None:
        self.units = units
        self.settings = settings

    async def create(self, identity: Identity, command: CreateConversation) -> Conversation:
        async with self.units() as uow:
            owned = await uow.repository.count_of(identity.sub)
            conversation = domain.create(identity.sub, command, owned, self.settings.max_per_member, _now())
            await uow.repository.save(conversation)
            await uow.commit()
        return conversation

    async def read(self, conversation_id: str) -> Conversation:
        """Every signed-in member may read a conversation."""
        async with self.units() as uow:
            return await _load(uow, conversation_id)

    async def change(
        self, identity: Identity, conversation_id: str, command: ChangeConversation
    ) -> Conversation:
        async with self.units() as uow:
            before = await _load(uow, conversation_id, for_update=True)
            if not before.may_be_changed_by(identity.sub):
                raise Forbidden("only its owner may change a conversation")
            after = before.changed(command)
            if after != before:
                await uow.repository.save(after)
                await uow.commit()
        return after

    async def forget_member(self, member_id: str, uow: ConversationsUnitOfWork) -> None:
        """An erased member's conversations go with the rest of their personal data (CONTRACT.md 4.1);
        the consumer commits, with the inbox record of the event."""
        await uow.repository.erase_of(member_id)


async def _load(
    uow: ConversationsUnitOfWork, conversation_id: str, *, for_update: bool = False
) -> Conversation:
    conversation = await uow.repository.get(conversation_id, for_update=for_update)
    if conversation is None:
        raise NotFound("conversation", conversation_id)
    return conversation
