"""The opportunities service's use cases on an in-memory repository: milliseconds, no NATS, no PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from opportunities.commands import CreateOpportunity, Decline, EditOpportunity, ExpressInterest, Review
from opportunities.config import OpportunitiesSettings
from opportunities.domain import ERASED_KIND, Interest, MemberFacts, Opportunity
from opportunities.handlers import OpportunitiesHandlers
from opportunities.programmes import load_catalogue
from opportunities.repository import OpportunitySearch, Visibility
from passerelle.contracts import (
    InterestDeclined,
    InterestWithdrawn,
    IntroductionMade,
    MemberRegistered,
    OpportunityClosed,
    OpportunityExpiring,
    OpportunityPublished,
    OpportunityUpdated,
)
from passerelle.errors import Conflict, Forbidden, IllegalTransition, InvalidField, NotFound
from passerelle.identity import Identity
from passerelle.taxonomy import load_taxonomy
from passerelle.unit_of_work import InMemoryUnitOfWork

AICHA, YOUSSEF, OMAR = (Identity(sub, frozenset({"member"})) for sub in ("aicha", "youssef", "omar"))
KARIM = Identity("karim", frozenset({"territory_manager"}))
START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TAKEOVER: dict[str, Any] = {
    "territory_id": "tafraout",
    "kind": "business_takeover",
    "sector": "agriculture",
    "title": "Olive-oil cooperative takeover",
    "summary": "The founders retire.",
    "language": "fr",
}


class InMemoryOpportunities:
    """The repository's methods the use cases call, over dicts; territories Tafraout under Tiznit."""

    def __init__(self) -> None:
        self.opportunities: dict[str, Opportunity] = {}
        self.interests_by_id: dict[str, Interest] = {}
        self.parents: dict[str, str | None] = {"tiznit": None, "tafraout": "tiznit"}
        self.roles: set[tuple[str, str]] = {("tiznit", "karim")}
        self.facts: dict[str, MemberFacts] = {}

    async def opportunity(self, opportunity_id: str, *, for_update: bool = False) -> Opportunity | None:
        return self.opportunities.get(opportunity_id)

    async def save(self, opportunity: Opportunity) -> None:
        self.opportunities[opportunity.opportunity_id] = opportunity

    async def count_promoted_by(self, member_id: str) -> int:
        return sum(1 for o in self.opportunities.values() if o.promoter_member_id == member_id)

    async def search(
        self, wanted: OpportunitySearch, visibility: Visibility | None, limit: int, offset: int
    ) -> tuple[list[Opportunity], int]:
        found = [
            o
            for o in self.opportunities.values()
            if o.status in wanted.statuses
            and (wanted.territory_id is None or wanted.territory_id in await self.lineage(o.territory_id))
            and (
                visibility is None
                or o.visible_to_members
                or o.promoter_member_id in visibility.promoters
                or o.territory_id in visibility.territories
            )
        ]
        return found[offset : offset + limit], len(found)

    async def open_expiring_by(self, day: date) -> list[str]:
        return [
            o.opportunity_id
            for o in self.opportunities.values()
            if o.status == "open" and o.expires_on is not None and o.expires_on <= day
        ]

    async def interest(self, interest_id: str, *, for_update: bool = False) -> Interest | None:
        return self.interests_by_id.get(interest_id)

    async def interest_of(self, opportunity_id: str, member_id: str) -> Interest | None:
        return next(
            (
                i
                for i in self.interests_by_id.values()
                if (i.opportunity_id, i.member_id) == (opportunity_id, member_id)
            ),
            None,
        )

    async def save_interest(self, interest: Interest) -> None:
        self.interests_by_id[interest.interest_id] = interest

    async def interests(self, opportunity_id: str, statuses: Collection[str] | None = None) -> list[Interest]:
        return [
            i
            for i in self.interests_by_id.values()
            if i.opportunity_id == opportunity_id and (statuses is None or i.status in statuses)
        ]

    async def territory_known(self, territory_id: str) -> bool:
        return territory_id in self.parents

    async def lineage(self, territory_id: str) -> list[str]:
        chain: list[str] = []
        current: str | None = territory_id
        while current is not None and current in self.parents:
            chain.append(current)
            current = self.parents[current]
        return chain

    async def manages_any(self, sub: str, territory_ids: Collection[str]) -> bool:
        return any((territory_id, sub) in self.roles for territory_id in territory_ids)

    async def territories_managed_by(self, sub: str) -> list[str]:
        granted = {territory for territory, manager in self.roles if manager == sub}
        return [t for t in self.parents if granted.intersection(await self.lineage(t))]

    async def member(self, member_id: str) -> MemberFacts | None:
        return self.facts.get(member_id)

    async def members(self, member_ids: Collection[str]) -> dict[str, MemberFacts]:
        return {m: self.facts[m] for m in member_ids if m in self.facts}

    async def was_erased(self, member_id: str) -> bool:
        return member_id in self.facts and self.facts[member_id].erased

    async def members_managed_by(self, sub: str) -> list[str]:
        return [m for m, facts in self.facts.items() if sub in facts.managers]

    async def remember_member(self, facts: MemberFacts, as_of: datetime) -> None:
        self.facts[facts.member_id] = facts

    async def forget_member(self, member_id: str) -> list[str]:
        self.facts[member_id] = MemberFacts(member_id, ERASED_KIND)
        self.interests_by_id = {k: i for k, i in self.interests_by_id.items() if i.member_id != member_id}
        promoted = [o for o in self.opportunities.values() if o.promoter_member_id == member_id]
        for opportunity in promoted:
            self.opportunities[opportunity.opportunity_id] = replace(opportunity, promoter_member_id="erased")
        return sorted(o.opportunity_id for o in promoted)


class World:
    def __init__(self) -> None:
        self.uow = InMemoryUnitOfWork(InMemoryOpportunities())
        self.now = START
        settings = OpportunitiesSettings(max_per_member=3)
        self.handlers = OpportunitiesHandlers(
            lambda: self.uow, settings, load_taxonomy(), load_catalogue(), clock=lambda: self.now
        )

    @property
    def events(self) -> list[Any]:
        return self.uow.published

    async def open(self, **changes: Any) -> Opportunity:
        created = await self.handlers.create(AICHA, CreateOpportunity(**{**TAKEOVER, **changes}))
        await self.handlers.submit(AICHA, created.opportunity_id)
        return await self.handlers.review(KARIM, created.opportunity_id, Review(decision="approved"))

    async def interest(self, opportunity: Opportunity, who: Identity = YOUSSEF) -> Interest:
        return await self.handlers.express_interest(
            who, opportunity.opportunity_id, ExpressInterest(role="investor")
        )


@pytest.fixture
def world() -> World:
    return World()


async def test_until_approved_an_opportunity_is_404_and_unlisted_for_members(world: World) -> None:
    created = await world.handlers.create(AICHA, CreateOpportunity(**TAKEOVER))
    await world.handlers.submit(AICHA, created.opportunity_id)
    with pytest.raises(NotFound):
        await world.handlers.opportunity(YOUSSEF, created.opportunity_id)
    submitted = OpportunitySearch(statuses=("submitted",))
    assert await world.handlers.opportunities(YOUSSEF, submitted, 20, 0) == ([], 0)
    queue, total = await world.handlers.opportunities(KARIM, submitted, 20, 0)  # the review queue
    assert (total, queue[0].opportunity_id) == (1, created.opportunity_id)
    with pytest.raises(NotFound):
        await world.handlers.review(YOUSSEF, created.opportunity_id, Review(decision="approved"))
    with pytest.raises(Forbidden, match="not its promoter"):
        await world.handlers.review(AICHA, created.opportunity_id, Review(decision="approved"))

    await world.handlers.review(KARIM, created.opportunity_id, Review(decision="approved"))
    assert (await world.handlers.opportunity(YOUSSEF, created.opportunity_id)).may_act is False
    for territory in ("tafraout", "tiznit"):
        found, _ = await world.handlers.opportunities(
            YOUSSEF, OpportunitySearch(territory_id=territory), 20, 0
        )
        assert [o.opportunity_id for o in found] == [created.opportunity_id]
    assert [type(e) for e in world.events][-1] is OpportunityPublished


async def test_an_unknown_territory_or_a_member_one_does_not_act_for_creates_nothing(world: World) -> None:
    with pytest.raises(InvalidField, match="territory_id"):
        await world.handlers.create(AICHA, CreateOpportunity(**{**TAKEOVER, "territory_id": "nowhere"}))
    await world.handlers.remember_member(_profile("coop", "local_actor", ["aicha"]), START, world.uow)
    with pytest.raises(Forbidden):
        await world.handlers.create(OMAR, CreateOpportunity(**{**TAKEOVER, "promoter_member_id": "coop"}))
    made = await world.handlers.create(AICHA, CreateOpportunity(**{**TAKEOVER, "promoter_member_id": "coop"}))
    assert made.promoter_member_id == "coop"
    assert len(world.uow.repository.opportunities) == 1


async def test_interest_is_one_per_member_and_only_the_promoter_answers_it(world: World) -> None:
    opportunity = await world.open()
    interest = await world.interest(opportunity)
    with pytest.raises(Conflict):
        await world.interest(opportunity)
    with pytest.raises(Forbidden):
        await world.handlers.interests(OMAR, opportunity.opportunity_id)
    with pytest.raises(Forbidden):
        await world.handlers.accept(YOUSSEF, interest.interest_id)
    assert [card.interest for card in await world.handlers.interests(KARIM, opportunity.opportunity_id)] == [
        interest
    ]
    await world.handlers.accept(AICHA, interest.interest_id)
    [made] = [e for e in world.events if isinstance(e, IntroductionMade)]
    assert (made.promoter_member_id, made.member_id, made.role) == ("aicha", "youssef", "investor")


async def test_a_declines_reason_stays_with_the_promoter(world: World) -> None:
    opportunity = await world.open()
    interest = await world.interest(opportunity)
    declined = await world.handlers.decline(AICHA, interest.interest_id, Decline(reason_code="amount"))
    assert declined.decline_reason == "amount"
    [event] = [e for e in world.events if isinstance(e, InterestDeclined)]
    assert "amount" not in event.model_dump_json()
    with pytest.raises(IllegalTransition):
        await world.handlers.withdraw_interest(YOUSSEF, interest.interest_id)


async def test_the_reminder_and_the_expiry_happen_once_and_end_the_pending_interests(world: World) -> None:
    opportunity = await world.open()
    interest = await world.interest(opportunity)
    assert opportunity.expires_on == date(2027, 3, 1)
    world.now = START + timedelta(days=75)
    assert await world.handlers.remind_and_expire() == 0
    world.now = START + timedelta(days=76)
    assert (await world.handlers.remind_and_expire(), await world.handlers.remind_and_expire()) == (1, 0)
    world.now = START + timedelta(days=90)
    assert (await world.handlers.remind_and_expire(), await world.handlers.remind_and_expire()) == (1, 0)
    kinds = [type(e) for e in world.events]
    assert (kinds.count(OpportunityExpiring), kinds.count(OpportunityClosed)) == (1, 1)
    [ended] = [e for e in world.events if isinstance(e, InterestWithdrawn)]
    assert (ended.interest_id, ended.reason) == (interest.interest_id, "expired")


async def test_a_renewed_opportunity_is_reminded_again_before_its_new_date(world: World) -> None:
    opportunity = await world.open()
    world.now = START + timedelta(days=80)
    await world.handlers.remind_and_expire()
    renewed = await world.handlers.renew(AICHA, opportunity.opportunity_id)
    assert renewed.expires_on == date(2027, 5, 20)
    world.now = START + timedelta(days=157)
    await world.handlers.remind_and_expire()
    assert [type(e) for e in world.events].count(OpportunityExpiring) == 2


async def test_erasure_removes_interests_and_closes_what_the_member_promoted(world: World) -> None:
    opportunity = await world.open()
    await world.interest(opportunity)
    await world.handlers.forget_member("youssef", world.uow)
    assert world.uow.repository.interests_by_id == {}
    await world.handlers.forget_member("aicha", world.uow)
    closed = world.uow.repository.opportunities[opportunity.opportunity_id]
    assert (closed.status, closed.outcome, closed.promoter_member_id) == ("closed", "withdrawn", "erased")
    with pytest.raises(Forbidden):
        await world.handlers.create(AICHA, CreateOpportunity(**TAKEOVER))


def _profile(member_id: str, kind: str, managers: list[str]) -> MemberRegistered:
    return MemberRegistered(
        member_id=member_id,
        kind=kind,
        display_name="Coopérative Tafraout",
        email="coop@example.org",
        locale="fr",
        country_of_residence="MA",
        time_zone="Africa/Casablanca",
        managers=managers,
    )


async def test_editing_an_open_opportunity_publishes_its_snapshot_and_a_draft_tells_nobody(
    world: World,
) -> None:
    draft = await world.handlers.create(AICHA, CreateOpportunity(**TAKEOVER))
    await world.handlers.edit(AICHA, draft.opportunity_id, EditOpportunity(title="Moulin de Tafraout"))
    assert world.events == []
    opened = await world.open()
    with pytest.raises(Forbidden):
        await world.handlers.edit(YOUSSEF, opened.opportunity_id, EditOpportunity(title="Mine"))
    await world.handlers.edit(KARIM, opened.opportunity_id, EditOpportunity(expected_jobs=12))
    [updated] = [e for e in world.events if isinstance(e, OpportunityUpdated)]
    assert (updated.expected_jobs, updated.title) == (12, TAKEOVER["title"])
