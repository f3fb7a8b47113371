"""Use cases of the projects service."""

from __future__ import annotations

from typing import Any

from passerelle.contracts import CloudEvent, MemberProfile, ProjectPublished, TerritoryRegistered
from passerelle.persistence.database import Database, UnitOfWork
from passerelle.runtime.auth import Identity
from passerelle.runtime.problems import Problem, conflict, forbidden, invalid, not_found

from . import domain
from .domain import DomainError, IllegalTransition, MemberFacts, Project, Territory
from .repository import ProjectsRepository

TERRITORY_REGISTRARS = ("operator", "community_manager")


def _rule_broken(error: DomainError) -> Problem:
    return Problem(422, "Unprocessable Content", str(error))


class ProjectsHandlers:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def register_territory(self, identity: Identity, fields: dict[str, Any]) -> Territory:
        if not identity.has_any(*TERRITORY_REGISTRARS):
            raise forbidden("only an operator or a community manager registers territories")
        async with self.database.unit_of_work() as uow:
            repository = ProjectsRepository(uow.session)
            parent = None
            if fields.get("parent_id"):
                parent = await repository.territory(fields["parent_id"])
                if parent is None:
                    raise invalid("parent_id", f"territory {fields['parent_id']} does not exist")
            try:
                territory = domain.register_territory(fields, parent)
            except DomainError as error:
                raise _rule_broken(error) from error
            await repository.add_territory(territory)
            uow.record(TerritoryRegistered(**territory.__dict__))
            await uow.commit()
        return territory

    async def territories(self) -> list[Territory]:
        async with self.database.unit_of_work() as uow:
            return await ProjectsRepository(uow.session).territories()

    async def territory(self, territory_id: str) -> Territory:
        async with self.database.unit_of_work() as uow:
            territory = await ProjectsRepository(uow.session).territory(territory_id)
        if territory is None:
            raise not_found("territory", territory_id)
        return territory

    async def create_project(self, identity: Identity, fields: dict[str, Any]) -> Project:
        owner = fields.pop("owner_member_id", None) or identity.sub
        async with self.database.unit_of_work() as uow:
            repository = ProjectsRepository(uow.session)
            if await repository.territory(fields["territory_id"]) is None:
                raise invalid("territory_id", f"territory {fields['territory_id']} does not exist")
            if not identity.is_operator and owner != identity.sub:
                facts = await repository.member(owner)
                if facts is None or not facts.may_act_for(identity.sub):
                    raise forbidden(f"you do not manage member {owner}")
            try:
                project = domain.create_project(owner, fields)
            except DomainError as error:
                raise _rule_broken(error) from error
            await repository.save_project(project)
            await uow.commit()
        return project

    async def project(self, identity: Identity, project_id: str) -> Project:
        async with self.database.unit_of_work() as uow:
            repository = ProjectsRepository(uow.session)
            project = await self._load(repository, project_id)
            if project.status == domain.DRAFT:
                await self._authorize(repository, identity, project)
        return project

    async def projects(self, territory_id: str | None, status: str | None) -> list[Project]:
        async with self.database.unit_of_work() as uow:
            found = await ProjectsRepository(uow.session).projects(territory_id, status or None)
        return [project for project in found if project.status != domain.DRAFT or status == domain.DRAFT]

    async def publish(self, identity: Identity, project_id: str) -> Project:
        async with self.database.unit_of_work() as uow:
            repository = ProjectsRepository(uow.session)
            project = await self._load(repository, project_id, for_update=True)
            await self._authorize(repository, identity, project)
            try:
                project = project.publish()
            except IllegalTransition as error:
                raise conflict(str(error)) from error
            except DomainError as error:
                raise _rule_broken(error) from error
            await repository.save_project(project)
            uow.record(ProjectPublished(**project.snapshot()))
            await uow.commit()
        return project

    async def remember_member(self, event: CloudEvent[MemberProfile], uow: UnitOfWork) -> None:
        facts = MemberFacts(event.data.member_id, event.data.kind, list(event.data.managers))
        await ProjectsRepository(uow.session).remember_member(facts, as_of=event.time)

    async def forget_member(self, member_id: str, uow: UnitOfWork) -> None:
        await ProjectsRepository(uow.session).forget_member(member_id)

    @staticmethod
    async def _load(repository: ProjectsRepository, project_id: str, for_update: bool = False) -> Project:
        project = await repository.project(project_id, for_update=for_update)
        if project is None:
            raise not_found("project", project_id)
        return project

    @staticmethod
    async def _authorize(repository: ProjectsRepository, identity: Identity, project: Project) -> None:
        """The owner, someone who manages the owning member, or an operator acts on a project."""
        if identity.is_operator or identity.sub == project.owner_member_id:
            return
        owner = await repository.member(project.owner_member_id)
        if owner is None or not owner.may_act_for(identity.sub):
            raise forbidden("only the project's owner, its managers or an operator act on this project")
