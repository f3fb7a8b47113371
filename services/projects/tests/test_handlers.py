"""The projects use cases in milliseconds: an in-memory repository and unit of work, no NATS nor
PostgreSQL (the integration tests prove delivery and persistence)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from passerelle.contracts import (
    ERASED_OWNER,
    FundingGoalReached,
    MemberRegistered,
    PledgeMade,
    ProjectClosed,
    ProjectPublished,
    ProjectUpdated,
    TerritoryManagerNamed,
    TerritoryManagerRemoved,
    TerritoryRegistered,
)
from passerelle.errors import Forbidden, IllegalTransition, InvalidField
from passerelle.identity import ERASED_IDENTITY, Identity
from passerelle.taxonomy import load_taxonomy
from passerelle.unit_of_work import InMemoryUnitOfWork
from projects.commands import CreateProject, EditProject, RegisterTerritory
from projects.domain import ERASED_KIND, MemberFacts, Project, Territory
from projects.financing.commands import PledgeIn
from projects.financing.domain import Pledge
from projects.financing.handlers import FinancingHandlers, FinancingRules, Receipt
from projects.handlers import ProjectsHandlers
from projects.orm import TerritoryRoleRow

TAXONOMY = load_taxonomy()
OPERATOR = Identity("op", frozenset({"operator"}))
AMINA = Identity("amina", frozenset({"member"}))
FATIMA = Identity("fatima", frozenset({"member"}))
NEED = {"skill": "health.nurse_training", "min_level": 3, "mode": "short_mission", "count": 1}
GOAL = {"goal_amount": "300.00", "currency": "EUR"}


class FakeProjects:
    def __init__(self) -> None:
        self.territories_by_id: dict[str, Territory] = {}
        self.roles_held: list[TerritoryRoleRow] = []
        self.projects: dict[str, Project] = {}
        self.ledger: list[Pledge] = []
        self.members: dict[str, MemberFacts] = {}

    async def territory(self, territory_id: str) -> Territory | None:
        return self.territories_by_id.get(territory_id)

    async def add_territory(self, territory: Territory) -> None:
        self.territories_by_id[territory.territory_id] = territory

    async def lineage(self, territory_id: str) -> list[str]:
        chain, territory = [], self.territories_by_id.get(territory_id)
        while territory is not None:
            chain.append(territory.territory_id)
            territory = self.territories_by_id.get(territory.parent_id or "")
        return chain

    async def roles(self, territory_id: str) -> list[TerritoryRoleRow]:
        return [role for role in self.roles_held if role.territory_id == territory_id]

    async def grant(self, territory_id: str, sub: str, role: str, granted_by: str) -> bool:
        held = {(r.territory_id, r.sub, r.role) for r in self.roles_held}
        if (territory_id, sub, role) in held:
            return False
        self.roles_held.append(
            TerritoryRoleRow(territory_id=territory_id, sub=sub, role=role, granted_by=granted_by)
        )
        return True

    async def manages_any(self, sub: str, territory_ids: Collection[str]) -> bool:
        return any(role.sub == sub and role.territory_id in territory_ids for role in self.roles_held)

    async def project(self, project_id: str, *, for_update: bool = False) -> Project | None:
        return self.projects.get(project_id)

    async def save_project(self, project: Project) -> None:
        self.projects[project.project_id] = project

    async def pledges(self, project_id: str) -> list[Pledge]:
        return [pledge for pledge in self.ledger if pledge.project_id == project_id]

    # What pledging reads and writes of financing: no plan, no campaign here.

    async def plan(self, project_id: str) -> None:
        return None

    async def current_campaign_of(self, project_id: str) -> None:
        return None

    async def reference_taken(self, reference: str) -> bool:
        return any(pledge.reference == reference for pledge in self.ledger)

    async def add_financed_pledge(self, pledge: Pledge) -> None:
        self.ledger.append(pledge)

    async def member(self, member_id: str) -> MemberFacts | None:
        return self.members.get(member_id)

    async def was_erased(self, member_id: str) -> bool:
        member = self.members.get(member_id)
        return member is not None and member.erased

    async def remember_member(self, facts: MemberFacts, as_of: datetime) -> None:
        self.members[facts.member_id] = facts

    async def forget_member(self, member_id: str) -> tuple[list[tuple[str, str]], list[str]]:
        self.members[member_id] = MemberFacts(member_id, ERASED_KIND, [])
        self.ledger = [
            replace(pledge, member_id=None, reference=None) if pledge.member_id == member_id else pledge
            for pledge in self.ledger
        ]
        owned = sorted(key for key, project in self.projects.items() if project.owner_member_id == member_id)
        for project_id in owned:
            self.projects[project_id] = replace(self.projects[project_id], owner_member_id=ERASED_OWNER)
        roles = [(role.territory_id, role.role) for role in self.roles_held if role.sub == member_id]
        self.roles_held = [role for role in self.roles_held if role.sub != member_id]
        for key, facts in self.members.items():
            if member_id in facts.managers:
                self.members[key] = replace(facts, managers=[m for m in facts.managers if m != member_id])
        return roles, owned


Uow = InMemoryUnitOfWork[FakeProjects]


@pytest.fixture
def uow() -> Uow:
    return InMemoryUnitOfWork(FakeProjects())


@pytest.fixture
def handlers(uow: Uow) -> ProjectsHandlers:
    return ProjectsHandlers(lambda: uow, TAXONOMY)


@pytest.fixture
def financing(uow: Uow) -> FinancingHandlers:
    return FinancingHandlers(lambda: uow, FinancingRules({}, 30, (7, 21)))  # type: ignore[arg-type, return-value]


async def pledge(
    financing: FinancingHandlers,
    identity: Identity,
    project_id: str,
    amount: str,
    member_id: str | None = None,
) -> Receipt:
    return await financing.pledge(identity, project_id, PledgeIn(amount=amount, member_id=member_id))


async def consumed(uow: Uow, handlers: ProjectsHandlers, event: MemberRegistered) -> None:
    """What the service's consumer does with a member event: one unit of work, committed."""
    async with uow:
        await handlers.remember_member(event, datetime.now(UTC), uow)
        await uow.commit()


async def commune(handlers: ProjectsHandlers) -> str:
    region = await handlers.register_territory(
        OPERATOR, RegisterTerritory(name="Souss-Massa", country="MA", level="region")
    )
    tafraout = await handlers.register_territory(
        OPERATOR,
        RegisterTerritory(name="Tafraout", country="MA", level="commune", parent_id=region.territory_id),
    )
    return tafraout.territory_id


async def funded_project(handlers: ProjectsHandlers, owner: Identity, territory_id: str) -> Project:
    creation = CreateProject.model_validate(
        {
            "territory_id": territory_id,
            "title": "Health post",
            "summary": "Train two nurses.",
            "sector": "health",
            "needs": [NEED],
            "funding": GOAL,
        }
    )
    return await handlers.create_project(owner, creation)


async def test_an_operator_registers_nested_territories_and_a_member_registers_none(
    handlers: ProjectsHandlers, uow: Uow
) -> None:
    tafraout = await commune(handlers)
    assert uow.repository.territories_by_id[tafraout].parent_id is not None
    assert [type(event) for event in uow.published] == [TerritoryRegistered, TerritoryRegistered]
    with pytest.raises(Forbidden, match="only an operator or a community manager"):
        await handlers.register_territory(AMINA, RegisterTerritory(name="x", country="MA", level="commune"))
    with pytest.raises(InvalidField) as raised:
        await handlers.register_territory(
            OPERATOR, RegisterTerritory(name="x", country="MA", level="commune", parent_id="nowhere")
        )
    assert raised.value.field == "parent_id" and len(uow.published) == 2


async def test_a_territory_manager_creates_a_draft_and_a_person_alone_does_not(
    handlers: ProjectsHandlers, uow: Uow
) -> None:
    tafraout = await commune(handlers)
    with pytest.raises(Forbidden, match="local actors and associations"):
        await funded_project(handlers, AMINA, tafraout)
    await handlers.grant(OPERATOR, tafraout, "amina", "territory_manager")
    assert isinstance(uow.published[-1], TerritoryManagerNamed)
    published = len(uow.published)
    draft = await funded_project(handlers, AMINA, tafraout)
    assert draft.status == "draft" and draft.owner_member_id == "amina"
    assert uow.repository.projects[draft.project_id] == draft
    assert len(uow.published) == published, "a draft is not news"


async def test_an_association_manager_creates_for_the_association_once_projects_know_it(
    handlers: ProjectsHandlers, uow: Uow
) -> None:
    tafraout = await commune(handlers)
    association = MemberRegistered.model_validate(
        {
            "member_id": "tafraout-solidarite",
            "kind": "association",
            "display_name": "Tafraout Solidarité",
            "email": "contact@example.org",
            "locale": "fr",
            "country_of_residence": "BE",
            "time_zone": "Europe/Brussels",
            "managers": ["amina"],
        }
    )
    await consumed(uow, handlers, association)
    creation = CreateProject.model_validate(
        {
            "territory_id": tafraout,
            "owner_member_id": "tafraout-solidarite",
            "title": "Library",
            "summary": "Books.",
            "sector": "education",
        }
    )
    project = await handlers.create_project(AMINA, creation)
    assert project.owner_member_id == "tafraout-solidarite"
    with pytest.raises(Forbidden, match="you do not manage"):
        await handlers.create_project(FATIMA, creation)


async def test_a_project_is_published_updated_and_closed_each_with_its_event(
    handlers: ProjectsHandlers, uow: Uow
) -> None:
    tafraout = await commune(handlers)
    await handlers.grant(OPERATOR, tafraout, "amina", "territory_manager")
    draft = await funded_project(handlers, AMINA, tafraout)
    await handlers.edit(AMINA, draft.project_id, EditProject(title="Health post, draft 2"))
    published = len(uow.published)
    await handlers.publish(AMINA, draft.project_id)
    edited = await handlers.edit(AMINA, draft.project_id, EditProject(title="Health post, phase 2"))
    closed = await handlers.close(AMINA, draft.project_id, "completed")
    assert edited.title == "Health post, phase 2" and closed.status == "closed"
    events = uow.published[published:]
    assert [type(event) for event in events] == [ProjectPublished, ProjectUpdated, ProjectClosed]
    assert isinstance(events[1], ProjectUpdated) and events[1].title == "Health post, phase 2"
    with pytest.raises(IllegalTransition, match="closed"):
        await handlers.edit(AMINA, draft.project_id, EditProject(title="again"))
    with pytest.raises(Forbidden):
        await handlers.publish(FATIMA, draft.project_id)


async def test_pledges_add_up_and_the_one_that_reaches_the_goal_publishes_it_once(
    handlers: ProjectsHandlers, financing: FinancingHandlers, uow: Uow
) -> None:
    tafraout = await commune(handlers)
    await handlers.grant(OPERATOR, tafraout, "amina", "territory_manager")
    project = await funded_project(handlers, AMINA, tafraout)
    await handlers.publish(AMINA, project.project_id)
    published = len(uow.published)
    for donor, amount in (("fatima", "200"), ("youssef", "100.00"), ("omar", "50")):
        await pledge(financing, Identity(donor, frozenset({"member"})), project.project_id, amount)
    events = uow.published[published:]
    assert [type(event) for event in events] == [PledgeMade, PledgeMade, FundingGoalReached, PledgeMade]
    reached = events[2]
    assert isinstance(reached, FundingGoalReached) and reached.total == "300.00"
    assert uow.repository.projects[project.project_id].pledged_total == Decimal("350.00")
    assert [pledge.amount for pledge in uow.repository.ledger] == [
        Decimal("200.00"),
        Decimal("100.00"),
        Decimal("50.00"),
    ]


async def test_nobody_pledges_for_an_erased_member_nor_for_the_erased_marker(
    handlers: ProjectsHandlers, financing: FinancingHandlers, uow: Uow
) -> None:
    tafraout = await commune(handlers)
    await handlers.grant(OPERATOR, tafraout, "amina", "territory_manager")
    project = await funded_project(handlers, AMINA, tafraout)
    await handlers.publish(AMINA, project.project_id)
    async with uow:
        await handlers.forget_member("fatima", uow)
        await uow.commit()
    published = len(uow.published)
    for member_id in ("fatima", ERASED_OWNER):
        with pytest.raises(InvalidField) as raised:
            await pledge(financing, OPERATOR, project.project_id, "10", member_id)
        assert raised.value.field == "member_id"
    with pytest.raises(Forbidden, match=ERASED_IDENTITY):
        await pledge(financing, FATIMA, project.project_id, "10")
    assert len(uow.published) == published and uow.repository.ledger == []


async def test_erasing_an_owner_hands_its_projects_to_the_marker_and_its_token_acts_on_nothing(
    handlers: ProjectsHandlers, financing: FinancingHandlers, uow: Uow
) -> None:
    tafraout = await commune(handlers)
    await handlers.grant(OPERATOR, tafraout, "amina", "territory_manager")
    project = await funded_project(handlers, AMINA, tafraout)
    await handlers.publish(AMINA, project.project_id)
    receipt = await pledge(financing, AMINA, project.project_id, "10")
    assert receipt.pledge.reference is not None
    published = len(uow.published)

    async with uow:
        await handlers.forget_member("amina", uow)
        await uow.commit()

    removed, updated = uow.published[published:]
    assert isinstance(removed, TerritoryManagerRemoved) and removed.sub == "amina"
    assert isinstance(updated, ProjectUpdated) and updated.owner_member_id == ERASED_OWNER
    assert [(p.member_id, p.reference) for p in uow.repository.ledger] == [(None, None)]
    seen = await handlers.project(AMINA, project.project_id)
    assert seen.pledges is None, "an erased identity reads as nobody's"
    for act in (
        handlers.edit(AMINA, project.project_id, EditProject(title="Mine")),
        handlers.close(AMINA, project.project_id, "cancelled"),
        handlers.create_project(
            AMINA, CreateProject(territory_id=tafraout, title="x", summary="y", sector="health")
        ),
    ):
        with pytest.raises(Forbidden, match=ERASED_IDENTITY):
            await act
