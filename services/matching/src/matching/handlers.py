"""Use cases of the matching service: follow the read models, keep the tops of the open needs, and
run the life of their matches. Each is one block: a unit of work, one change to the engine's index,
the rows and events that follow, one commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from passerelle.contracts import (
    MatchAccepted,
    MatchConfirmed,
    MatchDeclined,
    MemberProfile,
    ProjectSnapshot,
    SkillOffered,
)
from passerelle.errors import Forbidden, NotFound, RuleBroken
from passerelle.identity import Identity
from passerelle.unit_of_work import UnitOfWork

from .commands import PassMatch
from .domain import Action, Ending, transition
from .engine import MatchingEngine
from .facts import member_of, offer_of, project_of
from .orm import MatchPassRow, MatchRow
from .proposals import entered_stage, settle, sweep, withdraw
from .repository import Repository

Units = Callable[[], UnitOfWork[Repository]]

ERASED_IDENTITY = "this identity was erased: it acts on nothing and sees nothing any more"
TOLD = {Action.ACCEPT: MatchAccepted, Action.DECLINE: MatchDeclined, Action.CONFIRM: MatchConfirmed}


class MatchingHandlers:
    def __init__(self, units: Units, engine: MatchingEngine) -> None:
        self.units = units
        self.engine = engine

    # Read models, from events

    async def remember_member(
        self, member: MemberProfile, as_of: datetime, uow: UnitOfWork[Repository]
    ) -> None:
        async with self.engine.change(uow) as change:
            if change.member_upserted(member_of(member, as_of)):
                await uow.repository.save_member(member, as_of)
            await settle(uow, change)
            await uow.commit()

    async def erase_member(self, member_id: str, uow: UnitOfWork[Repository]) -> None:
        async with self.engine.change(uow) as change:
            await uow.repository.erase_member(member_id)
            await uow.repository.erase_passes_of(member_id)
            change.member_erased(member_id)
            await sweep(uow, Ending.MEMBER_ERASED, member_id=member_id)
            await settle(uow, change)
            await uow.commit()

    async def offer_skill(self, offer: SkillOffered, as_of: datetime, uow: UnitOfWork[Repository]) -> None:
        async with self.engine.change(uow) as change:
            if change.offer_upserted(offer_of(offer, as_of)):
                await uow.repository.save_offer(offer, as_of)
            await settle(uow, change)
            await uow.commit()

    async def withdraw_offer(self, offer_id: str, member_id: str, uow: UnitOfWork[Repository]) -> None:
        async with self.engine.change(uow) as change:
            await uow.repository.withdraw_offer(offer_id, member_id)
            change.offer_withdrawn(offer_id)
            await sweep(uow, Ending.OFFER_WITHDRAWN, offer_id=offer_id)
            await settle(uow, change)
            await uow.commit()

    async def remember_territory(
        self, territory_id: str, parent_id: str | None, country: str, uow: UnitOfWork[Repository]
    ) -> None:
        async with self.engine.change(uow) as change:
            await uow.repository.save_territory(territory_id, parent_id, country)
            change.territory_registered(territory_id, parent_id, country)
            await settle(uow, change)
            await uow.commit()

    async def name_territory_manager(
        self, territory_id: str, sub: str, role: str, uow: UnitOfWork[Repository]
    ) -> None:
        await uow.repository.name_territory_manager(territory_id, sub, role)
        await uow.commit()

    async def remove_territory_manager(
        self, territory_id: str, sub: str, role: str, uow: UnitOfWork[Repository]
    ) -> None:
        await uow.repository.remove_territory_manager(territory_id, sub, role)
        await uow.commit()

    async def remember_project(
        self, project: ProjectSnapshot, as_of: datetime, uow: UnitOfWork[Repository]
    ) -> None:
        async with self.engine.change(uow) as change:
            removed = change.project_upserted(project_of(project, as_of))
            if removed is not None:
                await uow.repository.save_project(project, as_of)
                for need_id in removed:
                    await sweep(uow, Ending.NEED_REMOVED, need_id=need_id)
            await settle(uow, change)
            await uow.commit()

    async def close_project(self, project_id: str, uow: UnitOfWork[Repository]) -> None:
        async with self.engine.change(uow) as change:
            await uow.repository.close_project(project_id)
            change.project_closed(project_id)
            await sweep(uow, Ending.PROJECT_CLOSED, project_id=project_id)
            await settle(uow, change)
            await uow.commit()

    # The lifecycle, from people

    async def act(self, identity: Identity, match_id: str, action: Action) -> MatchRow:
        """accept or decline (the member), confirm (the project's owner or a territory manager)."""
        async with self._acting(identity) as uow, self.engine.change(uow) as change:
            repository = uow.repository
            match = await repository.match(match_id, for_update=True)
            if match is None:
                raise NotFound("match", match_id)
            await self._authorize(repository, identity, match, action)
            match.status, match.updated_at = transition(match.status, action), datetime.now(UTC)
            if action is Action.ACCEPT:
                entered_stage(match, match.updated_at)
            uow.record(
                TOLD[action](
                    match_id=match.match_id,
                    project_id=match.project_id,
                    need_id=match.need_id,
                    member_id=match.member_id,
                    reason=None,
                )
            )
            if action is Action.DECLINE:
                match.reason, match.in_top = Ending.DECLINED, False
                change.declined_by_member(match.need_id, match.offer_id)
            elif action is Action.CONFIRM and await self._filled(repository, match):
                await repository.mark_filled(match.need_id)
                change.need_filled(match.need_id)
                await sweep(uow, Ending.NEED_FILLED, need_id=match.need_id)
            await settle(uow, change)
            await uow.commit()
        return match

    async def pass_match(self, identity: Identity, match_id: str, command: PassMatch) -> MatchRow:
        """The project side passes on an accepted match: withdrawn `passed`, the pair never proposed
        again and the next offer takes its place; the reason stays here, for the project's record."""
        async with self._acting(identity) as uow, self.engine.change(uow) as change:
            repository = uow.repository
            match = await self._project_side(repository, identity, match_id, for_update=True)
            transition(match.status, Action.PASS)
            withdraw(uow, match, Ending.PASSED)
            match.in_top = False
            await repository.save_pass(
                match_id, command.reason_code, command.note, identity.sub, match.updated_at
            )
            change.declined_by_member(match.need_id, match.offer_id)
            await settle(uow, change)
            await uow.commit()
        return match

    async def pass_record(self, identity: Identity, match_id: str) -> MatchPassRow:
        """Why the project side passed on a match: theirs (and operators') to read, not the member's."""
        async with self._acting(identity) as uow:
            await self._project_side(uow.repository, identity, match_id)
            record = await uow.repository.pass_of(match_id)
            if record is None:
                raise NotFound("pass of match", match_id)
            return record

    async def _project_side(
        self, repository: Repository, identity: Identity, match_id: str, *, for_update: bool = False
    ) -> MatchRow:
        match = await repository.match(match_id, for_update=for_update)
        if match is None:
            raise NotFound("match", match_id)
        if not (
            identity.is_operator or await self._may_act_for_project(repository, identity, match.project_id)
        ):
            raise Forbidden(
                "only the project's owner, its managers or a manager of its territory pass on a match"
            )
        return match

    async def matches(
        self, identity: Identity, member_id: str | None, project_id: str | None
    ) -> list[MatchRow]:
        if bool(member_id) == bool(project_id):
            raise RuleBroken("give exactly one of member_id or project_id")
        async with self._acting(identity) as uow:
            repository = uow.repository
            if not identity.is_operator:
                if member_id:
                    allowed = await self._may_act_for_member(repository, identity, member_id)
                else:
                    allowed = await self._may_act_for_project(repository, identity, project_id or "")
                if not allowed:
                    raise Forbidden("you may see only your own matches, or those of projects you act on")
            return await repository.matches(member_id=member_id, project_id=project_id)

    # Who may act

    @asynccontextmanager
    async def _acting(self, identity: Identity) -> AsyncIterator[UnitOfWork[Repository]]:
        """The unit of work of one request: every use case a person calls opens it here, so that an
        erased identity, whose token may outlive it, is refused once and by all of them."""
        async with self.units() as uow:
            if await uow.repository.was_erased(identity.sub):
                raise Forbidden(ERASED_IDENTITY)
            yield uow

    async def _authorize(
        self, repository: Repository, identity: Identity, match: MatchRow, action: Action
    ) -> None:
        if identity.is_operator:
            return
        if action in (Action.ACCEPT, Action.DECLINE):
            if await self._may_act_for_member(repository, identity, match.member_id):
                return
            raise Forbidden("only the member (or those who manage it) accepts or declines a match")
        if not await self._may_act_for_project(repository, identity, match.project_id):
            raise Forbidden(
                "only the project's owner, its managers or a manager of its territory confirm a match"
            )

    @staticmethod
    async def _may_act_for_member(repository: Repository, identity: Identity, member_id: str) -> bool:
        return identity.sub == member_id or identity.sub in await repository.managers_of(member_id)

    async def _may_act_for_project(self, repository: Repository, identity: Identity, project_id: str) -> bool:
        project = await repository.project(project_id)
        if project is None:
            return False
        # No identity is the erased marker (identity_fault), so an erased owner is nobody's.
        if await self._may_act_for_member(repository, identity, project.owner_member_id):
            return True
        return await repository.manages_territory(identity.sub, self.engine.lineage(project.territory_id))

    @staticmethod
    async def _filled(repository: Repository, match: MatchRow) -> bool:
        """Whether the need of a match just confirmed has as many confirmed matches as it wants."""
        project = await repository.project(match.project_id)
        wanted = next(
            (need.count for need in (project.needs if project else ()) if need.need_id == match.need_id), 1
        )
        return await repository.confirmed_count(match.need_id) >= wanted
