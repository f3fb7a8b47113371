"""Use cases of the opportunities service: one unit of work each; they raise passerelle.errors and know
no HTTP and no messaging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from passerelle.errors import Forbidden, NotFound
from passerelle.identity import Identity
from passerelle.unit_of_work import UnitOfWork

from . import domain
from .commands import ChangeOpportunity, CreateOpportunity
from .config import OpportunitiesSettings
from .domain import Opportunity
from .repository import OpportunitiesRepository

OpportunitiesUnitOfWork = UnitOfWork[OpportunitiesRepository]


def _now() -> datetime:
    return datetime.now(UTC)


class OpportunitiesHandlers:
    def __init__(self, units: Callable[[], OpportunitiesUnitOfWork], settings: OpportunitiesSettings) -> None:
        self.units = units
        self.settings = settings

    async def create(self, identity: Identity, command: CreateOpportunity) -> Opportunity:
        async with self.units() as uow:
            owned = await uow.repository.count_of(identity.sub)
            opportunity = domain.create(identity.sub, command, owned, self.settings.max_per_member, _now())
            await uow.repository.save(opportunity)
            await uow.commit()
        return opportunity

    async def read(self, opportunity_id: str) -> Opportunity:
        """Every signed-in member may read a opportunity."""
        async with self.units() as uow:
            return await _load(uow, opportunity_id)

    async def change(
        self, identity: Identity, opportunity_id: str, command: ChangeOpportunity
    ) -> Opportunity:
        async with self.units() as uow:
            before = await _load(uow, opportunity_id, for_update=True)
            if not before.may_be_changed_by(identity.sub):
                raise Forbidden("only its owner may change a opportunity")
            after = before.changed(command)
            if after != before:
                await uow.repository.save(after)
                await uow.commit()
        return after

    async def forget_member(self, member_id: str, uow: OpportunitiesUnitOfWork) -> None:
        """An erased member's opportunities go with the rest of their personal data (CONTRACT.md 4.1);
        the consumer commits, with the inbox record of the event."""
        await uow.repository.erase_of(member_id)


async def _load(
    uow: OpportunitiesUnitOfWork, opportunity_id: str, *, for_update: bool = False
) -> Opportunity:
    opportunity = await uow.repository.get(opportunity_id, for_update=for_update)
    if opportunity is None:
        raise NotFound("opportunity", opportunity_id)
    return opportunity
