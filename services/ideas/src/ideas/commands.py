"""What the API asks of the ideas service: typed commands, validated at the edge (their lengths
are those of the columns), that use cases and the domain take as they are."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from passerelle.contracts.ideas import ContributionKind, IdeaKind, PhaseName
from passerelle.contracts.types import ONE_LINE, PARAGRAPHS
from passerelle.validation import KnownLanguage, omittable
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000), PARAGRAPHS]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), PARAGRAPHS]
AnswerStatus = Literal["evaluating", "accepted", "rejected"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AxisIn(Strict):
    axis_id: Code | None = Field(default=None, description="When editing: keep this existing axis")
    title: Title
    sectors: list[Code] = Field(default_factory=list, max_length=20)


class PhaseIn(Strict):
    phase: PhaseName
    starts_on: date
    ends_on: date = Field(description="Inclusive; the next phase starts the day after")


class CreatePlan(Strict):
    territory_id: Code
    title: Title
    period_from: date
    period_to: date
    axes: list[AxisIn] = Field(default_factory=list, max_length=30)
    phases: list[PhaseIn] = Field(description="diagnosis, ideas, prioritisation, adoption, monitoring")


class EditPlan(Strict):
    """Only the fields sent change."""

    title: Title = omittable()
    period_from: date = omittable()
    period_to: date = omittable()
    axes: list[AxisIn] = omittable(max_length=30, description="The whole list")
    phases: list[PhaseIn] = omittable(description="The whole list")


class PostIdea(Strict):
    territory_id: Code
    kind: IdeaKind = "idea"
    title: Title
    body: Body
    language: KnownLanguage
    plan_id: Code | None = None
    axis_id: Code | None = None
    sector: Code | None = None
    idea_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")] | None = Field(
        default=None, description="A UUID the client chose, so that a retried post makes one idea"
    )
    author_member_id: Code | None = Field(
        default=None, description="Default: the caller; or a member you manage"
    )


class ActAs(Strict):
    member_id: Code | None = Field(default=None, description="Default: the caller; or a member you manage")


class Contribute(ActAs):
    kind: ContributionKind = "comment"
    body: Body
    parent_id: Code | None = Field(default=None, description="The contribution this one answers")


class Answer(Strict):
    status: AnswerStatus
    answer: Body


class Report(Strict):
    reason: Reason


class Link(Strict):
    kind: Literal["project", "gathering", "opportunity"]
    id: Code = Field(description="The project, gathering or opportunity the idea led to")
