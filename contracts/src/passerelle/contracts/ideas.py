"""Events owned by the ideas service (stream IDEAS, subjects `ideas.>`). Added in v1.1."""

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from .envelope import EventData
from .types import ContractModel, Identifier, LanguageCode

PlanStatus = Literal["draft", "published", "adopted", "archived"]
PhaseName = Literal["diagnosis", "ideas", "prioritisation", "adoption", "monitoring"]
IdeaKind = Literal["idea", "need_signal", "information", "opportunity_tip"]
IdeaStatus = Literal["published", "evaluating", "accepted", "rejected", "promoted", "withdrawn"]
ContributionKind = Literal["comment", "improvement"]


class Axis(ContractModel):
    axis_id: Identifier
    title: str = Field(min_length=1, max_length=200)
    sectors: list[str] = Field(default_factory=list)


class Phase(ContractModel):
    phase: PhaseName
    starts_on: date
    ends_on: date = Field(description="Inclusive; the next phase starts the day after")


class _PlanEvent(EventData):
    owner: ClassVar[str] = "ideas"

    plan_id: Identifier
    territory_id: Identifier

    def aggregate_id(self) -> str:
        return self.plan_id


class PlanSnapshot(_PlanEvent):
    title: str = Field(min_length=1, max_length=200)
    period_from: date
    period_to: date
    axes: list[Axis] = Field(default_factory=list)
    phases: list[Phase] = Field(description="The five phases, in order, their dates chained")
    status: PlanStatus


class PlanPublished(PlanSnapshot):
    """A territory's development plan is open to its members, at home and abroad."""

    event_name: ClassVar[str] = "PlanPublished"
    subject: ClassVar[str] = "ideas.plan_published.v1"


class PlanUpdated(PlanSnapshot):
    """A published plan changed (its dates, axes, or its status: adopted, archived); full snapshot."""

    event_name: ClassVar[str] = "PlanUpdated"
    subject: ClassVar[str] = "ideas.plan_updated.v1"


class PlanPhaseStarted(_PlanEvent):
    """A published plan entered a phase (told once per phase, when its first day comes)."""

    event_name: ClassVar[str] = "PlanPhaseStarted"
    subject: ClassVar[str] = "ideas.plan_phase_started.v1"

    title: str = Field(min_length=1, max_length=200)
    phase: PhaseName
    starts_on: date
    ends_on: date


class _IdeaEvent(EventData):
    owner: ClassVar[str] = "ideas"

    idea_id: Identifier

    def aggregate_id(self) -> str:
        return self.idea_id


class IdeaPublished(_IdeaEvent):
    """A member posted an idea, a need, a piece of information or an opportunity tip."""

    event_name: ClassVar[str] = "IdeaPublished"
    subject: ClassVar[str] = "ideas.idea_published.v1"

    territory_id: Identifier
    author_member_id: Identifier = Field(description="An opaque id; `erased` once the author is erased")
    kind: IdeaKind
    title: str = Field(min_length=1, max_length=200)
    language: LanguageCode
    plan_id: Identifier | None = None
    axis_id: Identifier | None = None
    sector: str | None = None


class IdeaSupported(_IdeaEvent):
    """A member supports an idea; their bond and residence are what the ranking counts."""

    event_name: ClassVar[str] = "IdeaSupported"
    subject: ClassVar[str] = "ideas.idea_supported.v1"

    member_id: Identifier
    bond: Literal["origin", "family", "heart"]
    in_country: bool = Field(description="The member lives in the territory's country")


class IdeaSupportWithdrawn(_IdeaEvent):
    """A member no longer supports an idea."""

    event_name: ClassVar[str] = "IdeaSupportWithdrawn"
    subject: ClassVar[str] = "ideas.idea_support_withdrawn.v1"

    member_id: Identifier


class ContributionPosted(_IdeaEvent):
    """A comment or a proposed improvement on an idea, or a reply to one (never its text)."""

    event_name: ClassVar[str] = "ContributionPosted"
    subject: ClassVar[str] = "ideas.contribution_posted.v1"

    contribution_id: Identifier
    author_member_id: Identifier
    kind: ContributionKind
    parent_id: Identifier | None = None


class IdeaAnswered(_IdeaEvent):
    """A manager answered an idea; who is told is in the event, so that nobody has to ask."""

    event_name: ClassVar[str] = "IdeaAnswered"
    subject: ClassVar[str] = "ideas.idea_answered.v1"

    territory_id: Identifier
    title: str = Field(min_length=1, max_length=200)
    status: IdeaStatus
    answer: str = Field(min_length=1, max_length=5000)
    author_member_id: Identifier
    supporter_member_ids: list[Identifier] = Field(default_factory=list)


class IdeaPromoted(_IdeaEvent):
    """An idea became (part of) a project: the project named it in its `source_idea_ids`."""

    event_name: ClassVar[str] = "IdeaPromoted"
    subject: ClassVar[str] = "ideas.idea_promoted.v1"

    project_id: Identifier


class IdeaHidden(_IdeaEvent):
    """An idea is hidden, by its reports or by a manager, until a manager decides."""

    event_name: ClassVar[str] = "IdeaHidden"
    subject: ClassVar[str] = "ideas.idea_hidden.v1"

    by: Literal["reports", "manager"]


class IdeaUnhidden(_IdeaEvent):
    """A manager restored a hidden idea."""

    event_name: ClassVar[str] = "IdeaUnhidden"
    subject: ClassVar[str] = "ideas.idea_unhidden.v1"
