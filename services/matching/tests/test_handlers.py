"""The matching service's use cases, in memory: what people and events make of matches, with no
NATS and no PostgreSQL (tests/integration prove delivery and persistence)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from matching.config import MatchingSettings
from matching.domain import Action
from matching.engine import MatchingEngine
from matching.handlers import MatchingHandlers
from passerelle.contracts import (
    EventData,
    MatchAccepted,
    MatchConfirmed,
    MatchProposed,
    MatchWithdrawn,
    MemberRegistered,
    ProjectPublished,
    SkillOffered,
)
from passerelle.errors import Forbidden, RuleBroken
from passerelle.identity import Identity
from passerelle.taxonomy import load_taxonomy

from .fakes import FakeRepository, FakeUnitOfWork

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
