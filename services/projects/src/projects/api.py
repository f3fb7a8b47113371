"""HTTP routes of the projects service."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from passerelle.contracts.types import Level, Mode, SkillCode, TerritoryLevel
from passerelle.runtime.auth import CurrentIdentity
from passerelle.validation import KnownCountry, KnownCurrency, KnownLanguage
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .domain import Project, Territory
from .handlers import ProjectsHandlers

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Amount = Annotated[str, StringConstraints(pattern=r"^\d{1,13}(\.\d{1,2})?$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterTerritory(Strict):
    name: Text
    country: KnownCountry
    level: TerritoryLevel
    parent_id: str | None = None


class TerritoryOut(BaseModel):
    territory_id: str
    name: str
    country: str
    level: TerritoryLevel
    parent_id: str | None

    @classmethod
    def of(cls, territory: Territory) -> TerritoryOut:
        return cls(**asdict(territory))


class NeedIn(Strict):
    skill: SkillCode
    min_level: Level = 1
    mode: Mode
    count: int = Field(default=1, ge=1, le=1000)
    starts_on: date | None = None
    ends_on: date | None = None


class FundingIn(Strict):
    goal_amount: Amount = Field(description="A decimal string, e.g. '12000.00'")
    currency: KnownCurrency


class CreateProject(Strict):
    territory_id: str
    owner_member_id: str | None = Field(default=None, description="Default: the caller")
    title: Text
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    sector: Text
    languages: list[KnownLanguage] = Field(default_factory=list, max_length=20)
    needs: list[NeedIn] = Field(default_factory=list, max_length=30)
    funding: FundingIn | None = None


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
    funding: FundingIn | None
    status: Literal["draft", "published", "closed"]
    outcome: str | None

    @classmethod
    def of(cls, project: Project) -> ProjectOut:
        return cls.model_validate(asdict(project))


def build_router(handlers: ProjectsHandlers) -> APIRouter:
    router = APIRouter()

    @router.post("/territories", status_code=status.HTTP_201_CREATED, tags=["territories"])
    async def register_territory(body: RegisterTerritory, identity: CurrentIdentity) -> TerritoryOut:
        """Register a commune, province, region or country (operator or community manager)."""
        return TerritoryOut.of(await handlers.register_territory(identity, body.model_dump()))

    @router.get("/territories", tags=["territories"])
    async def list_territories(identity: CurrentIdentity) -> list[TerritoryOut]:
        return [TerritoryOut.of(territory) for territory in await handlers.territories()]

    @router.get("/territories/{territory_id}", tags=["territories"])
    async def read_territory(territory_id: str, identity: CurrentIdentity) -> TerritoryOut:
        return TerritoryOut.of(await handlers.territory(territory_id))

    @router.post("/projects", status_code=status.HTTP_201_CREATED, tags=["projects"])
    async def create_project(body: CreateProject, identity: CurrentIdentity) -> ProjectOut:
        """Create a project as a draft, for yourself or a local actor you manage."""
        return ProjectOut.of(await handlers.create_project(identity, body.model_dump(mode="json")))

    @router.get("/projects", tags=["projects"])
    async def list_projects(
        identity: CurrentIdentity,
        territory_id: str | None = None,
        project_status: Annotated[Literal["published", "closed"] | None, Query(alias="status")] = None,
    ) -> list[ProjectOut]:
        return [ProjectOut.of(project) for project in await handlers.projects(territory_id, project_status)]

    @router.get("/projects/{project_id}", tags=["projects"])
    async def read_project(project_id: str, identity: CurrentIdentity) -> ProjectOut:
        return ProjectOut.of(await handlers.project(identity, project_id))

    @router.post("/projects/{project_id}/publish", tags=["projects"])
    async def publish_project(project_id: str, identity: CurrentIdentity) -> ProjectOut:
        """Open a complete draft to the diaspora (emits ProjectPublished)."""
        return ProjectOut.of(await handlers.publish(identity, project_id))

    return router
