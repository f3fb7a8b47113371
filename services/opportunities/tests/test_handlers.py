"""The opportunities service's use cases, on an in-memory repository: milliseconds, no NATS, no PostgreSQL."""

from __future__ import annotations

import pytest
from opportunities.commands import ChangeOpportunity, CreateOpportunity
from opportunities.config import OpportunitiesSettings
from opportunities.domain import Opportunity
from opportunities.handlers import OpportunitiesHandlers
from passerelle.errors import Forbidden, NotFound, RuleBroken
from passerelle.identity import Identity
from passerelle.unit_of_work import InMemoryUnitOfWork

FATIMA = Identity(sub="fatima", roles=frozenset({"member"}))
YOUSSEF = Identity(sub="youssef", roles=frozenset({"member"}))


class InMemoryOpportunities:
    """The repository's protocol over a dict; what a unit of work did not commit is still visible,
    which the use cases never rely on."""

    def __init__(self) -> None:
        self.saved: dict[str, Opportunity] = {}

    async def get(self, opportunity_id: str, *, for_update: bool = False) -> Opportunity | None:
        return self.saved.get(opportunity_id)

    async def count_of(self, member_id: str) -> int:
        return sum(1 for opportunity in self.saved.values() if opportunity.owner_member_id == member_id)

    async def save(self, opportunity: Opportunity) -> None:
        self.saved[opportunity.opportunity_id] = opportunity

    async def erase_of(self, member_id: str) -> None:
        self.saved = {key: value for key, value in self.saved.items() if value.owner_member_id != member_id}


@pytest.fixture
def uow() -> InMemoryUnitOfWork[InMemoryOpportunities]:
    return InMemoryUnitOfWork(InMemoryOpportunities())


@pytest.fixture
def handlers(uow: InMemoryUnitOfWork[InMemoryOpportunities]) -> OpportunitiesHandlers:
    return OpportunitiesHandlers(lambda: uow, OpportunitiesSettings(max_per_member=2))


async def test_a_created_opportunity_is_committed_and_read_back(
    handlers: OpportunitiesHandlers, uow: InMemoryUnitOfWork[InMemoryOpportunities]
) -> None:
    created = await handlers.create(FATIMA, CreateOpportunity(title="Tafraout"))
    assert uow.commits == 1
    assert await handlers.read(created.opportunity_id) == created


async def test_a_member_past_the_configured_limit_creates_nothing(
    handlers: OpportunitiesHandlers, uow: InMemoryUnitOfWork[InMemoryOpportunities]
) -> None:
    for title in ("Tafraout", "Kayes"):
        await handlers.create(FATIMA, CreateOpportunity(title=title))
    with pytest.raises(RuleBroken):
        await handlers.create(FATIMA, CreateOpportunity(title="Tiznit"))
    assert (uow.commits, len(uow.repository.saved)) == (2, 2)


async def test_only_the_owner_changes_a_opportunity(handlers: OpportunitiesHandlers) -> None:
    created = await handlers.create(FATIMA, CreateOpportunity(title="Tafraout"))
    with pytest.raises(Forbidden):
        await handlers.change(YOUSSEF, created.opportunity_id, ChangeOpportunity(title="Kayes"))
    changed = await handlers.change(FATIMA, created.opportunity_id, ChangeOpportunity(title="Kayes"))
    assert (await handlers.read(created.opportunity_id)).title == changed.title == "Kayes"


async def test_an_erased_members_opportunities_are_forgotten(
    handlers: OpportunitiesHandlers, uow: InMemoryUnitOfWork[InMemoryOpportunities]
) -> None:
    mine = await handlers.create(FATIMA, CreateOpportunity(title="Tafraout"))
    theirs = await handlers.create(YOUSSEF, CreateOpportunity(title="Kayes"))
    async with uow:
        await handlers.forget_member("fatima", uow)
    with pytest.raises(NotFound):
        await handlers.read(mine.opportunity_id)
    assert await handlers.read(theirs.opportunity_id) == theirs
