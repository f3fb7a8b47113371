"""Use cases of the matching service: follow the read models, keep the index, propose and withdraw
matches, and run their lifecycle.

The index lives in this process. Every change to it happens under one lock and commits before the
lock is released; if a commit fails the index is rebuilt from the database before the next change,
so it never holds what the database does not. Run one replica of this service.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import structlog
from passerelle.contracts import (
    CloudEvent,
    MatchAccepted,
    MatchConfirmed,
    MatchDeclined,
    MatchProposed,
    MatchWithdrawn,
    MemberProfile,
    ProjectSnapshot,
    SkillOffered,
)
from passerelle.errors import Forbidden, IllegalTransition, NotFound, RuleBroken
from passerelle.identity import Identity
from passerelle.messaging.unit_of_work import SessionUnitOfWork, Units
from passerelle.taxonomy import Taxonomy

from .config import MatchingSettings
from .domain import (
    ACCEPTED,
    CONFIRMED,
    LIVE,
    PROPOSED,
    WITHDRAWN,
    Fit,
    transition,
)
from .index import Delta, Effect, MatchIndex, Ranked
from .orm import MatchRow, ProjectRow, TerritoryRow
from .repository import MatchingRepository, member_facts, offer_facts, project_facts, reasons_json

log = structlog.get_logger(__name__)

# What the index is built from: plain rows, JSON as text (parsed once per distinct value).
MEMBERS_QUERY = (
    "SELECT member_id, erased, languages::text, attachments::text, sectors::text, time_zone, "
    "managers::text, as_of FROM members"
)
OFFERS_QUERY = (
    "SELECT offer_id, member_id, skill, level, modes::text, languages::text, territory_ids::text, "
    "sectors::text, available_from, available_until, withdrawn, as_of FROM offers"
)
TOPS_QUERY = "SELECT need_id, offer_id, score, reasons::text FROM matches WHERE in_top"

# What ends a match once the member accepted it, and once the project confirmed it; anything else
# (a better offer came, the offer changed) ends only a proposal.
ENDS_ACCEPTED = frozenset(
    {"offer_withdrawn", "member_erased", "project_closed", "need_removed", "need_filled"}
)
ENDS_CONFIRMED = frozenset({"offer_withdrawn", "member_erased", "need_removed"})
ERASED_IDENTITY = "this identity was erased: it acts on nothing and sees nothing any more"


class MatchingHandlers:
    def __init__(self, units: Units, settings: MatchingSettings, taxonomy: Taxonomy) -> None:
        self.units = units
        self.settings = settings
        self.taxonomy = taxonomy
        self.lock = asyncio.Lock()
        self.index: MatchIndex | None = None

    # The index

    async def warm_up(self) -> None:
        async with self.lock:
            await self._ready_index()

    async def _ready_index(self) -> MatchIndex:
        if self.index is None:
            started = time.perf_counter()
            # A million long-lived objects: keep the cyclic collector from walking them again and
            # again, while they are made (a tenth of the build) and afterwards (pauses of a tenth of
            # a second at the 99th percentile otherwise).
            gc.disable()
            try:
                self.index = await self.build_index()
            finally:
                gc.enable()
            gc.collect()
            gc.freeze()
            log.info(
                "matching.index_built",
                seconds=round(time.perf_counter() - started, 2),
                offers=len(self.index.offers),
            )
        return self.index

    async def build_index(self) -> MatchIndex:
        index = MatchIndex(self.taxonomy, self.settings.top_k, self.settings.min_score)
        async with self.units() as uow:
            repository = MatchingRepository(uow.session)
            await self._load_read_models(index, repository)
            tops: dict[str, list[Ranked]] = {}
            async for match in repository.records(TOPS_QUERY):
                fit = Fit(match["score"], reasons_json(match["reasons"]))
                offer = index.offers.get(match["offer_id"])
                offer_id = offer.offer_id if offer else match["offer_id"]  # one string per offer
                tops.setdefault(match["need_id"], []).append(Ranked(offer_id, fit))
            for need_id, ranked in tops.items():
                if need_id in index.needs:
                    index.restore_top(need_id, ranked)
        return index

    @staticmethod
    async def _load_read_models(index: MatchIndex, repository: MatchingRepository) -> None:
        async for territory in repository.stream(TerritoryRow):
            index.territories[territory.territory_id] = (territory.parent_id, territory.country)
        async for member in repository.records(MEMBERS_QUERY):
            if member["erased"]:
                index.erased.add(member["member_id"])
            else:
                index.members[member["member_id"]] = member_facts(member)
        async for offer in repository.records(OFFERS_QUERY):
            if offer["withdrawn"]:
                index.withdrawn_offers.add(offer["offer_id"])
            else:
                index.index_offer(offer_facts(offer), in_order=False)
        index.order_buckets()
        index.filled.update(await repository.filled_needs())
        index.declined.update(await repository.declined_pairs())
        async for project in repository.stream(ProjectRow):
            if project.closed:
                index.closed.add(project.project_id)
            else:
                index.load_project(project_facts(project))

    async def _change(
        self, uow: SessionUnitOfWork, change: Callable[[MatchIndex, MatchingRepository], Awaitable[Delta]]
    ) -> None:
        """Apply one change to the database and the index, and commit, under the lock."""
        async with self.lock:
            index = await self._ready_index()
            try:
                repository = MatchingRepository(uow.session)
                effect = (await change(index, repository)).net()
                await self._record(uow, repository, index, effect)
                await uow.commit()
            except (Forbidden, NotFound, RuleBroken, IllegalTransition):
                raise  # refused before the index changed (403, 404, 409): nothing to undo
            except BaseException:
                self.index = None  # rebuilt from what the database holds before the next change
                raise

    # Read models, from events

    async def remember_member(self, event: CloudEvent[MemberProfile], uow: SessionUnitOfWork) -> None:
        data = event.data

        async def change(index: MatchIndex, repository: MatchingRepository) -> Delta:
            values = {
                "member_id": data.member_id,
                "languages": list(data.languages),
                "attachments": [a.model_dump() for a in data.attachments],
                "sectors": list(data.sectors),
                "time_zone": data.time_zone,
                "managers": list(data.managers),
                "as_of": event.time,
            }
            delta = index.member_upserted(member_facts(values))
            if (
                index.members.get(data.member_id)
                and index.members[data.member_id].as_of == event.time.timestamp()
            ):
                await repository.save_member(values)
            return delta

        await self._change(uow, change)

    async def erase_member(self, member_id: str, uow: SessionUnitOfWork) -> None:
        async def change(index: MatchIndex, repository: MatchingRepository) -> Delta:
            await repository.erase_member(member_id)
            delta = index.member_erased(member_id)
            await self._sweep(uow, repository, "member_erased", LIVE, member_id=member_id)
            return delta

        await self._change(uow, change)

    async def offer_skill(self, event: CloudEvent[SkillOffered], uow: SessionUnitOfWork) -> None:
        data = event.data

        async def change(index: MatchIndex, repository: MatchingRepository) -> Delta:
            values = {
                "offer_id": data.offer_id,
                "member_id": data.member_id,
                "skill": data.skill,
                "level": data.level,
                "modes": list(data.modes),
                "languages": list(data.languages),
                "territory_ids": list(data.territory_ids),
                "sectors": list(data.sectors),
                "available_from": data.available_from,
                "available_until": data.available_until,
                "withdrawn": False,
                "as_of": event.time,
            }
            delta = index.offer_upserted(offer_facts(values))
            held = index.offers.get(data.offer_id)
            if held is not None and held.as_of == event.time.timestamp():
                await repository.save_offer(values)
            return delta

        await self._change(uow, change)

    async def withdraw_offer(self, offer_id: str, member_id: str, uow: SessionUnitOfWork) -> None:
        async def change(index: MatchIndex, repository: MatchingRepository) -> Delta:
            await repository.withdraw_offer(offer_id, member_id)
            delta = index.offer_withdrawn(offer_id)
            await self._sweep(uow, repository, "offer_withdrawn", LIVE, offer_id=offer_id)
            return delta

        await self._change(uow, change)

    async def remember_territory(
        self, territory_id: str, parent_id: str | None, country: str, uow: SessionUnitOfWork
    ) -> None:
        async def change(index: MatchIndex, repository: MatchingRepository) -> Delta:
            await repository.save_territory(territory_id, parent_id, country)
            return index.territory_registered(territory_id, parent_id, country)

        await self._change(uow, change)

    async def name_territory_manager(
        self, territory_id: str, sub: str, role: str, uow: SessionUnitOfWork
    ) -> None:
        await MatchingRepository(uow.session).name_territory_manager(territory_id, sub, role)

    async def remove_territory_manager(
        self, territory_id: str, sub: str, role: str, uow: SessionUnitOfWork
    ) -> None:
        await MatchingRepository(uow.session).remove_territory_manager(territory_id, sub, role)

    async def remember_project(self, event: CloudEvent[ProjectSnapshot], uow: SessionUnitOfWork) -> None:
        data = event.data

        async def change(index: MatchIndex, repository: MatchingRepository) -> Delta:
            values = {
                "project_id": data.project_id,
                "territory_id": data.territory_id,
                "owner_member_id": data.owner_member_id,
                "title": data.title,
                "sector": data.sector,
                "languages": list(data.languages),
                "needs": [need.model_dump(mode="json") for need in data.needs],
                "closed": False,
                "as_of": event.time,
            }
            before = {n for n, need in index.needs.items() if need.project_id == data.project_id}
            delta = index.project_upserted(project_facts(ProjectRow(**values)))
            held = index.projects.get(data.project_id)
            if held is not None and held.as_of == event.time.timestamp():
                await repository.save_project(values)
                removed = before - {need.need_id for need in data.needs}
                for need_id in sorted(removed):
                    await self._sweep(uow, repository, "need_removed", LIVE, need_id=need_id)
            return delta

        await self._change(uow, change)

    async def close_project(self, project_id: str, uow: SessionUnitOfWork) -> None:
        async def change(index: MatchIndex, repository: MatchingRepository) -> Delta:
            await repository.close_project(project_id)
            delta = index.project_closed(project_id)
            await self._sweep(uow, repository, "project_closed", (PROPOSED, ACCEPTED), project_id=project_id)
            return delta

        await self._change(uow, change)

    # The lifecycle, from people

    @asynccontextmanager
    async def _acting(self, identity: Identity) -> AsyncIterator[SessionUnitOfWork]:
        """The unit of work of one request: every use case a person calls opens it here, so that an
        erased identity, whose token may outlive it, is refused once and by all of them."""
        async with self.units() as uow:
            if await MatchingRepository(uow.session).was_erased(identity.sub):
                raise Forbidden(ERASED_IDENTITY)
            yield uow

    async def act(self, identity: Identity, match_id: str, action: str) -> MatchRow:
        """accept or decline (the member), confirm (the project's owner or a territory manager)."""
        async with self._acting(identity) as uow:
            holder: list[MatchRow] = []

            async def change(index: MatchIndex, repository: MatchingRepository) -> Delta:
                match = await repository.match(match_id, for_update=True)
                if match is None:
                    raise NotFound("match", match_id)
                await self._authorize(repository, identity, match, action)
                match.status = transition(match.status, action)
                match.updated_at = datetime.now(UTC)
                holder.append(match)
                event = {"accept": MatchAccepted, "decline": MatchDeclined, "confirm": MatchConfirmed}[action]
                uow.record(
                    event(
                        match_id=match.match_id,
                        project_id=match.project_id,
                        need_id=match.need_id,
                        member_id=match.member_id,
                        reason=None,
                    )
                )
                if action == "decline":
                    match.reason, match.in_top = "declined", False
                    return index.declined_by_member(match.need_id, match.offer_id)
                if action == "confirm":
                    return await self._fill_if_complete(uow, index, repository, match)
                return Delta()

            await self._change(uow, change)
            return holder[0]

    async def _fill_if_complete(
        self, uow: SessionUnitOfWork, index: MatchIndex, repository: MatchingRepository, match: MatchRow
    ) -> Delta:
        await uow.session.flush()
        project = await repository.project(match.project_id)
        wanted = next(
            (
                need["count"]
                for need in (project.needs if project else [])
                if need["need_id"] == match.need_id
            ),
            1,
        )
        if await repository.confirmed_count(match.need_id) < wanted:
            return Delta()
        await repository.mark_filled(match.need_id)
        delta = index.need_filled(match.need_id)
        await self._sweep(uow, repository, "need_filled", (PROPOSED, ACCEPTED), need_id=match.need_id)
        return delta

    async def _authorize(
        self, repository: MatchingRepository, identity: Identity, match: MatchRow, action: str
    ) -> None:
        if identity.is_operator:
            return
        if action in ("accept", "decline"):
            if identity.sub == match.member_id or identity.sub in await repository.managers_of(
                match.member_id
            ):
                return
            raise Forbidden("only the member (or those who manage it) accepts or declines a match")
        if not await self._may_act_for_project(repository, identity, match.project_id):
            raise Forbidden(
                "only the project's owner, its managers or a manager of its territory confirm a match"
            )

    async def _may_act_for_project(
        self, repository: MatchingRepository, identity: Identity, project_id: str
    ) -> bool:
        project = await repository.project(project_id)
        if project is None:
            return False
        owner = project.owner_member_id
        # No identity is the erased marker (identity_fault), so an erased owner is nobody's.
        if identity.sub == owner or identity.sub in await repository.managers_of(owner):
            return True
        lineage = self.index.lineage(project.territory_id) if self.index else (project.territory_id,)
        return await repository.manages_territory(identity.sub, lineage)

    async def matches(
        self, identity: Identity, member_id: str | None, project_id: str | None
    ) -> list[MatchRow]:
        if bool(member_id) == bool(project_id):
            raise RuleBroken("give exactly one of member_id or project_id")
        async with self._acting(identity) as uow:
            repository = MatchingRepository(uow.session)
            if not identity.is_operator:
                if member_id:
                    allowed = identity.sub == member_id or identity.sub in await repository.managers_of(
                        member_id
                    )
                else:
                    allowed = await self._may_act_for_project(repository, identity, project_id or "")
                if not allowed:
                    raise Forbidden("you may see only your own matches, or those of projects you act on")
            return await repository.matches(member_id=member_id, project_id=project_id)

    # From the index's effect to rows and events

    async def _record(
        self, uow: SessionUnitOfWork, repository: MatchingRepository, index: MatchIndex, effect: Effect
    ) -> None:
        for need_id, offer_id, reason in effect.withdrawn:
            match = await repository.pair(need_id, offer_id)
            if match is None:
                continue
            match.in_top = False
            ends = {PROPOSED: True, ACCEPTED: reason in ENDS_ACCEPTED, CONFIRMED: reason in ENDS_CONFIRMED}
            if ends.get(match.status, False):
                self._withdraw(uow, match, reason)
        for need_id, offer_id, fit in effect.proposed:
            match = await repository.pair(need_id, offer_id)
            need, offer = index.needs[need_id], index.offers[offer_id]
            if match is None:
                match = await repository.add_match(need.project_id, need_id, offer_id, offer.member_id, fit)
                self._propose(uow, match)
                continue
            match.in_top, match.score, match.reasons = True, fit.score, list(fit.reasons)
            if match.status == WITHDRAWN:
                match.status, match.reason = PROPOSED, None
                self._propose(uow, match)
        for need_id, offer_id, fit in effect.rescored:
            match = await repository.pair(need_id, offer_id)
            if match is not None:
                match.score, match.reasons = fit.score, list(fit.reasons)

    async def _sweep(
        self,
        uow: SessionUnitOfWork,
        repository: MatchingRepository,
        reason: str,
        statuses: tuple[str, ...],
        **where: str,
    ) -> None:
        """Withdraw the live matches the index no longer holds (accepted ones outside a top k)."""
        for match in await repository.live(statuses, **where):
            if match.in_top:
                continue  # the index's effect withdraws it
            self._withdraw(uow, match, reason)

    @staticmethod
    def _propose(uow: SessionUnitOfWork, match: MatchRow) -> None:
        uow.record(
            MatchProposed(
                match_id=match.match_id,
                project_id=match.project_id,
                need_id=match.need_id,
                offer_id=match.offer_id,
                member_id=match.member_id,
                score=match.score,
                reasons=list(match.reasons),
            )
        )
        log.info("match.proposed", match_id=match.match_id, need_id=match.need_id, score=match.score)

    @staticmethod
    def _withdraw(uow: SessionUnitOfWork, match: MatchRow, reason: str) -> None:
        match.status, match.reason, match.updated_at = WITHDRAWN, reason, datetime.now(UTC)
        uow.record(
            MatchWithdrawn(
                match_id=match.match_id,
                project_id=match.project_id,
                need_id=match.need_id,
                member_id=match.member_id,
                reason=reason,
            )
        )
