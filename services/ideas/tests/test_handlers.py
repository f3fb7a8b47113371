"""The ideas service's use cases, on an in-memory repository and a clock of the test's: milliseconds,
no NATS, no PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta

import pytest
from ideas.commands import CreatePlan, PhaseIn, PostIdea
from ideas.config import IdeasSettings
from ideas.domain import ERASED, Breakdown, Idea, MemberFacts, Plan, Territory
from ideas.handlers import IdeasHandlers
from ideas.orm import ContributionRow, ReportRow, SupportRow
from ideas.repository import HiddenReaders, IdeaSearch
from passerelle.contracts import IdeaHidden, IdeaPromoted, IdeaPublished, IdeaUnhidden, PlanPhaseStarted
from passerelle.errors import Conflict, Forbidden, IllegalTransition
from passerelle.identity import Identity
from passerelle.unit_of_work import InMemoryUnitOfWork

OMAR = Identity(sub="omar", roles=frozenset({"territory_manager"}))
START = date(2027, 1, 1)
NAMES = ("diagnosis", "ideas", "prioritisation", "adoption", "monitoring")


def person(sub: str) -> Identity:
    return Identity(sub=sub, roles=frozenset({"member"}))


class InMemoryIdeas:
    """The repository's protocol over dicts; what a unit of work did not commit is still visible,
    which the use cases never rely on."""

    def __init__(self) -> None:
        self.territories: dict[str, Territory] = {}
        self.roles: set[tuple[str, str]] = set()
        self.members: dict[str, MemberFacts] = {}
        self.saved_plans: dict[str, Plan] = {}
        self.saved_ideas: dict[str, Idea] = {}
        self.support_rows: list[SupportRow] = []
        self.reports: list[ReportRow] = []
        self.links: set[tuple[str, str]] = set()

    async def territory(self, territory_id: str) -> Territory | None:
        return self.territories.get(territory_id)

    async def lineage(self, territory_id: str) -> list[str]:
        chain, current = [], self.territories.get(territory_id)
        while current is not None:
            chain.append(current.territory_id)
            current = self.territories.get(current.parent_id or "")
        return chain

    async def descendants(self, territory_id: str) -> list[str]:
        return [t for t in self.territories if territory_id in await self.lineage(t)]

    async def remember_territory(self, territory: Territory) -> None:
        self.territories[territory.territory_id] = territory

    async def set_role(self, territory_id: str, sub: str, role: str, held: bool, as_of: datetime) -> None:
        (self.roles.add if held else self.roles.discard)((territory_id, sub))

    async def manages_any(self, sub: str, territory_ids: Collection[str]) -> bool:
        return any((territory_id, sub) in self.roles for territory_id in territory_ids)

    async def territories_managed_by(self, sub: str) -> list[str]:
        return [t for t, manager in self.roles if manager == sub]

    async def member(self, member_id: str) -> MemberFacts | None:
        return self.members.get(member_id)

    async def members_managed_by(self, sub: str) -> list[str]:
        return [m.member_id for m in self.members.values() if sub in m.managers]

    async def remember_member(self, facts: MemberFacts, as_of: datetime) -> None:
        self.members[facts.member_id] = facts

    async def forget_member(self, member_id: str) -> None:
        self.members[member_id] = MemberFacts(member_id, "person", [], "ZZ", [], erased=True)
        for row in self.support_rows:
            if row.member_id == member_id:
                row.member_id = None
        for idea in list(self.saved_ideas.values()):
            if idea.author_member_id == member_id:
                self.saved_ideas[idea.idea_id] = Idea(**{**idea.__dict__, "author_member_id": ERASED})

    async def plan(self, plan_id: str, *, for_update: bool = False) -> Plan | None:
        return self.saved_plans.get(plan_id)

    async def save_plan(self, plan: Plan) -> None:
        self.saved_plans[plan.plan_id] = plan

    async def plans(self, territory_id: str | None, limit: int, offset: int) -> tuple[list[Plan], int]:
        found = [p for p in self.saved_plans.values() if p.status != "draft"]
        return found[offset : offset + limit], len(found)

    async def running_plans(self) -> list[str]:
        return [p.plan_id for p in self.saved_plans.values() if p.status in ("published", "adopted")]

    async def lock_idea_id(self, idea_id: str) -> None:
        pass

    async def idea(self, idea_id: str, *, for_update: bool = False) -> Idea | None:
        return self.saved_ideas.get(idea_id)

    async def save_idea(self, idea: Idea) -> None:
        self.saved_ideas[idea.idea_id] = idea

    async def ideas(
        self, wanted: IdeaSearch, hidden: HiddenReaders | None, limit: int, offset: int
    ) -> tuple[list[Idea], int]:
        found = [
            idea
            for idea in self.saved_ideas.values()
            if (wanted.plan_id is None or idea.plan_id == wanted.plan_id)
            and (hidden is None or not idea.hidden or idea.author_member_id in hidden.authors)
        ]
        return found[offset : offset + limit], len(found)

    async def breakdowns(self, idea_ids: Collection[str]) -> dict[str, Breakdown]:
        return {
            idea_id: Breakdown.of(
                [(r.bond, r.in_country, 1) for r in self.support_rows if r.idea_id == idea_id]
            )
            for idea_id in idea_ids
        }

    async def supports(self, idea_id: str, member_id: str) -> bool:
        return any(r.idea_id == idea_id and r.member_id == member_id for r in self.support_rows)

    async def add_support(self, support: SupportRow) -> None:
        self.support_rows.append(support)

    async def remove_support(self, idea_id: str, member_id: str) -> bool:
        kept = [r for r in self.support_rows if not (r.idea_id == idea_id and r.member_id == member_id)]
        removed, self.support_rows = len(self.support_rows) - len(kept), kept
        return bool(removed)

    async def supporters(self, idea_id: str) -> list[str]:
        return [r.member_id for r in self.support_rows if r.idea_id == idea_id and r.member_id]

    async def contribution(self, contribution_id: str) -> ContributionRow | None:
        return None

    async def add_contribution(self, contribution: ContributionRow) -> None:
        pass

    async def contributions(self, idea_id: str, limit: int, offset: int) -> tuple[list[ContributionRow], int]:
        return [], 0

    async def add_report(self, report: ReportRow) -> bool:
        if any((r.idea_id, r.member_id) == (report.idea_id, report.member_id) for r in self.reports):
            return False
        self.reports.append(report)
        return True

    async def open_reports(self, idea_id: str) -> int:
        return sum(1 for r in self.reports if r.idea_id == idea_id)

    async def settle_reports(self, idea_id: str) -> None:
        self.reports = [r for r in self.reports if r.idea_id != idea_id]

    async def link_project(self, project_id: str, idea_id: str) -> None:
        self.links.add((project_id, idea_id))

    async def projects_naming(self, idea_id: str) -> list[str]:
        return sorted(project for project, idea in self.links if idea == idea_id)


class Clock:
    def __init__(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def uow() -> InMemoryUnitOfWork[InMemoryIdeas]:
    repository = InMemoryIdeas()
    repository.territories = {
        "morocco": Territory("morocco", "Morocco", "MA"),
        "tafraout": Territory("tafraout", "Tafraout", "MA", "morocco"),
        "kayes": Territory("kayes", "Kayes", "ML"),
    }
    repository.roles = {("morocco", "omar")}
    for member_id, place, bond, country in (
        ("fatima", "tafraout", "origin", "BE"),
        ("karim", "morocco", "heart", "FR"),
        ("aicha", "tafraout", "family", "MA"),
        ("paul", "kayes", "heart", "FR"),
    ):
        attachments = [{"territory_id": place, "bond": bond}]
        repository.members[member_id] = MemberFacts(member_id, "person", [], country, attachments)
    return InMemoryUnitOfWork(repository)


@pytest.fixture
def clock() -> Clock:
    return Clock(START + timedelta(days=12))  # in the ideas phase


@pytest.fixture
def handlers(uow: InMemoryUnitOfWork[InMemoryIdeas], clock: Clock) -> IdeasHandlers:
    return IdeasHandlers(lambda: uow, IdeasSettings(reports_to_hide=3), {"water", "energy"}, clock=clock)


async def published_plan(handlers: IdeasHandlers) -> Plan:
    phases = [
        PhaseIn(
            phase=name, starts_on=START + timedelta(days=i * 10), ends_on=START + timedelta(days=i * 10 + 9)
        )
        for i, name in enumerate(NAMES)
    ]
    command = CreatePlan(
        territory_id="tafraout", title="PCD", period_from=START, period_to=date(2032, 12, 31), phases=phases
    )
    plan = await handlers.create_plan(OMAR, command)
    return await handlers.publish_plan(OMAR, plan.plan_id)


def idea_of(plan: Plan | None = None, **extra: str) -> PostIdea:
    values = {
        "territory_id": "tafraout",
        "title": "Solar pumps",
        "body": "Sun, not diesel.",
        "language": "fr",
    }
    return PostIdea.model_validate({**values, "plan_id": plan.plan_id if plan else None, **extra})


async def test_only_a_manager_of_the_territory_or_above_makes_a_plan(handlers: IdeasHandlers) -> None:
    mine = {"territory_id": "tafraout", "title": "Mine", "period_from": START, "period_to": START}
    with pytest.raises(Forbidden):
        await handlers.create_plan(person("fatima"), CreatePlan.model_validate({**mine, "phases": []}))
    assert (await published_plan(handlers)).status == "published"


async def test_a_published_plan_tells_its_current_phase_and_each_later_one_once(
    handlers: IdeasHandlers, uow: InMemoryUnitOfWork[InMemoryIdeas], clock: Clock
) -> None:
    await published_plan(handlers)
    assert await handlers.start_due_phases() == 0  # the ideas phase was told at publication
    clock.now += timedelta(days=10)
    assert await handlers.start_due_phases() == 1
    assert await handlers.start_due_phases() == 0
    started = [event.phase for event in uow.published if isinstance(event, PlanPhaseStarted)]
    assert started == ["ideas", "prioritisation"]


async def test_a_member_supports_once_from_a_place_of_the_ideas_territory_during_its_phases(
    handlers: IdeasHandlers, clock: Clock
) -> None:
    plan = await published_plan(handlers)
    idea = await handlers.post_idea(person("fatima"), idea_of(plan))
    view = await handlers.support(person("karim"), idea.idea_id, None)  # attached to Morocco, above
    assert (view.supports.by_bond["heart"], view.supports.by_residence["abroad"]) == (1, 1)
    with pytest.raises(Conflict):
        await handlers.support(person("karim"), idea.idea_id, None)
    with pytest.raises(Forbidden, match="attached to none of them"):
        await handlers.support(person("paul"), idea.idea_id, None)
    clock.now += timedelta(days=20)  # adoption
    with pytest.raises(IllegalTransition, match="in its adoption phase"):
        await handlers.support(person("aicha"), idea.idea_id, None)
    with pytest.raises(IllegalTransition, match="ideas are posted to this plan only during ideas"):
        await handlers.post_idea(person("aicha"), idea_of(plan))


async def test_an_erased_supporter_stays_counted_by_bond_and_residence(
    handlers: IdeasHandlers, uow: InMemoryUnitOfWork[InMemoryIdeas]
) -> None:
    idea = await handlers.post_idea(person("fatima"), idea_of())
    await handlers.support(person("aicha"), idea.idea_id, None)
    async with uow:
        await handlers.forget_member("aicha", uow)
    supports = (await handlers.idea(person("paul"), idea.idea_id)).supports
    assert (supports.total, supports.by_bond["family"], supports.by_residence["in_country"]) == (1, 1, 1)
    with pytest.raises(Forbidden):
        await handlers.support(person("aicha"), idea.idea_id, None)


async def test_a_project_naming_an_idea_before_it_is_known_promotes_it_when_it_comes(
    handlers: IdeasHandlers, uow: InMemoryUnitOfWork[InMemoryIdeas]
) -> None:
    early = "6d8f0c3e-0000-4000-8000-000000000001"
    async with uow:
        await handlers.promote("solar", [early], uow)
        await uow.commit()
    idea = await handlers.post_idea(person("fatima"), idea_of(idea_id=early))
    assert (idea.status, idea.links) == ("promoted", [{"kind": "project", "id": "solar"}])
    assert [type(event) for event in uow.published] == [IdeaPublished, IdeaPromoted]
    async with uow:
        await handlers.promote("solar", [early], uow)  # the project's update names it again
        await uow.commit()
    assert [type(event) for event in uow.published] == [IdeaPublished, IdeaPromoted]


async def test_three_reports_hide_an_idea_until_a_manager_restores_it(
    handlers: IdeasHandlers, uow: InMemoryUnitOfWork[InMemoryIdeas]
) -> None:
    idea = await handlers.post_idea(person("fatima"), idea_of())
    for sub in ("karim", "aicha"):
        assert not (await handlers.report(person(sub), idea.idea_id, "spam")).hidden
    with pytest.raises(Conflict):
        await handlers.report(person("karim"), idea.idea_id, "spam")
    assert (await handlers.report(person("paul"), idea.idea_id, "spam")).hidden
    with pytest.raises(Forbidden, match="hidden"):
        await handlers.idea(person("karim"), idea.idea_id)
    assert (await handlers.idea(person("fatima"), idea.idea_id)).idea.hidden
    with pytest.raises(Forbidden):
        await handlers.moderate(person("karim"), idea.idea_id, hide=False)
    assert not (await handlers.moderate(OMAR, idea.idea_id, hide=False)).hidden
    assert [type(e) for e in uow.published if isinstance(e, IdeaHidden | IdeaUnhidden)] == [
        IdeaHidden,
        IdeaUnhidden,
    ]
    assert uow.repository.reports == []  # the manager's decision settled them
