"""The conversations service's use cases, on an in-memory repository: milliseconds, no NATS, no PostgreSQL."""

from __future__ import annotations

import pytest
from conversations.commands import ChangeConversation, CreateConversation
from conversations.config import ConversationsSettings
from conversations.domain import Conversation
from conversations.handlers import ConversationsHandlers
from passerelle.errors import Forbidden, NotFound, RuleBroken
from passerelle.identity import Identity
from passerelle.unit_of_work import InMemoryUnitOfWork

FATIMA = Identity(sub="fatima", roles=frozenset({"member"}))
YOUSSEF = Identity(sub="youssef", roles=frozenset({"member"}))


class InMemoryConversations:
    """The repository's protocol over a dict; what a unit of work did not commit is still visible,
    which the use cases never rely on."""

    def __init__(self) -> None:
        self.saved: dict[str, Conversation] = {}

    async def get(self, conversation_id: str, *, for_update: bool = False) -> Conversation | None:
        return self.saved.get(conversation_id)

    async def count_of(self, member_id: str) -> int:
        return sum(1 for conversation in self.saved.values() if conversation.owner_member_id == member_id)

    async def save(self, conversation: Conversation) -> None:
        self.saved[conversation.conversation_id] = conversation

    async def erase_of(self, member_id: str) -> None:
        self.saved = {key: value for key, value in self.saved.items() if value.owner_member_id != member_id}


@pytest.fixture
def uow() -> InMemoryUnitOfWork[InMemoryConversations]:
    return InMemoryUnitOfWork(InMemoryConversations())


@pytest.fixture
def handlers(uow: InMemoryUnitOfWork[InMemoryConversations]) -> ConversationsHandlers:
    return ConversationsHandlers(lambda: uow, ConversationsSettings(max_per_member=2))


async def test_a_created_conversation_is_committed_and_read_back(
    handlers: ConversationsHandlers, uow: InMemoryUnitOfWork[InMemoryConversations]
) -> None:
    created = await handlers.create(FATIMA, CreateConversation(title="Tafraout"))
    assert uow.commits == 1
    assert await handlers.read(created.conversation_id) == created


async def test_a_member_past_the_configured_limit_creates_nothing(
    handlers: ConversationsHandlers, uow: InMemoryUnitOfWork[InMemoryConversations]
) -> None:
    for title in ("Tafraout", "Kayes"):
        await handlers.create(FATIMA, CreateConversation(title=title))
    with pytest.raises(RuleBroken):
        await handlers.create(FATIMA, CreateConversation(title="Tiznit"))
    assert (uow.commits, len(uow.repository.saved)) == (2, 2)


async def test_only_the_owner_changes_a_conversation(handlers: ConversationsHandlers) -> None:
    created = await handlers.create(FATIMA, CreateConversation(title="Tafraout"))
    with pytest.raises(Forbidden):
        await handlers.change(YOUSSEF, created.conversation_id, ChangeConversation(title="Kayes"))
    changed = await handlers.change(FATIMA, created.conversation_id, ChangeConversation(title="Kayes"))
    assert (await handlers.read(created.conversation_id)).title == changed.title == "Kayes"


async def test_an_erased_members_conversations_are_forgotten(
    handlers: ConversationsHandlers, uow: InMemoryUnitOfWork[InMemoryConversations]
) -> None:
    mine = await handlers.create(FATIMA, CreateConversation(title="Tafraout"))
    theirs = await handlers.create(YOUSSEF, CreateConversation(title="Kayes"))
    async with uow:
        await handlers.forget_member("fatima", uow)
    with pytest.raises(NotFound):
        await handlers.read(mine.conversation_id)
    assert await handlers.read(theirs.conversation_id) == theirs
