"""Use cases of the gatherings service: one unit of work each; they raise passerelle.errors and know
no HTTP and no messaging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from passerelle.errors import Forbidden, NotFound
from passerelle.identity import Identity
from passerelle.unit_of_work import UnitOfWork

from . import domain
from .commands import ChangeGathering, CreateGathering
from .config import GatheringsSettings
from .domain import Gathering
from .repository import GatheringsRepository

GatheringsUnitOfWork = UnitOfWork[GatheringsRepository]


def _now() -> datetime:
    return datetime.now(UTC)


class GatheringsHandlers:
    def __init__(self, units: Callable[[], GatheringsUnitOfWork], settings: GatheringsSettings) -> None:
        self.units = units
        self.settings = settings

    async def create(self, identity: Identity, command: CreateGathering) -> Gathering:
        async with self.units() as uow:
            owned = await uow.repository.count_of(identity.sub)
            gathering = domain.create(identity.sub, command, owned, self.settings.max_per_member, _now())
            await uow.repository.save(gathering)
            await uow.commit()
        return gathering

    async def read(self, gathering_id: str) -> Gathering:
        """Every signed-in member may read a gathering."""
        async with self.units() as uow:
            return await _load(uow, gathering_id)

    async def change(self, identity: Identity, gathering_id: str, command: ChangeGathering) -> Gathering:
        async with self.units() as uow:
            before = await _load(uow, gathering_id, for_update=True)
            if not before.may_be_changed_by(identity.sub):
                raise Forbidden("only its owner may change a gathering")
            after = before.changed(command)
            if after != before:
                await uow.repository.save(after)
                await uow.commit()
        return after

    async def forget_member(self, member_id: str, uow: GatheringsUnitOfWork) -> None:
        """An erased member's gatherings go with the rest of their personal data (CONTRACT.md 4.1);
        the consumer commits, with the inbox record of the event."""
        await uow.repository.erase_of(member_id)


async def _load(uow: GatheringsUnitOfWork, gathering_id: str, *, for_update: bool = False) -> Gathering:
    gathering = await uow.repository.get(gathering_id, for_update=for_update)
    if gathering is None:
        raise NotFound("gathering", gathering_id)
    return gathering
