"""The one owner of the in-memory index's life: it builds it from the database, serialises the
transactions that change it, and undoes what a transaction changed in it when that transaction does
not commit.

The index lives in this process. The first change of a unit of work takes the index (a lock) until
that unit of work ends: a consumer's batch makes several changes in one transaction, and no other
transaction may see them before they commit. Meanwhile the index notes what each change replaces (a
`Journal`); a rollback, for whatever reason, puts it back in memory, so the index never holds what the
database does not and is never rebuilt for it. Run one replica of this service.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import structlog
from passerelle.taxonomy import Taxonomy
from passerelle.unit_of_work import UnitOfWork

from .config import MatchingSettings
from .facts import MemberFacts, OfferFacts, ProjectFacts
from .index import Delta, Effect, Journal, MatchIndex, Ranked
from .repository import Repository

log = structlog.get_logger(__name__)


class Change:
    """One change to the index, in domain terms; what it did to the tops adds up in `effect()`."""

    def __init__(self, index: MatchIndex) -> None:
        self._index = index
        self._delta = Delta()

    def member_upserted(self, member: MemberFacts) -> bool:
        """Whether the index now holds these facts (False: it knew newer ones, or the member was erased)."""
        self._delta += self._index.member_upserted(member)
        held = self._index.members.get(member.member_id)
        return held is not None and held.as_of == member.as_of

    def member_erased(self, member_id: str) -> None:
        self._delta += self._index.member_erased(member_id)

    def offer_upserted(self, offer: OfferFacts) -> bool:
        """Whether the index now holds these facts (False: it knew newer ones, or the offer went)."""
        self._delta += self._index.offer_upserted(offer)
        held = self._index.offers.get(offer.offer_id)
        return held is not None and held.as_of == offer.as_of

    def offer_withdrawn(self, offer_id: str) -> None:
        self._delta += self._index.offer_withdrawn(offer_id)

    def territory_registered(self, territory_id: str, parent_id: str | None, country: str) -> None:
        self._delta += self._index.territory_registered(territory_id, parent_id, country)

    def project_upserted(self, project: ProjectFacts) -> list[str] | None:
        """The open needs the project no longer has, in order; None when the index knew newer facts
        (or the project was closed)."""
        index = self._index
        before = {n for n, need in index.needs.items() if need.project_id == project.project_id}
        self._delta += index.project_upserted(project)
        held = index.projects.get(project.project_id)
        if held is None or held.as_of != project.as_of:
            return None
        return sorted(before - {need.need_id for need in project.needs})

    def project_closed(self, project_id: str) -> None:
        self._delta += self._index.project_closed(project_id)

    def need_filled(self, need_id: str) -> None:
        self._delta += self._index.need_filled(need_id)

    def declined_by_member(self, need_id: str, offer_id: str) -> None:
        self._delta += self._index.declined_by_member(need_id, offer_id)

    def lineage(self, territory_id: str) -> tuple[str, ...]:
        return self._index.lineage(territory_id)

    def project_of(self, need_id: str) -> str:
        return self._index.needs[need_id].project_id

    def member_of(self, offer_id: str) -> str:
        return self._index.offers[offer_id].member_id

    def effect(self) -> Effect:
        """What the change did to the tops overall: pairs proposed, withdrawn and rescored."""
        return self._delta.net()


class MatchingEngine:
    def __init__(
        self,
        units: Callable[[], UnitOfWork[Repository]],
        taxonomy: Taxonomy,
        settings: MatchingSettings,
        after_build: Callable[[], None] = lambda: None,
    ) -> None:
        self.units = units  # for the builds: a unit of work of their own
        self.taxonomy = taxonomy
        self.settings = settings
        self.after_build = after_build  # the process's own tuning once a large heap is built
        self.lock = asyncio.Lock()
        self.index: MatchIndex | None = None
        self._holder: UnitOfWork[Repository] | None = None  # the unit of work whose changes may be undone

    async def warm_up(self) -> None:
        async with self.lock:
            await self._ready()

    @asynccontextmanager
    async def change(self, uow: UnitOfWork[Repository]) -> AsyncIterator[Change]:
        """One change to the index within `uow`, which holds the index until it commits (the changes
        stay) or ends without committing (they are undone)."""
        if self._holder is not uow:
            await self.lock.acquire()
            try:
                index = await self._ready()
            except BaseException:
                self.lock.release()
                raise
            self._holder, index.journal = uow, Journal()
            uow.on_commit(self._kept)
            uow.on_rollback(self._undone)
        assert self.index is not None
        yield Change(self.index)

    def _kept(self) -> None:
        assert self.index is not None
        self.index.journal = None
        self._release()

    def _undone(self) -> None:
        assert self.index is not None and self.index.journal is not None
        self.index.journal.undo()
        self.index.journal = None
        log.info("matching.index_change_undone")
        self._release()

    def _release(self) -> None:
        self._holder = None
        self.lock.release()

    def lineage(self, territory_id: str) -> tuple[str, ...]:
        """The territory and those above it, as far as the index knows (itself alone before the build)."""
        return self.index.lineage(territory_id) if self.index else (territory_id,)

    async def _ready(self) -> MatchIndex:
        if self.index is None:
            started = time.perf_counter()
            # A million long-lived objects: keep the cyclic collector from walking them again and
            # again while they are made (a tenth of the build).
            gc.disable()
            try:
                self.index = await self._build()
            finally:
                gc.enable()
            self.after_build()
            log.info(
                "matching.index_built",
                seconds=round(time.perf_counter() - started, 2),
                offers=len(self.index.offers),
            )
        return self.index

    async def _build(self) -> MatchIndex:
        index = MatchIndex(self.taxonomy, self.settings.top_k, self.settings.min_score)
        async with self.units() as uow:
            await _load_read_models(index, uow.repository)
            tops: dict[str, list[Ranked]] = {}
            async for need_id, offer_id, fit in uow.repository.tops():
                held = index.offers.get(offer_id)
                shared = held.offer_id if held else offer_id  # one string per offer
                tops.setdefault(need_id, []).append(Ranked(shared, fit))
            for need_id, ranked in tops.items():
                if need_id in index.needs:
                    index.restore_top(need_id, ranked)
        return index


async def _load_read_models(index: MatchIndex, repository: Repository) -> None:
    async for territory_id, parent_id, country in repository.territories():
        index.territories[territory_id] = (parent_id, country)
    async for member_id, member in repository.members():
        if member is None:
            index.erased.add(member_id)
        else:
            index.members[member_id] = member
    async for offer_id, offer in repository.offers():
        if offer is None:
            index.withdrawn_offers.add(offer_id)
        else:
            index.index_offer(offer, in_order=False)
    index.order_buckets()
    index.filled.update(await repository.filled_needs())
    index.declined.update(await repository.declined_pairs())
    async for project_id, project in repository.projects():
        if project is None:
            index.closed.add(project_id)
        else:
            index.load_project(project)
