"""The matching service's use cases, in memory: what people and events make of matches, with no
NATS and no PostgreSQL (tests/integration prove delivery and persistence). The fakes are here, not
in a module of their own: with pytest's importlib mode every service's `tests` package is one name."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Collection, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count
from types import TracebackType
from typing import Any

import pytest
from matching.commands import PassMatch
from matching.config import MatchingSettings
from matching.deadlines import Deadlines
from matching.domain import LIVE, Action, Fit, Status, score
from matching.engine import MatchingEngine
from matching.facts import MemberFacts, NeedFacts, OfferFacts, ProjectFacts, member_of, offer_of, project_of
from matching.handlers import MatchingHandlers
from matching.orm import MatchPassRow, MatchRow
from passerelle.contracts import (
    ERASED_OWNER,
    EventData,
    MatchAccepted,
    MatchConfirmed,
    MatchProposed,
    MatchReminded,
    MatchWithdrawn,
    MemberProfile,
    MemberRegistered,
    ProjectPublished,
    ProjectSnapshot,
    SkillOffered,
)
from passerelle.errors import Forbidden, IllegalTransition, RuleBroken
from passerelle.identity import Identity
from passerelle.taxonomy import load_taxonomy
from passerelle.unit_of_work import InMemoryUnitOfWork

TAXONOMY = load_taxonomy()
SKILL = "energy.solar_pv_install"


class Matching:
    """The service's handlers on an in-memory repository, with every event its commits published."""

    def __init__(self, top_k: int = 10) -> None:
        self.repository = FakeRepository()
        self.failures: list[Exception] = []
        self.opened: list[FakeUnitOfWork] = []
        self.clock = (datetime(2026, 6, 1, tzinfo=UTC) + timedelta(seconds=n) for n in count())
        engine = MatchingEngine(self.unit, TAXONOMY, MatchingSettings(top_k=top_k))
        self.handlers = MatchingHandlers(self.unit, engine)

    def unit(self) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.repository, self.failures)
        self.opened.append(uow)
        return uow

    def published(self, kind: type[EventData]) -> list[Any]:
        return [event for uow in self.opened for event in uow.published if isinstance(event, kind)]

    async def consume(self, use_case: str, *args: Any) -> None:
        """What the service's consumer does with an event: one unit of work, committed."""
        async with self.unit() as uow:
            await getattr(self.handlers, use_case)(*args, uow)
            await uow.commit()

    async def territory(self) -> None:
        await self.consume("remember_territory", "tafraout", None, "MA")

    async def member(self, member_id: str, bond: str) -> None:
        profile = MemberRegistered(
            member_id=member_id,
            kind="person",
            display_name=member_id.title(),
            email=f"{member_id}@example.org",
            locale="fr",
            country_of_residence="BE",
            time_zone="Europe/Brussels",
            languages=["fr"],
            attachments=[{"territory_id": "tafraout", "bond": bond}],
        )
        await self.consume("remember_member", profile, next(self.clock))

    async def offer(self, offer_id: str, member_id: str) -> None:
        offered = SkillOffered(
            member_id=member_id, offer_id=offer_id, skill=SKILL, level=4, modes=["short_mission"]
        )
        await self.consume("offer_skill", offered, next(self.clock))

    async def project(self, wanted: int = 1) -> None:
        published = ProjectPublished(
            project_id="pumps",
            territory_id="tafraout",
            owner_member_id="owner",
            title="Solar pumps",
            summary="Pumps for the cooperative's fields",
            sector="energy",
            languages=["fr"],
            needs=[
                {
                    "need_id": "installer",
                    "skill": SKILL,
                    "min_level": 2,
                    "mode": "short_mission",
                    "count": wanted,
                }
            ],
        )
        await self.consume("remember_project", published, next(self.clock))

    def proposed(self, member_id: str) -> str:
        return next(e.match_id for e in self.published(MatchProposed) if e.member_id == member_id)


def person(sub: str) -> Identity:
    return Identity(sub, frozenset({"member"}))


async def a_project_with_two_offers(top_k: int = 10) -> Matching:
    matching = Matching(top_k)
    await matching.territory()
    await matching.project()
    await matching.member("amina", "origin")
    await matching.member("youssef", "heart")
    await matching.offer("amina-pv", "amina")
    await matching.offer("youssef-pv", "youssef")
    return matching


async def test_a_new_offer_is_proposed_to_the_open_need_it_fits() -> None:
    matching = await a_project_with_two_offers()
    proposed = {(e.need_id, e.offer_id, e.member_id) for e in matching.published(MatchProposed)}
    assert proposed == {("installer", "amina-pv", "amina"), ("installer", "youssef-pv", "youssef")}
    amina = next(e for e in matching.published(MatchProposed) if e.member_id == "amina")
    assert "bond_origin" in amina.reasons and "language:fr" in amina.reasons


async def test_the_member_accepts_and_the_owner_confirms_a_proposed_match() -> None:
    matching = await a_project_with_two_offers()
    match_id = matching.proposed("amina")
    assert (await matching.handlers.act(person("amina"), match_id, Action.ACCEPT)).status == "accepted"
    assert (await matching.handlers.act(person("owner"), match_id, Action.CONFIRM)).status == "confirmed"
    assert [e.match_id for e in matching.published(MatchAccepted)] == [match_id]
    assert [e.match_id for e in matching.published(MatchConfirmed)] == [match_id]


async def test_a_stranger_neither_accepts_nor_confirms_nor_reads_a_match() -> None:
    matching = await a_project_with_two_offers()
    match_id = matching.proposed("amina")
    with pytest.raises(Forbidden):
        await matching.handlers.act(person("youssef"), match_id, Action.ACCEPT)
    await matching.handlers.act(person("amina"), match_id, Action.ACCEPT)
    with pytest.raises(Forbidden):
        await matching.handlers.act(person("amina"), match_id, Action.CONFIRM)
    with pytest.raises(Forbidden):
        await matching.handlers.matches(person("youssef"), None, "pumps")
    assert not matching.published(MatchConfirmed)


async def test_a_filled_need_withdraws_the_other_proposals() -> None:
    matching = await a_project_with_two_offers()
    match_id = matching.proposed("amina")
    await matching.handlers.act(person("amina"), match_id, Action.ACCEPT)
    await matching.handlers.act(person("owner"), match_id, Action.CONFIRM)
    withdrawn = [(e.member_id, e.reason) for e in matching.published(MatchWithdrawn)]
    assert withdrawn == [("youssef", "need_filled")]
    statuses = {
        m.member_id: m.status for m in await matching.handlers.matches(person("owner"), None, "pumps")
    }
    assert statuses == {"amina": "confirmed", "youssef": "withdrawn"}


async def test_a_declined_match_gives_its_place_in_the_top_to_the_next_offer() -> None:
    matching = await a_project_with_two_offers(top_k=1)
    assert [e.member_id for e in matching.published(MatchProposed)] == ["amina"]
    await matching.handlers.act(person("amina"), matching.proposed("amina"), Action.DECLINE)
    assert [e.member_id for e in matching.published(MatchProposed)] == ["amina", "youssef"]


async def test_erasing_a_member_withdraws_their_matches_and_refuses_their_token_everywhere() -> None:
    matching = await a_project_with_two_offers()
    match_id = matching.proposed("amina")
    await matching.consume("erase_member", "amina")
    assert [(e.member_id, e.reason) for e in matching.published(MatchWithdrawn)] == [
        ("amina", "member_erased")
    ]
    kept = await matching.handlers.matches(person("owner"), None, "pumps")
    assert [(m.member_id, m.status, m.reasons) for m in kept if m.member_id == "amina"] == [
        ("amina", "withdrawn", [])
    ]
    with pytest.raises(Forbidden, match="erased"):
        await matching.handlers.act(person("amina"), match_id, Action.ACCEPT)
    with pytest.raises(Forbidden, match="erased"):
        await matching.handlers.matches(person("amina"), "amina", None)


async def test_an_offer_whose_commit_failed_is_proposed_when_its_event_comes_again_whatever_the_fault() -> (
    None
):
    matching = Matching()
    await matching.territory()
    await matching.project()
    await matching.member("amina", "origin")
    offered = SkillOffered(
        member_id="amina", offer_id="amina-pv", skill=SKILL, level=4, modes=["short_mission"]
    )
    at = next(matching.clock)
    # A refusal at commit (an event too large to publish is a RuleBroken) after the index took the offer.
    matching.failures.append(RuleBroken("the MatchProposed event would be too large"))
    with pytest.raises(RuleBroken):
        await matching.consume("offer_skill", offered, at)
    assert not matching.published(MatchProposed)
    await matching.consume("offer_skill", offered, at)  # the redelivery
    assert [e.offer_id for e in matching.published(MatchProposed)] == ["amina-pv"]


async def test_a_change_whose_commit_fails_is_undone_in_memory_and_the_index_is_not_rebuilt() -> None:
    matching = Matching()
    await matching.territory()
    await matching.project()
    await matching.member("amina", "origin")
    await matching.member("youssef", "origin")
    await matching.consume("offer_skill", _offered("youssef"), next(matching.clock))
    engine = matching.handlers.engine
    index = engine.index
    assert index is not None
    before = (
        index.tops(),
        dict(index.offers),
        {k: list(v) for k, v in index.offers_by_skill_mode.items() if v},
    )
    matching.failures.append(RuleBroken("the MatchProposed event would be too large"))
    with pytest.raises(RuleBroken):
        await matching.consume("offer_skill", _offered("amina"), next(matching.clock))
    assert engine.index is index  # the same index, not one built again
    after = (
        index.tops(),
        dict(index.offers),
        {k: list(v) for k, v in index.offers_by_skill_mode.items() if v},
    )
    assert after == before
    fresh = MatchingEngine(matching.unit, TAXONOMY, MatchingSettings())
    await fresh.warm_up()
    assert fresh.index is not None and fresh.index.tops() == index.tops()
    assert not engine.lock.locked()  # the next change may come


def _offered(member_id: str) -> SkillOffered:
    return SkillOffered(
        member_id=member_id, offer_id=f"{member_id}-pv", skill=SKILL, level=4, modes=["short_mission"]
    )


# The fakes: an in-memory repository, and a unit of work around it that forgets what it did not
# commit, as a transaction would.


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

    async def erase_passes_of(self, member_id: str) -> None:
        """No passes here: DeadlineRepository keeps them."""

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
        self, project_id: str, need_id: str, offer_id: str, member_id: str, fit: Fit, since: datetime
    ) -> MatchRow | None:
        if await self.pair(need_id, offer_id) is not None:
            return None
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
            stage_since=since,
            reminded_at=None,
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


# Deadlines and passes: a proposal reminded half-way then expired, the next offer in its place; the
# project side's kind pass; and the one-hour call's weighting.

DAYS = 14


class DeadlineRepository(FakeRepository):
    """The fake, with when each match entered its stage and the project side's passes."""

    def __init__(self) -> None:
        super().__init__()
        self.passes: dict[str, MatchPassRow] = {}

    async def declined_pairs(self) -> list[tuple[str, str]]:
        closed = [(r.need_id, r.offer_id) for r in self.rows.values() if r.reason in ("passed", "expired")]
        return [*await super().declined_pairs(), *closed]

    async def waiting_since(
        self, status: str, before: datetime, *, unreminded: bool, limit: int
    ) -> list[MatchRow]:
        found = [
            r
            for r in self.rows.values()
            if r.status == status and r.stage_since < before and not (unreminded and r.reminded_at)
        ]
        return sorted(found, key=lambda r: (r.stage_since, r.match_id))[:limit]

    async def save_pass(
        self, match_id: str, reason_code: str, note: str | None, by: str, at: datetime
    ) -> None:
        self.passes[match_id] = MatchPassRow(
            match_id=match_id, reason_code=reason_code, note=note, passed_by=by, passed_at=at
        )

    async def pass_of(self, match_id: str) -> MatchPassRow | None:
        return self.passes.get(match_id)

    async def erase_passes_of(self, member_id: str) -> None:
        for record in self.passes.values():
            if self.rows[record.match_id].member_id == member_id:
                record.note = None
            if record.passed_by == member_id:
                record.passed_by = ERASED_OWNER


async def with_deadlines(top_k: int) -> Matching:
    matching = Matching(top_k)
    matching.repository = DeadlineRepository()
    await matching.territory()
    await matching.project()
    await matching.member("amina", "origin")
    await matching.member("youssef", "heart")
    await matching.offer("amina-pv", "amina")
    await matching.offer("youssef-pv", "youssef")
    return matching


def deadlines(matching: Matching, days_later: float) -> Deadlines:
    at = datetime.now(UTC) + timedelta(days=days_later)
    return Deadlines(
        matching.unit, matching.handlers.engine, MatchingSettings(answer_days=DAYS), clock=lambda: at
    )


def about(events: Iterable[MatchReminded | MatchWithdrawn]) -> list[tuple[str, str | None]]:
    return [(e.member_id, getattr(e, "reminded", None) or getattr(e, "reason", None)) for e in events]


async def test_a_proposal_left_unanswered_is_reminded_half_way_then_expires_once_for_the_next_offer() -> None:
    matching = await with_deadlines(top_k=1)
    assert [e.member_id for e in matching.published(MatchProposed)] == ["amina"]

    assert await deadlines(matching, 1).sweep() == 0
    assert await deadlines(matching, DAYS / 2 + 1).sweep() == 1
    assert await deadlines(matching, DAYS / 2 + 2).sweep() == 0  # reminded once
    assert about(matching.published(MatchReminded)) == [("amina", "member")]

    late = deadlines(matching, DAYS + 1)
    assert await late.sweep() == 1
    assert about(matching.published(MatchWithdrawn)) == [("amina", "expired")]
    assert [e.member_id for e in matching.published(MatchProposed)] == ["amina", "youssef"]
    assert await late.sweep() == 0  # the next proposal waits from its own start; none ends twice
    assert about(matching.published(MatchWithdrawn)) == [("amina", "expired")]


async def test_an_accepted_match_left_unconfirmed_reminds_the_project_once() -> None:
    matching = await with_deadlines(top_k=2)
    await matching.handlers.act(person("amina"), matching.proposed("amina"), Action.ACCEPT)
    for days in (DAYS + 1, DAYS + 2):
        await deadlines(matching, days).sweep()
    project_reminders = [e for e in matching.published(MatchReminded) if e.reminded == "project"]
    assert about(project_reminders) == [("amina", "project")]
    assert "amina" not in [e.member_id for e in matching.published(MatchWithdrawn)]


async def test_the_project_side_passes_kindly_on_an_accepted_match_and_keeps_the_reason() -> None:
    matching = await with_deadlines(top_k=1)
    match_id = matching.proposed("amina")
    command = PassMatch(reason_code="found_someone", note="A cousin of the mayor will do it")
    with pytest.raises(IllegalTransition):
        await matching.handlers.pass_match(person("owner"), match_id, command)
    await matching.handlers.act(person("amina"), match_id, Action.ACCEPT)
    with pytest.raises(Forbidden):
        await matching.handlers.pass_match(person("amina"), match_id, command)

    passed = await matching.handlers.pass_match(person("owner"), match_id, command)
    assert (passed.status, passed.reason) == ("withdrawn", "passed")
    [withdrawn] = matching.published(MatchWithdrawn)
    assert withdrawn.reason == "passed" and "cousin" not in withdrawn.model_dump_json()
    assert [e.member_id for e in matching.published(MatchProposed)] == ["amina", "youssef"]
    record = await matching.handlers.pass_record(person("owner"), match_id)
    assert (record.reason_code, record.note) == ("found_someone", "A cousin of the mayor will do it")
    with pytest.raises(Forbidden):
        await matching.handlers.pass_record(person("amina"), match_id)

    await matching.consume("erase_member", "amina")  # the note may speak of her: it goes
    record = await matching.handlers.pass_record(person("owner"), match_id)
    assert (record.reason_code, record.note) == ("found_someone", None)


def test_a_call_weighs_the_time_zone_distance_more_than_remote_work() -> None:
    offer = OfferFacts("o", "m", "energy.solar_pv_design", 4, frozenset({"remote", "call"}))
    near, far = MemberFacts("m", utc_offset=1.0), MemberFacts("m", utc_offset=9.0)

    def gap(mode: str) -> float:
        need = NeedFacts("n", "p", "energy.solar_pv_design", 3, mode, 1, ("t",), utc_offset=0.0)
        return (score(need, offer, near, "exact") or 0) - (score(need, offer, far, "exact") or 0)

    assert gap("call") > gap("remote") > 0


def test_a_pass_sent_with_a_null_note_is_a_pass_without_a_note() -> None:
    assert PassMatch.model_validate({"reason_code": "timing", "note": None}).note is None
    assert PassMatch.model_validate({"reason_code": "timing", "note": "  moved  "}).note == "moved"
