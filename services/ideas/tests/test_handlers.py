"""The ideas service's use cases, on an in-memory repository: milliseconds, no NATS, no PostgreSQL."""

from __future__ import annotations

import pytest
from ideas.commands import ChangeIdea, CreateIdea
from ideas.config import IdeasSettings
from ideas.domain import Idea
from ideas.handlers import IdeasHandlers
from passerelle.errors import Forbidden, NotFound, RuleBroken
from passerelle.identity import Identity
from passerelle.unit_of_work import InMemoryUnitOfWork

FATIMA = Identity(sub="fatima", roles=frozenset({"member"}))
YOUSSEF = Identity(sub="youssef", roles=frozenset({"member"}))


class InMemoryIdeas:
    """The repository's protocol over a dict; what a unit of work did not commit is still visible,
    which the use cases never rely on."""

    def __init__(self) -> None:
        self.saved: dict[str, Idea] = {}

    async def get(self, idea_id: str, *, for_update: bool = False) -> Idea | None:
        return self.saved.get(idea_id)

    async def count_of(self, member_id: str) -> int:
        return sum(1 for idea in self.saved.values() if idea.owner_member_id == member_id)

    async def save(self, idea: Idea) -> None:
        self.saved[idea.idea_id] = idea

    async def erase_of(self, member_id: str) -> None:
        self.saved = {key: value for key, value in self.saved.items() if value.owner_member_id != member_id}


@pytest.fixture
def uow() -> InMemoryUnitOfWork[InMemoryIdeas]:
    return InMemoryUnitOfWork(InMemoryIdeas())


@pytest.fixture
def handlers(uow: InMemoryUnitOfWork[InMemoryIdeas]) -> IdeasHandlers:
    return IdeasHandlers(lambda: uow, IdeasSettings(max_per_member=2))


async def test_a_created_idea_is_committed_and_read_back(
    handlers: IdeasHandlers, uow: InMemoryUnitOfWork[InMemoryIdeas]
) -> None:
    created = await handlers.create(FATIMA, CreateIdea(title="Tafraout"))
    assert uow.commits == 1
    assert await handlers.read(created.idea_id) == created


async def test_a_member_past_the_configured_limit_creates_nothing(
    handlers: IdeasHandlers, uow: InMemoryUnitOfWork[InMemoryIdeas]
) -> None:
    for title in ("Tafraout", "Kayes"):
        await handlers.create(FATIMA, CreateIdea(title=title))
    with pytest.raises(RuleBroken):
        await handlers.create(FATIMA, CreateIdea(title="Tiznit"))
    assert (uow.commits, len(uow.repository.saved)) == (2, 2)


async def test_only_the_owner_changes_a_idea(handlers: IdeasHandlers) -> None:
    created = await handlers.create(FATIMA, CreateIdea(title="Tafraout"))
    with pytest.raises(Forbidden):
        await handlers.change(YOUSSEF, created.idea_id, ChangeIdea(title="Kayes"))
    changed = await handlers.change(FATIMA, created.idea_id, ChangeIdea(title="Kayes"))
    assert (await handlers.read(created.idea_id)).title == changed.title == "Kayes"


async def test_an_erased_members_ideas_are_forgotten(
    handlers: IdeasHandlers, uow: InMemoryUnitOfWork[InMemoryIdeas]
) -> None:
    mine = await handlers.create(FATIMA, CreateIdea(title="Tafraout"))
    theirs = await handlers.create(YOUSSEF, CreateIdea(title="Kayes"))
    async with uow:
        await handlers.forget_member("fatima", uow)
    with pytest.raises(NotFound):
        await handlers.read(mine.idea_id)
    assert await handlers.read(theirs.idea_id) == theirs
