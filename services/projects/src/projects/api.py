"""HTTP routes of the projects service: parse, authorize (in the handlers), render."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from passerelle.contracts.types import ProjectOutcome, TerritoryLevel
from passerelle.runtime.auth import CurrentIdentity
from passerelle.runtime.idempotency import IDEMPOTENT
from passerelle.runtime.pagination import Limit, Offset, describe_page
from passerelle.validation import KnownCountry
from pydantic import BaseModel, ConfigDict, Field

from .commands import (
    Code,
    CreateProject,
    EditProject,
    NeedIn,
    RegisterTerritory,
    Strict,
)
from .domain import Project, Territory
from .handlers import ProjectsHandlers, ProjectView, TerritoryView
from .orm import PledgeRow
from .repository import ProjectSearch

TerritoryRole = Literal["territory_manager", "community_manager"]
Status = Literal["draft", "published", "closed"]


class TerritoryOut(BaseModel):
    territory_id: str
    name: str
    country: str
    level: TerritoryLevel
    parent_id: str | None

    @classmethod
    def of(cls, territory: Territory) -> TerritoryOut:
        return cls.model_validate(asdict(territory))


class RoleOut(BaseModel):
    sub: str
    role: TerritoryRole
    granted_by: str
    granted_at: datetime


class TerritoryDetail(TerritoryOut):
    managers: list[RoleOut] = Field(description="Territory and community managers named for it")
    descendants: list[TerritoryOut] | None = Field(
        description="With ?descendants=true: every territory under it"
    )

    @classmethod
    def of_view(cls, view: TerritoryView) -> TerritoryDetail:
        return cls(
            **asdict(view.territory),
            managers=[
                RoleOut(sub=role.sub, role=role.role, granted_by=role.granted_by, granted_at=role.granted_at)
                for role in view.roles
            ],
            descendants=None if view.descendants is None else [TerritoryOut.of(t) for t in view.descendants],
        )


class GrantRole(Strict):
    sub: Code = Field(description="The identity (token `sub`) who manages the territory and those under it")
    role: TerritoryRole = "territory_manager"


class FundingOut(BaseModel):
    goal_amount: str
    currency: str


class CloseProject(Strict):
    outcome: ProjectOutcome


class PledgeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    pledge_id: str
    project_id: str
    member_id: str | None = Field(description="null once the member was erased; the amount stays")
    amount: str
    currency: str
    pledged_at: datetime

    @classmethod
    def of(cls, row: PledgeRow) -> PledgeOut:
        return cls(
            pledge_id=row.pledge_id,
            project_id=row.project_id,
            member_id=row.member_id,
            amount=f"{row.amount:.2f}",
            currency=row.currency,
            pledged_at=row.pledged_at,
        )


class NeedOut(NeedIn):
    need_id: str


class ProjectOut(BaseModel):
    project_id: str
    territory_id: str
    owner_member_id: str
    title: str
    summary: str
    sector: str
    languages: list[str]
    needs: list[NeedOut]
    funding: FundingOut | None
    source_idea_ids: list[str]
    status: Status
    outcome: ProjectOutcome | None
    pledged_total: str = Field(description="Sum of the pledges, a decimal string in the funding currency")
    goal_reached_at: datetime | None
    pledges: list[PledgeOut] | None = Field(
        default=None, description="Shown to those who may act on the project (owner, managers, operators)"
    )

    @classmethod
    def of(cls, project: Project, pledges: list[PledgeRow] | None = None) -> ProjectOut:
        fields = {**asdict(project), "pledged_total": f"{project.pledged_total:.2f}"}
        return cls.model_validate(
            {**fields, "pledges": None if pledges is None else [PledgeOut.of(p) for p in pledges]}
        )


def build_router(handlers: ProjectsHandlers) -> APIRouter:
    router = APIRouter()

    @router.post("/territories", status_code=status.HTTP_201_CREATED, tags=["territories"])
    async def register_territory(body: RegisterTerritory, identity: CurrentIdentity) -> TerritoryOut:
        """Register a commune, province, region or country (operator or community manager)."""
        return TerritoryOut.of(await handlers.register_territory(identity, body))

    @router.get("/territories", tags=["territories"])
    async def list_territories(
        identity: CurrentIdentity,
        within: Annotated[Code | None, Query(description="This territory and every one under it")] = None,
        country: Annotated[KnownCountry | None, Query()] = None,
        level: Annotated[TerritoryLevel | None, Query()] = None,
    ) -> list[TerritoryOut]:
        return [TerritoryOut.of(t) for t in await handlers.territories(within, country, level)]

    @router.get("/territories/{territory_id}", tags=["territories"])
    async def read_territory(
        territory_id: str,
        identity: CurrentIdentity,
        descendants: Annotated[bool, Query(description="Include every territory under it")] = False,
    ) -> TerritoryDetail:
        return TerritoryDetail.of_view(await handlers.territory(territory_id, descendants))

    @router.post(
        "/territories/{territory_id}/managers", status_code=status.HTTP_201_CREATED, tags=["territories"]
    )
    async def name_manager(territory_id: str, body: GrantRole, identity: CurrentIdentity) -> TerritoryDetail:
        """Name a territory or community manager (operator or community manager only)."""
        return TerritoryDetail.of_view(await handlers.grant(identity, territory_id, body.sub, body.role))

    @router.delete(
        "/territories/{territory_id}/managers/{sub}",
        status_code=status.HTTP_204_NO_CONTENT,
        tags=["territories"],
    )
    async def remove_manager(
        territory_id: str, sub: str, identity: CurrentIdentity, role: TerritoryRole = "territory_manager"
    ) -> Response:
        await handlers.revoke(identity, territory_id, sub, role)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post(
        "/projects", status_code=status.HTTP_201_CREATED, tags=["projects"], dependencies=[IDEMPOTENT]
    )
    async def create_project(body: CreateProject, identity: CurrentIdentity) -> ProjectOut:
        """Create a project as a draft: for a local actor or association you manage, or as a manager
        of the territory."""
        return ProjectOut.of(await handlers.create_project(identity, body))

    @router.get("/projects", tags=["projects"])
    async def list_projects(
        identity: CurrentIdentity,
        request: Request,
        response: Response,
        territory_id: Annotated[
            Code | None, Query(description="This territory and every one under it")
        ] = None,
        project_status: Annotated[
            Status | None, Query(alias="status", description="Default: published and closed")
        ] = None,
        sector: Annotated[Code | None, Query()] = None,
        skill: Annotated[Code | None, Query(description="A need for this skill or a narrower one")] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> list[ProjectOut]:
        """Projects, newest first; drafts only where you may act. `X-Total-Count` and `Link` page it."""
        statuses = (project_status,) if project_status else ("published", "closed")
        wanted = ProjectSearch(territory_id=territory_id, statuses=statuses, sector=sector)
        found, total = await handlers.projects(identity, wanted, skill, limit, offset)
        describe_page(request, response, total=total, limit=limit, offset=offset, shown=len(found))
        return [ProjectOut.of(project) for project in found]

    @router.get("/projects/{project_id}", tags=["projects"])
    async def read_project(project_id: str, identity: CurrentIdentity) -> ProjectOut:
        view: ProjectView = await handlers.project(identity, project_id)
        return ProjectOut.of(view.project, view.pledges)

    @router.patch("/projects/{project_id}", tags=["projects"])
    async def edit_project(project_id: str, body: EditProject, identity: CurrentIdentity) -> ProjectOut:
        """Edit a draft freely; editing a published project emits ProjectUpdated."""
        return ProjectOut.of(await handlers.edit(identity, project_id, body))

    @router.post("/projects/{project_id}/publish", tags=["projects"])
    async def publish_project(project_id: str, identity: CurrentIdentity) -> ProjectOut:
        """Open a complete draft to the diaspora (emits ProjectPublished)."""
        return ProjectOut.of(await handlers.publish(identity, project_id))

    @router.post("/projects/{project_id}/close", tags=["projects"])
    async def close_project(project_id: str, body: CloseProject, identity: CurrentIdentity) -> ProjectOut:
        """End a published project, completed or cancelled (emits ProjectClosed)."""
        return ProjectOut.of(await handlers.close(identity, project_id, body.outcome))

    return router
