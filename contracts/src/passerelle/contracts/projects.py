"""Events owned by the projects service (stream PROJECTS, subjects `projects.>`)."""

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from .envelope import EventData
from .types import (
    ContractModel,
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
    member_id: Identifier = Field(
        description="The pledger; for an offline pledge, the project's owner who recorded it"
    )
    amount: DecimalString
    currency: CurrencyCode
    campaign_id: Identifier | None = Field(default=None, description="Added in v1.1")
    reference: str | None = Field(
        default=None, max_length=20, description="Added in v1.1: what the pledger writes on the transfer"
    )
    on_behalf_of_member_id: Identifier | None = Field(
        default=None, description="Added in v1.1: the association the pledger gives for"
    )
    offline: bool = Field(default=False, description="Added in v1.1: recorded by the collector, already paid")


class FundingGoalReached(_ProjectEvent):
    """The pledges to a project first reached its funding goal."""

    event_name: ClassVar[str] = "FundingGoalReached"
    subject: ClassVar[str] = "projects.funding_goal_reached.v1"

    total: DecimalString
    currency: CurrencyCode


# Financing (added in v1.1, contract 4.8): plans, campaigns, pledges' lives, collections, co-funding.

FundingSource = Literal[
    "diaspora_campaign", "commune_budget", "grant", "cofunding", "in_kind", "loan", "own_funds"
]
CampaignRule = Literal["all_or_nothing", "keep_it_all"]
CollectionMethod = Literal["bank_transfer", "mobile_money", "cash", "card", "other"]


class PlanLine(ContractModel):
    source: FundingSource
    label: str = Field(min_length=1, max_length=200)
    amount: DecimalString
    status: Literal["expected", "committed", "received"]
    programme_code: str | None = Field(default=None, max_length=100)


class FinancingPlanUpdated(_ProjectEvent):
    """A project's financing plan was set or changed: its budget and lines by source."""

    event_name: ClassVar[str] = "FinancingPlanUpdated"
    subject: ClassVar[str] = "projects.financing_plan_updated.v1"

    budget_amount: DecimalString
    currency: CurrencyCode
    lines: list[PlanLine]
    collector_kind: Literal["association", "commune", "fiscal_host"]
    collector_name: str = Field(min_length=1, max_length=200)


class _CampaignEvent(_ProjectEvent):
    campaign_id: Identifier


class CampaignOpened(_CampaignEvent):
    """A fundraising campaign was opened on a project."""

    event_name: ClassVar[str] = "CampaignOpened"
    subject: ClassVar[str] = "projects.campaign_opened.v1"

    goal_amount: DecimalString
    minimum_amount: DecimalString | None = None
    currency: CurrencyCode
    rule: CampaignRule
    opens_at: datetime
    closes_at: datetime


class CampaignExtended(_CampaignEvent):
    """A campaign's closing time moved later (a closed one reopens: nothing of it was collected)."""

    event_name: ClassVar[str] = "CampaignExtended"
    subject: ClassVar[str] = "projects.campaign_extended.v1"

    closes_at: datetime
    previous_closes_at: datetime
    pledger_member_ids: list[Identifier] = Field(default_factory=list, description="Who is told")


class _CampaignOutcome(_CampaignEvent):
    pledged_total: DecimalString
    currency: CurrencyCode
    rule: CampaignRule
    pledger_member_ids: list[Identifier] = Field(default_factory=list, description="Who is told")


class CampaignSucceeded(_CampaignOutcome):
    """A campaign closed successfully; its pledges are to be collected by `collection_ends_at`."""

    event_name: ClassVar[str] = "CampaignSucceeded"
    subject: ClassVar[str] = "projects.campaign_succeeded.v1"

    collection_ends_at: datetime


class CampaignFailed(_CampaignOutcome):
    """An all-or-nothing campaign closed below its threshold: every pledge is released."""

    event_name: ClassVar[str] = "CampaignFailed"
    subject: ClassVar[str] = "projects.campaign_failed.v1"

    threshold: DecimalString


class CampaignCancelled(_CampaignEvent):
    """The project's team cancelled an open campaign: every pledge is released."""

    event_name: ClassVar[str] = "CampaignCancelled"
    subject: ClassVar[str] = "projects.campaign_cancelled.v1"


class _PledgeEvent(_ProjectEvent):
    pledge_id: Identifier
    campaign_id: Identifier | None = None
    member_id: Identifier | None = Field(description="The pledger; null once erased")
    amount: DecimalString
    currency: CurrencyCode


class PledgeCancelled(_PledgeEvent):
    """The pledger or the project's team cancelled a pledge before its campaign closed."""

    event_name: ClassVar[str] = "PledgeCancelled"
    subject: ClassVar[str] = "projects.pledge_cancelled.v1"


class PledgeReleased(_PledgeEvent):
    """A pledge no longer stands: its all-or-nothing campaign failed or was cancelled."""

    event_name: ClassVar[str] = "PledgeReleased"
    subject: ClassVar[str] = "projects.pledge_released.v1"


class PledgeCollectionReminded(_PledgeEvent):
    """A pledge of a successful campaign is still to be paid: the pledger is reminded."""

    event_name: ClassVar[str] = "PledgeCollectionReminded"
    subject: ClassVar[str] = "projects.pledge_collection_reminded.v1"

    reference: str | None = Field(default=None, max_length=20)
    due_at: datetime
    reminder: int = Field(ge=1, description="1 for the first reminder, 2 for the second ...")


class PledgeLapsed(_PledgeEvent):
    """A pledge was not collected by the end of its collection window."""

    event_name: ClassVar[str] = "PledgeLapsed"
    subject: ClassVar[str] = "projects.pledge_lapsed.v1"


class PledgeCollected(_PledgeEvent):
    """The collector confirmed that a pledge's money arrived."""

    event_name: ClassVar[str] = "PledgeCollected"
    subject: ClassVar[str] = "projects.pledge_collected.v1"

    collected_amount: DecimalString
    method: CollectionMethod
    collected_at: datetime
    offline: bool = False


class CofundingOffered(_ProjectEvent):
    """A sponsor (commune, foundation, programme) offered to match what the diaspora gives."""

    event_name: ClassVar[str] = "CofundingOffered"
    subject: ClassVar[str] = "projects.cofunding_offered.v1"

    offer_id: Identifier
    sponsor_member_id: Identifier
    ratio: DecimalString
    cap_amount: DecimalString
    currency: CurrencyCode


class CofundingApplied(_ProjectEvent):
    """An offer matched one collection: min(ratio x collected, what remains of the cap)."""

    event_name: ClassVar[str] = "CofundingApplied"
    subject: ClassVar[str] = "projects.cofunding_applied.v1"

    offer_id: Identifier
    pledge_id: Identifier
    amount: DecimalString
    currency: CurrencyCode
    remaining_amount: DecimalString
    exhausted: bool


class ProjectUpdatePosted(_ProjectEvent):
    """The project's team posted news; its pledgers are told."""

    event_name: ClassVar[str] = "ProjectUpdatePosted"
    subject: ClassVar[str] = "projects.project_update_posted.v1"

    update_id: Identifier
    title: str = Field(min_length=1, max_length=200)
    pledger_member_ids: list[Identifier] = Field(default_factory=list, description="Who is told")
