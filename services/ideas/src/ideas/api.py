"""HTTP routes of the ideas service: parse a typed command, call a handler, render."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from passerelle.contracts.ideas import (
    Axis,
    ContributionKind,
    IdeaKind,
    IdeaStatus,
    Phase,
    PhaseName,
    PlanStatus,
)
from passerelle.runtime.auth import CurrentIdentity
from passerelle.runtime.idempotency import IDEMPOTENT
from passerelle.runtime.pagination import Limit, Offset, describe_page
from pydantic import BaseModel, ConfigDict, Field

from .commands import ActAs, Answer, Code, Contribute, CreatePlan, EditPlan, Link, PostIdea, Report
from .domain import ADOPTED, ARCHIVED, Breakdown, Plan
from .handlers import AxisPriorities, IdeasHandlers, IdeaView
from .repository import IdeaSearch


class PlanOut(BaseModel):
    plan_id: str
    territory_id: str
    title: str
    period_from: date
    period_to: date
    axes: list[Axis]
    phases: list[Phase]
    status: PlanStatus
    current_phase: PhaseName | None = Field(description="The phase today falls in; null before or after")

    @classmethod
    def of(cls, plan: Plan, today: date) -> PlanOut:
        current = plan.phase_on(today)
        return cls.model_validate({**plan.snapshot(), "current_phase": current["phase"] if current else None})


class SupportsOut(BaseModel):
    total: int
    by_bond: dict[Literal["origin", "family", "heart"], int]
    by_residence: dict[Literal["in_country", "abroad"], int]

    @classmethod
    def of(cls, breakdown: Breakdown) -> SupportsOut:
        return cls.model_validate(asdict(breakdown))


class LinkOut(BaseModel):
    kind: Literal["project", "gathering", "opportunity"]
    id: str


class IdeaOut(BaseModel):
    idea_id: str
    territory_id: str
    author_member_id: str = Field(description="`erased` once the author is erased")
    kind: IdeaKind
    title: str
    body: str
    language: str
    plan_id: str | None
    axis_id: str | None
    sector: str | None
    status: IdeaStatus
    answer: str | None
    answered_at: datetime | None
    hidden: bool
    links: list[LinkOut] = Field(description="The projects, gatherings and opportunities it led to")
    created_at: datetime
    supports: SupportsOut

    @classmethod
    def of(cls, view: IdeaView) -> IdeaOut:
        return cls.model_validate({**asdict(view.idea), "supports": SupportsOut.of(view.supports)})


class RankedIdea(BaseModel):
    idea_id: str
    title: str
    kind: IdeaKind
    status: IdeaStatus
    supports: SupportsOut


class AxisRanking(BaseModel):
    axis_id: str | None = Field(description="null: the plan's ideas on none of its axes")
    title: str | None
    ideas: list[RankedIdea] = Field(description="Most supported first")

    @classmethod
    def of(cls, priorities: AxisPriorities) -> AxisRanking:
        axis = priorities.axis or {"axis_id": None, "title": None}
        ideas = [
            RankedIdea(supports=SupportsOut.of(view.supports), **asdict(view.idea))
            for view in priorities.ideas
        ]
        return cls(axis_id=axis["axis_id"], title=axis["title"], ideas=ideas)


class PrioritiesOut(BaseModel):
    plan_id: str
    axes: list[AxisRanking]


class ContributionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    contribution_id: str
    idea_id: str
    author_member_id: str
    kind: ContributionKind
    body: str
    parent_id: str | None
    created_at: datetime


class ReportOut(BaseModel):
    idea_id: str
    hidden: bool = Field(description="The idea is hidden until a manager decides")


def build_router(handlers: IdeasHandlers) -> APIRouter:
    router = APIRouter()
    router.include_router(_plan_routes(handlers))
    router.include_router(_idea_routes(handlers))
    return router


def _plan_routes(handlers: IdeasHandlers) -> APIRouter:
    router = APIRouter()

    def plan_out(plan: Plan) -> PlanOut:
        return PlanOut.of(plan, handlers.today())

    @router.post("/plans", status_code=status.HTTP_201_CREATED, tags=["plans"], dependencies=[IDEMPOTENT])
    async def create_plan(body: CreatePlan, identity: CurrentIdentity) -> PlanOut:
        """A territory's development plan, as a draft (managers of the territory or above)."""
        return plan_out(await handlers.create_plan(identity, body))

    @router.patch("/plans/{plan_id}", tags=["plans"])
    async def edit_plan(plan_id: str, body: EditPlan, identity: CurrentIdentity) -> PlanOut:
        """Change a draft or published plan (a published one emits PlanUpdated)."""
        return plan_out(await handlers.edit_plan(identity, plan_id, body))

    @router.post("/plans/{plan_id}/publish", tags=["plans"])
    async def publish_plan(plan_id: str, identity: CurrentIdentity) -> PlanOut:
        """Open a draft plan to the territory's members (PlanPublished, and the phase it is in)."""
        return plan_out(await handlers.publish_plan(identity, plan_id))

    @router.post("/plans/{plan_id}/adopt", tags=["plans"])
    async def adopt_plan(plan_id: str, identity: CurrentIdentity) -> PlanOut:
        return plan_out(await handlers.move_plan(identity, plan_id, ADOPTED))

    @router.post("/plans/{plan_id}/archive", tags=["plans"])
    async def archive_plan(plan_id: str, identity: CurrentIdentity) -> PlanOut:
        return plan_out(await handlers.move_plan(identity, plan_id, ARCHIVED))

    @router.get("/plans", tags=["plans"])
    async def list_plans(
        identity: CurrentIdentity,
        request: Request,
        response: Response,
        territory_id: Annotated[
            Code | None, Query(description="This territory and every one under it")
        ] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> list[PlanOut]:
        """Published, adopted and archived plans, newest first."""
        found, total = await handlers.plans(territory_id, limit, offset)
        describe_page(request, response, total=total, limit=limit, offset=offset, shown=len(found))
        return [plan_out(plan) for plan in found]

    @router.get("/plans/{plan_id}", tags=["plans"])
    async def read_plan(plan_id: str, identity: CurrentIdentity) -> PlanOut:
        return plan_out(await handlers.plan(identity, plan_id))

    @router.get("/plans/{plan_id}/priorities", tags=["plans"])
    async def priorities(plan_id: str, identity: CurrentIdentity) -> PrioritiesOut:
        """The plan's ideas ranked by support per axis, with the bond and residence breakdowns."""
        ranking = await handlers.priorities(identity, plan_id)
        return PrioritiesOut(plan_id=plan_id, axes=[AxisRanking.of(axis) for axis in ranking])

    return router


def _idea_routes(handlers: IdeasHandlers) -> APIRouter:
    router = APIRouter()

    @router.post("/ideas", status_code=status.HTTP_201_CREATED, tags=["ideas"], dependencies=[IDEMPOTENT])
    async def post_idea(body: PostIdea, identity: CurrentIdentity) -> IdeaOut:
        """Post an idea, a need, information or an opportunity tip for a territory you are attached to
        (or one above or below it); for a plan, during its `ideas` phase."""
        idea = await handlers.post_idea(identity, body)
        return IdeaOut.of(IdeaView(idea, Breakdown()))

    @router.get("/ideas", tags=["ideas"])
    async def list_ideas(
        identity: CurrentIdentity,
        request: Request,
        response: Response,
        territory_id: Annotated[
            Code | None, Query(description="This territory and every one under it")
        ] = None,
        plan_id: Annotated[Code | None, Query()] = None,
        axis_id: Annotated[Code | None, Query()] = None,
        kind: Annotated[IdeaKind | None, Query()] = None,
        idea_status: Annotated[IdeaStatus | None, Query(alias="status")] = None,
        sort: Annotated[Literal["recent", "supports"], Query()] = "recent",
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> list[IdeaOut]:
        wanted = IdeaSearch(territory_id, plan_id, axis_id, kind, idea_status, sort)
        found, total = await handlers.ideas(identity, wanted, limit, offset)
        describe_page(request, response, total=total, limit=limit, offset=offset, shown=len(found))
        return [IdeaOut.of(view) for view in found]

    @router.get("/ideas/{idea_id}", tags=["ideas"])
    async def read_idea(idea_id: str, identity: CurrentIdentity) -> IdeaOut:
        return IdeaOut.of(await handlers.idea(identity, idea_id))

    @router.post("/ideas/{idea_id}/withdraw", tags=["ideas"])
    async def withdraw_idea(idea_id: str, identity: CurrentIdentity) -> IdeaOut:
        """Its author takes it back, while it is published or being evaluated."""
        await handlers.withdraw(identity, idea_id)
        return IdeaOut.of(await handlers.idea(identity, idea_id))

    @router.post(
        "/ideas/{idea_id}/supports",
        status_code=status.HTTP_201_CREATED,
        tags=["ideas"],
        dependencies=[IDEMPOTENT],
    )
    async def support(idea_id: str, identity: CurrentIdentity, body: ActAs | None = None) -> IdeaOut:
        """Support an idea (once; again is a 409), as a member attached to its place."""
        return IdeaOut.of(await handlers.support(identity, idea_id, body.member_id if body else None))

    @router.delete("/ideas/{idea_id}/supports", status_code=status.HTTP_204_NO_CONTENT, tags=["ideas"])
    async def withdraw_support(
        idea_id: str,
        identity: CurrentIdentity,
        member_id: Annotated[Code | None, Query(description="Default: the caller")] = None,
    ) -> Response:
        await handlers.withdraw_support(identity, idea_id, member_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post(
        "/ideas/{idea_id}/contributions",
        status_code=status.HTTP_201_CREATED,
        tags=["ideas"],
        dependencies=[IDEMPOTENT],
    )
    async def contribute(idea_id: str, body: Contribute, identity: CurrentIdentity) -> ContributionOut:
        """A comment or a proposed improvement, or a reply to one (one level)."""
        return ContributionOut.model_validate(await handlers.contribute(identity, idea_id, body))

    @router.get("/ideas/{idea_id}/contributions", tags=["ideas"])
    async def list_contributions(
        idea_id: str,
        identity: CurrentIdentity,
        request: Request,
        response: Response,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[ContributionOut]:
        """Oldest first; a reply names its parent."""
        found, total = await handlers.contributions(identity, idea_id, limit, offset)
        describe_page(request, response, total=total, limit=limit, offset=offset, shown=len(found))
        return [ContributionOut.model_validate(row) for row in found]

    @router.post("/ideas/{idea_id}/answer", tags=["ideas"])
    async def answer(idea_id: str, body: Answer, identity: CurrentIdentity) -> IdeaOut:
        """A manager's answer (evaluating, accepted, rejected), told to the author and supporters."""
        await handlers.answer(identity, idea_id, body)
        return IdeaOut.of(await handlers.idea(identity, idea_id))

    @router.post("/ideas/{idea_id}/links", tags=["ideas"])
    async def link(idea_id: str, body: Link, identity: CurrentIdentity) -> IdeaOut:
        """A manager records what the idea led to; projects link themselves through source_idea_ids."""
        await handlers.link(identity, idea_id, body)
        return IdeaOut.of(await handlers.idea(identity, idea_id))

    @router.post(
        "/ideas/{idea_id}/reports",
        status_code=status.HTTP_201_CREATED,
        tags=["moderation"],
        dependencies=[IDEMPOTENT],
    )
    async def report(idea_id: str, body: Report, identity: CurrentIdentity) -> ReportOut:
        """Report an idea to the managers (once); enough reports hide it until they decide."""
        idea = await handlers.report(identity, idea_id, body.reason)
        return ReportOut(idea_id=idea_id, hidden=idea.hidden)

    @router.post("/ideas/{idea_id}/hide", tags=["moderation"])
    async def hide(idea_id: str, identity: CurrentIdentity) -> IdeaOut:
        await handlers.moderate(identity, idea_id, hide=True)
        return IdeaOut.of(await handlers.idea(identity, idea_id))

    @router.post("/ideas/{idea_id}/unhide", tags=["moderation"])
    async def unhide(idea_id: str, identity: CurrentIdentity) -> IdeaOut:
        await handlers.moderate(identity, idea_id, hide=False)
        return IdeaOut.of(await handlers.idea(identity, idea_id))

    return router
