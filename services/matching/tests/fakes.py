"""An in-memory matching repository, and a unit of work around it that forgets what it did not
commit, as a transaction would: for tests of the use cases that need no PostgreSQL."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Collection
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType

from matching.domain import LIVE, Fit, Status
from matching.facts import MemberFacts, OfferFacts, ProjectFacts, member_of, offer_of, project_of
from matching.orm import MatchRow
from passerelle.contracts import ERASED_OWNER, MemberProfile, ProjectSnapshot, SkillOffered
from passerelle.unit_of_work import InMemoryUnitOfWork


class FakeRepository:
    def __init__(self) -> None:
        self.member_facts: dict[str, MemberFacts] = {}
        self.erased: set[str] = set()
        self.offer_facts: dict[str, OfferFacts] = {}
        self.withdrawn: set[str] = set()
        self.project_facts: dict[str, ProjectFacts] = {}
        self.closed: set[str] = set()
        self.places: dict[str, tuple[str | None, str]] = {}
        self.territory_managers: set[tuple[str, str, str]] = set()
        self.filled: set[str] = set()
        self.rows: dict[str, MatchRow] = {}

    # Read models

    async def save_offer(self, offer: SkillOffered, as_of: datetime) -> None:
        self.offer_facts[offer.offer_id] = offer_of(offer, as_of)

    async def withdraw_offer(self, offer_id: str, member_id: str) -> None:
        self.withdrawn.add(offer_id)
        self.offer_facts.pop(offer_id, None)

    async def save_member(self, member: MemberProfile, as_of: datetime) -> None:
        self.member_facts[member.member_id] = member_of(member, as_of)

    async def erase_member(self, member_id: str) -> None:
        self.erased.add(member_id)
        self.member_facts.pop(member_id, None)
        self.offer_facts = {key: o for key, o in self.offer_facts.items() if o.member_id != member_id}
        for row in self.rows.values():
            if row.member_id == member_id:
                row.reasons = []
        self.territory_managers = {held for held in self.territory_managers if held[1] != member_id}
        for project_id, project in self.project_facts.items():
            if project.owner_member_id == member_id:
                self.project_facts[project_id] = replace(project, owner_member_id=ERASED_OWNER)
        for other_id, other in self.member_facts.items():
            if member_id in other.managers:
                managers = tuple(manager for manager in other.managers if manager != member_id)
                self.member_facts[other_id] = replace(other, managers=managers)

    async def save_project(self, project: ProjectSnapshot, as_of: datetime) -> None:
        self.project_facts[project.project_id] = project_of(project, as_of)

    async def close_project(self, project_id: str) -> None:
        self.closed.add(project_id)

    async def save_territory(self, territory_id: str, parent_id: str | None, country: str) -> None:
        self.places[territory_id] = (parent_id, country)

    async def name_territory_manager(self, territory_id: str, sub: str, role: str) -> None:
        self.territory_managers.add((territory_id, sub, role))

    async def remove_territory_manager(self, territory_id: str, sub: str, role: str) -> None:
        self.territory_managers.discard((territory_id, sub, role))

    async def mark_filled(self, need_id: str) -> None:
        self.filled.add(need_id)

    # What the index is built from

    async def territories(self) -> AsyncIterator[tuple[str, str | None, str]]:
        for territory_id, (parent_id, country) in self.places.items():
            yield territory_id, parent_id, country

    async def members(self) -> AsyncIterator[tuple[str, MemberFacts | None]]:
        for member_id in self.erased:
            yield member_id, None
        for member_id, member in self.member_facts.items():
            yield member_id, member

    async def offers(self) -> AsyncIterator[tuple[str, OfferFacts | None]]:
        for offer_id in self.withdrawn:
            yield offer_id, None
        for offer_id, offer in self.offer_facts.items():
            yield offer_id, offer

    async def projects(self) -> AsyncIterator[tuple[str, ProjectFacts | None]]:
        for project_id, project in self.project_facts.items():
            yield project_id, None if project_id in self.closed else project

    async def tops(self) -> AsyncIterator[tuple[str, str, Fit]]:
        for row in self.rows.values():
            if row.in_top:
                yield row.need_id, row.offer_id, Fit(row.score, tuple(row.reasons))

    async def filled_needs(self) -> list[str]:
        return sorted(self.filled)

    async def declined_pairs(self) -> list[tuple[str, str]]:
        return [(r.need_id, r.offer_id) for r in self.rows.values() if r.status == Status.DECLINED]

    # Matches

    async def match(self, match_id: str, *, for_update: bool = False) -> MatchRow | None:
        return self.rows.get(match_id)

    async def pair(self, need_id: str, offer_id: str) -> MatchRow | None:
        return next((r for r in self.rows.values() if (r.need_id, r.offer_id) == (need_id, offer_id)), None)

    async def add_match(
        self, project_id: str, need_id: str, offer_id: str, member_id: str, fit: Fit
    ) -> MatchRow:
        now = datetime.now(UTC)
        row = MatchRow(
            match_id=str(uuid.uuid4()),
            project_id=project_id,
            need_id=need_id,
            offer_id=offer_id,
            member_id=member_id,
            score=fit.score,
            reasons=list(fit.reasons),
            status=Status.PROPOSED,
            reason=None,
            in_top=True,
            created_at=now,
            updated_at=now,
        )
        self.rows[row.match_id] = row
        return row

    async def live(self, statuses: Collection[str] = LIVE, **where: str) -> list[MatchRow]:
        return sorted(
            (
                row
                for row in self.rows.values()
                if row.status in statuses
                and all(getattr(row, name) == value for name, value in where.items())
            ),
            key=lambda row: row.match_id,
        )

    async def confirmed_count(self, need_id: str) -> int:
        return sum(1 for r in self.rows.values() if r.need_id == need_id and r.status == Status.CONFIRMED)

    async def matches(self, *, member_id: str | None = None, project_id: str | None = None) -> list[MatchRow]:
        return sorted(
            (
                row
                for row in self.rows.values()
                if (not member_id or row.member_id == member_id)
                and (not project_id or row.project_id == project_id)
            ),
            key=lambda row: (-row.score, row.created_at, row.match_id),
        )

    # Who may act

    async def project(self, project_id: str) -> ProjectFacts | None:
        return self.project_facts.get(project_id)

    async def was_erased(self, member_id: str) -> bool:
        return member_id in self.erased

    async def managers_of(self, member_id: str) -> list[str]:
        member = self.member_facts.get(member_id)
        return list(member.managers) if member else []

    async def manages_territory(self, sub: str, territory_ids: Collection[str]) -> bool:
        return any(held[1] == sub and held[0] in territory_ids for held in self.territory_managers)


class FakeUnitOfWork(InMemoryUnitOfWork[FakeRepository]):
    """Rolls the fake back to what it held on entry unless committed; `fail_commits` makes that many
    commits fail, as one whose event is too large to publish does (EventTooLarge, a RuleBroken)."""

    def __init__(self, repository: FakeRepository, failures: list[Exception]) -> None:
        super().__init__(repository)
        self._failures = failures
        self._saved: dict[str, object] = {}
        self._committed = False

    async def __aenter__(self) -> FakeUnitOfWork:
        await super().__aenter__()
        self._saved, self._committed = copy.deepcopy(vars(self.repository)), False
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._committed:
            vars(self.repository).update(self._saved)
        await super().__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        if self._failures:
            raise self._failures.pop(0)
        await super().commit()
        self._committed = True
        self._saved = copy.deepcopy(vars(self.repository))
