"""Use cases of the projects service: one unit of work each, events recorded in the outbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from passerelle.contracts import (
    FundingGoalReached,
    MemberProfile,
    ProjectClosed,
    ProjectPublished,
    ProjectUpdated,
    TerritoryManagerNamed,
    TerritoryManagerRemoved,
    TerritoryRegistered,
)
from passerelle.errors import Forbidden, InvalidField, NotFound
from passerelle.identity import ERASED_IDENTITY, Identity, grantee_fault
from passerelle.taxonomy import Taxonomy
from passerelle.unit_of_work import UnitOfWork

from . import domain
from .commands import CreateProject, EditProject, RegisterTerritory
from .domain import (
    DRAFT,
    PROJECT_OWNER_KINDS,
    PUBLISHED,
    MemberFacts,
    Project,
    Territory,
)
from .orm import PledgeRow, TerritoryRoleRow
from .repository import DraftReaders, ProjectSearch, ProjectsRepository

# The unit of work of one use case or consumed event, whose `repository` holds the service's state.
ProjectsUnitOfWork = UnitOfWork[ProjectsRepository]
Units = Callable[[], ProjectsUnitOfWork]
TERRITORY_REGISTRARS = ("operator", "community_manager")
MAY_NOT_ACT = (
    "only the project's owner, those who manage it, a manager of its territory or an operator act on it"
)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class TerritoryView:
    territory: Territory
    roles: list[TerritoryRoleRow]
    descendants: list[Territory] | None


@dataclass(frozen=True)
class ProjectView:
    """A project, with its pledges when the caller may act on it (None otherwise)."""

    project: Project
    pledges: list[PledgeRow] | None


class ProjectsHandlers:
    def __init__(self, units: Units, taxonomy: Taxonomy) -> None:
        self.units = units
        self.taxonomy = taxonomy

    # Territories

    async def register_territory(self, identity: Identity, registration: RegisterTerritory) -> Territory:
        async with self.units() as uow:
            repository = uow.repository
            actor = await self._actor(repository, identity)
            if not actor.has_any(*TERRITORY_REGISTRARS):
                raise Forbidden("only an operator or a community manager registers territories")
            parent = None
            if registration.parent_id:
                parent = await repository.territory(registration.parent_id)
                if parent is None:
                    raise InvalidField("parent_id", f"territory {registration.parent_id} does not exist")
            territory = domain.register_territory(registration, parent)
            await repository.add_territory(territory)
            uow.record(TerritoryRegistered(**territory.__dict__))
            await uow.commit()
        return territory

    async def territories(
        self, within: str | None, country: str | None, level: str | None
    ) -> list[Territory]:
        async with self.units() as uow:
            repository = uow.repository
            if within and await repository.territory(within) is None:
                raise InvalidField("within", f"territory {within} does not exist")
            return await repository.territories(within, country, level)

    async def territory(self, territory_id: str, with_descendants: bool) -> TerritoryView:
        async with self.units() as uow:
            repository = uow.repository
            territory = await repository.territory(territory_id)
            if territory is None:
                raise NotFound("territory", territory_id)
            descendants = None
            if with_descendants:
                below = await repository.territories(within=territory_id)
                descendants = [t for t in below if t.territory_id != territory_id]
            return TerritoryView(territory, await repository.roles(territory_id), descendants)

    async def grant(self, identity: Identity, territory_id: str, sub: str, role: str) -> TerritoryView:
        async with self.units() as uow:
            repository = uow.repository
            actor = await self._actor(repository, identity)
            if not actor.has_any(*TERRITORY_REGISTRARS):
                raise Forbidden("only an operator or a community manager names a territory's managers")
            await self._check_grantee(repository, "sub", sub)
            if await repository.territory(territory_id) is None:
                raise NotFound("territory", territory_id)
            if await repository.grant(territory_id, sub, role, actor.sub):
                uow.record(TerritoryManagerNamed(territory_id=territory_id, sub=sub, role=role))
                await uow.commit()
        return await self.territory(territory_id, with_descendants=False)

    async def revoke(self, identity: Identity, territory_id: str, sub: str, role: str) -> None:
        async with self.units() as uow:
            repository = uow.repository
            actor = await self._actor(repository, identity)
            if not actor.has_any(*TERRITORY_REGISTRARS):
                raise Forbidden("only an operator or a community manager names a territory's managers")
            if not await repository.revoke(territory_id, sub, role):
                raise NotFound(f"{role} of territory {territory_id}", sub)
            uow.record(TerritoryManagerRemoved(territory_id=territory_id, sub=sub, role=role))
            await uow.commit()

    # Projects

    async def create_project(self, identity: Identity, creation: CreateProject) -> Project:
        owner_id = creation.owner_member_id or identity.sub
        territory_id = creation.territory_id
        async with self.units() as uow:
            repository = uow.repository
            if await repository.territory(territory_id) is None:
                raise InvalidField("territory_id", f"territory {territory_id} does not exist")
            actor = await self._actor(repository, identity)
            await self._authorize_creation(repository, actor, owner_id, territory_id)
            await self._check_grantee(repository, "owner_member_id", owner_id)
            project = domain.create_project(owner_id, creation, self.taxonomy)
            await repository.save_project(project)
            await uow.commit()
        return project

    async def project(self, identity: Identity, project_id: str) -> ProjectView:
        async with self.units() as uow:
            repository = uow.repository
            project = await self._load(repository, project_id)
            reader = await self._reader(repository, identity)
            may_act = reader is not None and await self._may_act(repository, reader, project)
            if project.status == DRAFT and not may_act:
                raise Forbidden("a draft is visible only to those who may act on it")
            return ProjectView(project, await repository.pledges(project_id) if may_act else None)

    async def projects(
        self, identity: Identity, wanted: ProjectSearch, skill: str | None, limit: int, offset: int
    ) -> tuple[list[Project], int]:
        """Projects matching the filters; drafts only where the caller may act. A skill also finds
        needs for its narrower skills; a territory, the projects of the territories under it."""
        if skill is not None:
            if skill not in self.taxonomy:
                raise InvalidField("skill", f"unknown skill code {skill!r}")
            wanted = ProjectSearch(**{**vars(wanted), "skills": self.taxonomy.descendants(skill)})
        async with self.units() as uow:
            repository = uow.repository
            if wanted.territory_id and await repository.territory(wanted.territory_id) is None:
                raise InvalidField("territory_id", f"territory {wanted.territory_id} does not exist")
            reader = await self._reader(repository, identity)
            drafts = None
            if reader is None:
                drafts = DraftReaders([], [])
            elif not reader.is_operator:
                owners = [reader.sub, *await repository.members_managed_by(reader.sub)]
                drafts = DraftReaders(owners, await repository.territories_managed_by(reader.sub))
            return await repository.search(wanted, drafts, limit, offset)

    async def edit(self, identity: Identity, project_id: str, edit: EditProject) -> Project:
        async with self.units() as uow:
            repository = uow.repository
            before = await self._load_for_action(repository, identity, project_id)
            moved_to = edit.territory_id if "territory_id" in edit.model_fields_set else None
            if moved_to is not None and await repository.territory(moved_to) is None:
                raise InvalidField("territory_id", f"territory {moved_to} does not exist")
            now = _now()
            project = before.edited(edit, self.taxonomy, now)
            if project == before:
                return project
            await repository.save_project(project)
            if project.status == PUBLISHED:
                uow.record(ProjectUpdated(**project.snapshot()))
                self._record_goal_reached(uow, before, project)
            await uow.commit()
        return project

    async def publish(self, identity: Identity, project_id: str) -> Project:
        async with self.units() as uow:
            repository = uow.repository
            project = await self._load_for_action(repository, identity, project_id)
            project = project.publish()
            await repository.save_project(project)
            uow.record(ProjectPublished(**project.snapshot()))
            await uow.commit()
        return project

    async def close(self, identity: Identity, project_id: str, outcome: str) -> Project:
        async with self.units() as uow:
            repository = uow.repository
            project = await self._load_for_action(repository, identity, project_id)
            project = project.close(outcome)
            await repository.save_project(project)
            uow.record(ProjectClosed(project_id=project_id, outcome=outcome))
            await uow.commit()
        return project

    # What projects learns from the members service

    async def remember_member(self, profile: MemberProfile, as_of: datetime, uow: ProjectsUnitOfWork) -> None:
        attachments = [attachment.model_dump() for attachment in profile.attachments]
        facts = MemberFacts(profile.member_id, profile.kind, list(profile.managers), attachments)
        await uow.repository.remember_member(facts, as_of=as_of)

    async def forget_member(self, member_id: str, uow: ProjectsUnitOfWork) -> None:
        """The erased identity loses every right; its published projects are published again with
        their new owner, so that the last snapshot of each is what is stored."""
        repository = uow.repository
        roles, owned = await repository.forget_member(member_id)
        for territory_id, role in roles:
            uow.record(TerritoryManagerRemoved(territory_id=territory_id, sub=member_id, role=role))
        for project_id in owned:
            project = await self._load(repository, project_id)
            if project.status == PUBLISHED:
                uow.record(ProjectUpdated(**project.snapshot()))

    # Who may do what

    @staticmethod
    def _record_goal_reached(uow: ProjectsUnitOfWork, before: Project, after: Project) -> None:
        if before.goal_reached_at is None and after.goal_reached_at is not None and after.funding:
            uow.record(
                FundingGoalReached(
                    project_id=after.project_id,
                    total=str(after.pledged_total),
                    currency=after.funding["currency"],
                )
            )

    @staticmethod
    async def _load(repository: ProjectsRepository, project_id: str, *, for_update: bool = False) -> Project:
        project = await repository.project(project_id, for_update=for_update)
        if project is None:
            raise NotFound("project", project_id)
        return project

    async def _load_for_action(
        self, repository: ProjectsRepository, identity: Identity, project_id: str
    ) -> Project:
        actor = await self._actor(repository, identity)
        project = await self._load(repository, project_id, for_update=True)
        if not await self._may_act(repository, actor, project):
            raise Forbidden(MAY_NOT_ACT)
        return project

    @staticmethod
    async def _reader(repository: ProjectsRepository, identity: Identity) -> Identity | None:
        """Who makes the request: erasure is resolved here, for every use case. An erased identity's
        token, valid until it expires, reads as nobody's (None) and acts on nothing (see `_actor`)."""
        return None if await repository.was_erased(identity.sub) else identity

    @staticmethod
    async def _actor(repository: ProjectsRepository, identity: Identity) -> Identity:
        actor = await ProjectsHandlers._reader(repository, identity)
        if actor is None:
            raise Forbidden(ERASED_IDENTITY)
        return actor

    @staticmethod
    async def _check_grantee(repository: ProjectsRepository, field: str, sub: str) -> None:
        fault = await grantee_fault(sub, repository.was_erased)
        if fault is not None:
            raise InvalidField(field, f"{sub!r} cannot be named here: {fault}")

    @staticmethod
    async def _may_act(repository: ProjectsRepository, actor: Identity, project: Project) -> bool:
        """The owner, whoever manages the owning member, a manager of the project's territory or of a
        territory above it, or an operator. `actor` is not erased (`_actor`), and no identity is the
        erased marker that owns an erased owner's projects."""
        if actor.is_operator or actor.sub == project.owner_member_id:
            return True
        owner = await repository.member(project.owner_member_id)
        if owner is not None and owner.may_act_for(actor.sub):
            return True
        return await repository.manages_any(actor.sub, await repository.lineage(project.territory_id))

    @staticmethod
    async def _authorize_creation(
        repository: ProjectsRepository, actor: Identity, owner_id: str, territory_id: str
    ) -> None:
        """A local actor or an association (through its managers) runs projects, and so does a
        manager of the territory; an operator creates for anyone."""
        if actor.is_operator:
            return
        manages_territory = await repository.manages_any(actor.sub, await repository.lineage(territory_id))
        if owner_id == actor.sub:
            if not manages_territory:
                raise Forbidden(
                    "projects are run by local actors and associations, or by a manager of the territory: "
                    "give owner_member_id, the member you manage"
                )
            return
        owner = await repository.member(owner_id)
        if owner is None or not owner.may_act_for(actor.sub):
            raise Forbidden(f"you do not manage member {owner_id}")
        if owner.kind not in PROJECT_OWNER_KINDS and not manages_territory:
            raise Forbidden("projects are run by local actors and associations, not by a person")

    @staticmethod
    async def _authorize_pledge(repository: ProjectsRepository, actor: Identity, member_id: str) -> None:
        """One pledges for oneself, for a member one manages, or, as an operator, for anyone; the
        ledger names only members who may sign in: never an erased one, nor the marker."""
        if member_id == actor.sub:
            return
        await ProjectsHandlers._check_grantee(repository, "member_id", member_id)
        if actor.is_operator:
            return
        facts = await repository.member(member_id)
        if facts is None or not facts.may_act_for(actor.sub):
            raise Forbidden(f"you do not pledge for member {member_id}: you do not manage it")
