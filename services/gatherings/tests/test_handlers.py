"""The gatherings service's use cases, on an in-memory repository: milliseconds, no NATS, no PostgreSQL."""

from __future__ import annotations

import pytest
from gatherings.commands import ChangeGathering, CreateGathering
from gatherings.config import GatheringsSettings
from gatherings.domain import Gathering
from gatherings.handlers import GatheringsHandlers
from passerelle.errors import Forbidden, NotFound, RuleBroken
from passerelle.identity import Identity
from passerelle.unit_of_work import InMemoryUnitOfWork

FATIMA = Identity(sub="fatima", roles=frozenset({"member"}))
YOUSSEF = Identity(sub="youssef", roles=frozenset({"member"}))


class InMemoryGatherings:
    """The repository's protocol over a dict; what a unit of work did not commit is still visible,
    which the use cases never rely on."""

    def __init__(self) -> None:
        self.saved: dict[str, Gathering] = {}

    async def get(self, gathering_id: str, *, for_update: bool = False) -> Gathering | None:
        return self.saved.get(gathering_id)

    async def count_of(self, member_id: str) -> int:
        return sum(1 for gathering in self.saved.values() if gathering.owner_member_id == member_id)

    async def save(self, gathering: Gathering) -> None:
        self.saved[gathering.gathering_id] = gathering

    async def erase_of(self, member_id: str) -> None:
        self.saved = {key: value for key, value in self.saved.items() if value.owner_member_id != member_id}


@pytest.fixture
def uow() -> InMemoryUnitOfWork[InMemoryGatherings]:
    return InMemoryUnitOfWork(InMemoryGatherings())


@pytest.fixture
def handlers(uow: InMemoryUnitOfWork[InMemoryGatherings]) -> GatheringsHandlers:
    return GatheringsHandlers(lambda: uow, GatheringsSettings(max_per_member=2))


async def test_a_created_gathering_is_committed_and_read_back(
    handlers: GatheringsHandlers, uow: InMemoryUnitOfWork[InMemoryGatherings]
) -> None:
    created = await handlers.create(FATIMA, CreateGathering(title="Tafraout"))
    assert uow.commits == 1
    assert await handlers.read(created.gathering_id) == created


async def test_a_member_past_the_configured_limit_creates_nothing(
    handlers: GatheringsHandlers, uow: InMemoryUnitOfWork[InMemoryGatherings]
) -> None:
    for title in ("Tafraout", "Kayes"):
        await handlers.create(FATIMA, CreateGathering(title=title))
    with pytest.raises(RuleBroken):
        await handlers.create(FATIMA, CreateGathering(title="Tiznit"))
    assert (uow.commits, len(uow.repository.saved)) == (2, 2)


async def test_only_the_owner_changes_a_gathering(handlers: GatheringsHandlers) -> None:
    created = await handlers.create(FATIMA, CreateGathering(title="Tafraout"))
    with pytest.raises(Forbidden):
        await handlers.change(YOUSSEF, created.gathering_id, ChangeGathering(title="Kayes"))
    changed = await handlers.change(FATIMA, created.gathering_id, ChangeGathering(title="Kayes"))
    assert (await handlers.read(created.gathering_id)).title == changed.title == "Kayes"


async def test_an_erased_members_gatherings_are_forgotten(
    handlers: GatheringsHandlers, uow: InMemoryUnitOfWork[InMemoryGatherings]
) -> None:
    mine = await handlers.create(FATIMA, CreateGathering(title="Tafraout"))
    theirs = await handlers.create(YOUSSEF, CreateGathering(title="Kayes"))
    async with uow:
        await handlers.forget_member("fatima", uow)
    with pytest.raises(NotFound):
        await handlers.read(mine.gathering_id)
    assert await handlers.read(theirs.gathering_id) == theirs
