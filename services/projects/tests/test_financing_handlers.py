"""The financing use cases in milliseconds: an in-memory repository and unit of work (the
integration tests prove locking, delivery and persistence)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from passerelle.contracts import (
    CampaignFailed,
    CampaignSucceeded,
    CofundingApplied,
    FundingGoalReached,
    PledgeCollected,
    PledgeReleased,
)
from passerelle.errors import Forbidden, IllegalTransition, InvalidField
from passerelle.identity import Identity
from passerelle.unit_of_work import InMemoryUnitOfWork
from projects.domain import PUBLISHED, MemberFacts, Project
from projects.financing.commands import CampaignIn, CofundingIn, CollectionsIn, PlanIn, PledgeIn
from projects.financing.domain import Campaign, CofundingOffer, FinancingPlan, Pledge
from projects.financing.handlers import FinancingHandlers, FinancingRules
from projects.financing.programmes import load_programmes

AMINA = Identity("amina", frozenset({"member"}))
HAFSA = Identity("hafsa", frozenset({"member"}))
MAYOR = Identity("mayor", frozenset({"member"}))
START = datetime(2027, 5, 1, tzinfo=UTC)


class FakeFinancing:
    """What financing reads and writes, in dictionaries; one project, owned by Amina."""

    def __init__(self) -> None:
        self.projects = {
            "p1": Project(
                "p1",
                "tafraout",
                "amina",
                "Tafraout solar",
                "Pumps",
                "energy",
                funding={"goal_amount": "1000.00", "currency": "EUR"},
                status=PUBLISHED,
            )
        }
        self.plans: dict[str, FinancingPlan] = {}
        self.campaigns: dict[str, Campaign] = {}
        self.ledger: dict[str, Pledge] = {}
        self.offers_by_id: dict[str, CofundingOffer] = {}
        self.applications: dict[tuple[str, str], Decimal] = {}
        self.members = {"commune": MemberFacts("commune", "local_actor", ["mayor"])}

    async def project(self, project_id: str, *, for_update: bool = False) -> Project | None:
        return self.projects.get(project_id)

    async def save_project(self, project: Project) -> None:
        self.projects[project.project_id] = project

    async def member(self, member_id: str) -> MemberFacts | None:
        return self.members.get(member_id)

    async def was_erased(self, member_id: str) -> bool:
        return False

    async def lineage(self, territory_id: str) -> list[str]:
        return [territory_id]

    async def manages_any(self, sub: str, territory_ids: list[str]) -> bool:
        return False

    async def plan(self, project_id: str) -> FinancingPlan | None:
        return self.plans.get(project_id)

    async def save_plan(self, plan: FinancingPlan) -> None:
        self.plans[plan.project_id] = plan

    async def campaign(self, campaign_id: str, *, for_update: bool = False) -> Campaign | None:
        return self.campaigns.get(campaign_id)

    async def current_campaign_of(self, project_id: str) -> Campaign | None:
        mine = [c for c in self.campaigns.values() if c.project_id == project_id]
        return max(mine, key=lambda c: c.opens_at) if mine else None

    async def save_campaign(self, campaign: Campaign) -> None:
        self.campaigns[campaign.campaign_id] = campaign

    async def pledge(self, pledge_id: str, *, for_update: bool = False) -> Pledge | None:
        return self.ledger.get(pledge_id)

    async def reference_taken(self, reference: str) -> bool:
        return any(p.reference == reference for p in self.ledger.values())

    async def add_financed_pledge(self, pledge: Pledge) -> None:
        self.ledger[pledge.pledge_id] = pledge

    async def save_pledge(self, pledge: Pledge) -> None:
        self.ledger[pledge.pledge_id] = pledge

    async def pledges_of(
        self, project_id: str, *, campaign_id: str | None = None, status: str | None = None
    ) -> list[Pledge]:
        return [
            p
            for p in self.ledger.values()
            if p.project_id == project_id
            and (campaign_id is None or p.campaign_id == campaign_id)
            and (status is None or p.status == status)
        ]

    async def pledges_by_member(
        self, member_id: str, limit: int, offset: int
    ) -> tuple[list[tuple[Pledge, str]], int]:
        mine = [p for p in self.ledger.values() if member_id in (p.member_id, p.on_behalf_of_member_id)]
        mine.sort(key=lambda p: p.pledged_at, reverse=True)
        return [(p, self.projects[p.project_id].title) for p in mine[offset : offset + limit]], len(mine)

    async def pledges_by_reference(self, project_id: str, references: list[str]) -> dict[str, Pledge]:
        return {p.reference: p for p in self.ledger.values() if p.reference in references and p.reference}

    async def bonds_to(self, member_id: str | None, territory_ids: list[str]) -> set[str]:
        return set()

    async def offers(self, project_id: str, *, for_update: bool = False) -> list[CofundingOffer]:
        return [o for o in self.offers_by_id.values() if o.project_id == project_id]

    async def save_offer(self, offer: CofundingOffer) -> None:
        self.offers_by_id[offer.offer_id] = offer

    async def apply_cofunding(self, offer_id: str, pledge_id: str, project_id: str, amount: Decimal) -> bool:
        if (offer_id, pledge_id) in self.applications:
            return False
        self.applications[offer_id, pledge_id] = amount
        return True

    async def cofunded_by_offer(self, project_id: str) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for (offer_id, _), amount in self.applications.items():
            totals[offer_id] = totals.get(offer_id, Decimal(0)) + amount
        return totals


Uow = InMemoryUnitOfWork[FakeFinancing]


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def uow() -> Uow:
    return InMemoryUnitOfWork(FakeFinancing())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def financing(uow: Uow, clock: Clock) -> FinancingHandlers:
    handlers = FinancingHandlers(lambda: uow, FinancingRules(load_programmes(), 30, (7, 21)), clock)  # type: ignore[arg-type, return-value]
    plan = {
        "budget_amount": "5000",
        "currency": "EUR",
        "lines": [{"source": "diaspora_campaign", "label": "Diaspora", "amount": "1000"}],
        "collector": {
            "kind": "association",
            "name": "Tafraout Solidarité",
            "payment_instructions": "IBAN",
            "confirmer_subs": ["hafsa"],
        },
    }
    await handlers.set_plan(AMINA, "p1", PlanIn.model_validate(plan))
    return handlers


async def open_campaign(financing: FinancingHandlers, rule: str, minimum: str | None = None) -> Campaign:
    wanted = CampaignIn(
        goal_amount="1000",
        minimum_amount=minimum,
        currency="EUR",
        rule=rule,
        closes_at=START + timedelta(days=10),
    )
    return await financing.open_campaign(AMINA, "p1", wanted)


async def give(financing: FinancingHandlers, sub: str, amount: str) -> Pledge:
    return (
        await financing.pledge(Identity(sub, frozenset({"member"})), "p1", PledgeIn(amount=amount))
    ).pledge


async def test_an_all_or_nothing_campaign_below_its_minimum_fails_once_and_releases_each_pledge(
    financing: FinancingHandlers, uow: Uow, clock: Clock
) -> None:
    campaign = await open_campaign(financing, "all_or_nothing", minimum="500")
    for donor in ("fatima", "youssef"):
        await give(financing, donor, "200")
    before = len(uow.published)
    closing = START + timedelta(days=10)
    assert await financing.close_if_due(campaign.campaign_id, closing)
    assert not await financing.close_if_due(campaign.campaign_id, closing), "never twice"
    events = uow.published[before:]
    assert [type(e) for e in events] == [PledgeReleased, PledgeReleased, CampaignFailed]
    assert {p.status for p in uow.repository.ledger.values()} == {"released"}
    assert uow.repository.projects["p1"].pledged_total == 0
    clock.now = closing
    with pytest.raises(IllegalTransition, match="closed on 2027-05-11"):
        await give(financing, "omar", "10")


async def test_a_keep_it_all_campaign_succeeds_with_what_was_pledged_and_the_goal_is_reached_once(
    financing: FinancingHandlers, uow: Uow
) -> None:
    campaign = await open_campaign(financing, "keep_it_all")
    for donor in ("fatima", "youssef", "omar"):
        await give(financing, donor, "400")
    assert [type(e) for e in uow.published].count(FundingGoalReached) == 1
    await financing.close_if_due(campaign.campaign_id, START + timedelta(days=11))
    [succeeded] = [e for e in uow.published if isinstance(e, CampaignSucceeded)]
    assert succeeded.pledged_total == "1200.00" and sorted(succeeded.pledger_member_ids) == [
        "fatima",
        "omar",
        "youssef",
    ]


async def test_a_collection_is_for_confirmers_brings_co_funding_once_and_a_bad_batch_changes_nothing(
    financing: FinancingHandlers, uow: Uow
) -> None:
    offer = CofundingIn(sponsor_member_id="commune", ratio="1", cap_amount="500", currency="EUR")
    with pytest.raises(Forbidden):
        await financing.offer_cofunding(AMINA, "p1", offer)
    await financing.offer_cofunding(MAYOR, "p1", offer)
    first, second = await give(financing, "fatima", "400"), await give(financing, "youssef", "300")

    def batch(*references: str | None) -> CollectionsIn:
        return CollectionsIn.model_validate(
            {"items": [{"reference": r, "method": "cash"} for r in references]}
        )

    with pytest.raises(Forbidden):
        await financing.collect(AMINA, "p1", batch(first.reference))
    before = dict(uow.repository.ledger)
    with pytest.raises(InvalidField, match=r"TAF-2345-67 \(mistyped"):
        await financing.collect(HAFSA, "p1", batch(first.reference, "TAF-2345-67"))
    assert uow.repository.ledger == before
    await financing.collect(HAFSA, "p1", batch(first.reference))
    await financing.collect(HAFSA, "p1", batch(second.reference))
    applied = [e for e in uow.published if isinstance(e, CofundingApplied)]
    assert [(e.amount, e.exhausted) for e in applied] == [("400.00", False), ("100.00", True)]
    assert [type(e) for e in uow.published].count(PledgeCollected) == 2
    with pytest.raises(InvalidField, match="already collected"):
        await financing.collect(HAFSA, "p1", batch(first.reference))
    ledger = await financing.ledger(AMINA, "p1")
    assert (ledger.pledged_total, ledger.collected_total, ledger.cofunded_total) == (700, 700, 500)


async def test_a_pledge_is_cancelled_by_its_pledger_before_the_close_and_leaves_the_totals(
    financing: FinancingHandlers, uow: Uow, clock: Clock
) -> None:
    campaign = await open_campaign(financing, "keep_it_all")
    made = await give(financing, "fatima", "300")
    with pytest.raises(Forbidden):
        await financing.cancel_pledge(Identity("omar", frozenset({"member"})), made.pledge_id)
    cancelled = await financing.cancel_pledge(Identity("fatima", frozenset({"member"})), made.pledge_id)
    assert cancelled.status == "cancelled" and uow.repository.projects["p1"].pledged_total == 0
    assert uow.repository.campaigns[campaign.campaign_id].pledged_total == 0
    kept = await give(financing, "youssef", "100")
    clock.now = START + timedelta(days=10)
    with pytest.raises(IllegalTransition, match="the pledge stands"):
        await financing.cancel_pledge(AMINA, kept.pledge_id)


async def test_a_member_s_pledges_are_listed_for_those_who_manage_them_and_for_operators_only(
    financing: FinancingHandlers, uow: Uow
) -> None:
    given = Pledge("pl-1", "p1", "commune", Decimal("80"), "EUR", START)
    uow.repository.ledger[given.pledge_id] = given
    found, total = await financing.member_pledges(MAYOR, "commune", 20, 0)
    assert found == [(given, "Tafraout solar")] and total == 1
    operator = Identity("ops", frozenset({"operator"}))
    assert (await financing.member_pledges(operator, "commune", 20, 0))[1] == 1
    with pytest.raises(Forbidden):
        await financing.member_pledges(AMINA, "commune", 20, 0)
