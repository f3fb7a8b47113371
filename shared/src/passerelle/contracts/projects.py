"""Events owned by the projects service (stream PROJECTS, subjects `projects.>`)."""

from typing import ClassVar, Literal

from pydantic import Field

from .envelope import EventData
from .types import (
    CountryCode,
    CurrencyCode,
    DecimalString,
    FundingGoal,
    Identifier,
    LanguageCode,
    Need,
    ProjectOutcome,
    TerritoryLevel,
)


class TerritoryRegistered(EventData):
    """A territory (commune, province, region or country) joined the community."""

    owner: ClassVar[str] = "projects"
    event_name: ClassVar[str] = "TerritoryRegistered"
    subject: ClassVar[str] = "projects.territory_registered.v1"

    territory_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    country: CountryCode
    level: TerritoryLevel
    parent_id: Identifier | None = None

    def aggregate_id(self) -> str:
        return self.territory_id


class _TerritoryManagerEvent(EventData):
    owner: ClassVar[str] = "projects"

    territory_id: Identifier
    sub: Identifier = Field(
        description="The identity (token `sub`) that manages the territory and those under it"
    )
    role: Literal["territory_manager", "community_manager"]

    def aggregate_id(self) -> str:
        return self.territory_id


class TerritoryManagerNamed(_TerritoryManagerEvent):
    """Someone now manages a territory. Added in v1.1."""

    event_name: ClassVar[str] = "TerritoryManagerNamed"
    subject: ClassVar[str] = "projects.territory_manager_named.v1"


class TerritoryManagerRemoved(_TerritoryManagerEvent):
    """Someone no longer manages a territory (removed, or erased). Added in v1.1."""

    event_name: ClassVar[str] = "TerritoryManagerRemoved"
    subject: ClassVar[str] = "projects.territory_manager_removed.v1"


# The owner of a project whose owner was erased: the project stays, the person's link goes.
ERASED_OWNER = "erased"


class _ProjectEvent(EventData):
    owner: ClassVar[str] = "projects"

    project_id: Identifier

    def aggregate_id(self) -> str:
        return self.project_id


class ProjectSnapshot(_ProjectEvent):
    """Everything other services need to know of a published project."""

    territory_id: Identifier
    owner_member_id: Identifier = Field(
        description=f"An opaque id; `{ERASED_OWNER}` once the owner is erased."
    )
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=5000)
    sector: str = Field(min_length=1, max_length=100)
    languages: list[LanguageCode] = Field(default_factory=list)
    needs: list[Need] = Field(default_factory=list)
    funding: FundingGoal | None = None
    source_idea_ids: list[Identifier] | None = Field(
        default=None,
        max_length=20,
        description="The ideas (of the ideas service) it grew from. Added in v1.1.",
    )


class ProjectPublished(ProjectSnapshot):
    """A project left draft and is open to the diaspora."""

    event_name: ClassVar[str] = "ProjectPublished"
    subject: ClassVar[str] = "projects.project_published.v1"


class ProjectUpdated(ProjectSnapshot):
    """A published project changed; carries the full snapshot."""

    event_name: ClassVar[str] = "ProjectUpdated"
    subject: ClassVar[str] = "projects.project_updated.v1"


class ProjectClosed(_ProjectEvent):
    """A project ended."""

    event_name: ClassVar[str] = "ProjectClosed"
    subject: ClassVar[str] = "projects.project_closed.v1"

    outcome: ProjectOutcome


class PledgeMade(_ProjectEvent):
    """A member pledged money to a project."""

    event_name: ClassVar[str] = "PledgeMade"
    subject: ClassVar[str] = "projects.pledge_made.v1"

    pledge_id: Identifier
    member_id: Identifier
    amount: DecimalString
    currency: CurrencyCode


class FundingGoalReached(_ProjectEvent):
    """The pledges to a project first reached its funding goal."""

    event_name: ClassVar[str] = "FundingGoalReached"
    subject: ClassVar[str] = "projects.funding_goal_reached.v1"

    total: DecimalString
    currency: CurrencyCode
