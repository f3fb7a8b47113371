"""Use cases of the ideas service: one unit of work each; they raise passerelle.errors and know
no HTTP and no messaging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from passerelle.errors import Forbidden, NotFound
from passerelle.identity import Identity
from passerelle.unit_of_work import UnitOfWork

from . import domain
from .commands import ChangeIdea, CreateIdea
from .config import IdeasSettings
from .domain import Idea
from .repository import IdeasRepository

IdeasUnitOfWork = UnitOfWork[IdeasRepository]


def _now() -> datetime:
    return datetime.now(UTC)


class IdeasHandlers:
    def __init__(self, units: Callable[[], IdeasUnitOfWork], settings: IdeasSettings) -> None:
        self.units = units
        self.settings = settings

    async def create(self, identity: Identity, command: CreateIdea) -> Idea:
        async with self.units() as uow:
            owned = await uow.repository.count_of(identity.sub)
            idea = domain.create(identity.sub, command, owned, self.settings.max_per_member, _now())
            await uow.repository.save(idea)
            await uow.commit()
        return idea

    async def read(self, idea_id: str) -> Idea:
        """Every signed-in member may read a idea."""
        async with self.units() as uow:
            return await _load(uow, idea_id)

    async def change(self, identity: Identity, idea_id: str, command: ChangeIdea) -> Idea:
        async with self.units() as uow:
            before = await _load(uow, idea_id, for_update=True)
            if not before.may_be_changed_by(identity.sub):
                raise Forbidden("only its owner may change a idea")
            after = before.changed(command)
            if after != before:
                await uow.repository.save(after)
                await uow.commit()
        return after

    async def forget_member(self, member_id: str, uow: IdeasUnitOfWork) -> None:
        """An erased member's ideas go with the rest of their personal data (CONTRACT.md 4.1);
        the consumer commits, with the inbox record of the event."""
        await uow.repository.erase_of(member_id)


async def _load(uow: IdeasUnitOfWork, idea_id: str, *, for_update: bool = False) -> Idea:
    idea = await uow.repository.get(idea_id, for_update=for_update)
    if idea is None:
        raise NotFound("idea", idea_id)
    return idea
