"""Events owned by the opportunities service (stream OPPORTUNITIES, subjects `opportunities.>`).

Passerelle never moves money and never offers securities: an opportunity is listed, reviewed, and
its promoter introduced to interested members; amounts are indicative."""

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from .envelope import EventData
from .types import CurrencyCode, DecimalString, Identifier, LanguageCode, Need

OpportunityKind = Literal[
    "business_creation",
    "business_takeover",
    "co_investment",
    "land_use",
    "premises",
    "social_enterprise",
    "supplier_partnership",
]
Instrument = Literal["equity", "loan", "donation", "partnership", "purchase", "lease", "in_kind"]
Stage = Literal["idea", "plan", "operating", "expanding"]
ReviewDecision = Literal["approved", "needs_work", "rejected"]
OpportunityOutcome = Literal["concluded", "withdrawn", "expired", "rejected"]
InterestRole = Literal["investor", "lender", "partner", "buyer", "tenant", "mentor", "adviser"]
# Why an interest no longer stands: the member withdrew it, the opportunity expired or closed
# otherwise, or the member was erased.
InterestEnd = Literal["withdrawn", "expired", "closed", "member_erased"]


class _OpportunityEvent(EventData):
    owner: ClassVar[str] = "opportunities"

    opportunity_id: Identifier

    def aggregate_id(self) -> str:
        return self.opportunity_id


class OpportunitySnapshot(_OpportunityEvent):
    """Everything other services need to know of an open opportunity."""

    territory_id: Identifier
    promoter_member_id: Identifier = Field(description="An opaque id; `erased` once the promoter is erased")
    kind: OpportunityKind
    sector: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=5000)
    language: LanguageCode
    amount_min: DecimalString | None = Field(default=None, description="Indicative")
    amount_max: DecimalString | None = Field(default=None, description="Indicative")
    currency: CurrencyCode | None = None
    instruments: list[Instrument] = Field(default_factory=list)
    expected_jobs: int | None = Field(default=None, ge=0)
    stage: Stage
    support_programmes: list[str] = Field(default_factory=list, description="GET /support-programmes codes")
    support_needs: list[Need] = Field(
        default_factory=list, description="Shaped like a project's needs; matching proposes advisers"
    )
    source_idea_ids: list[Identifier] = Field(default_factory=list)
    expires_on: date


class OpportunitySubmitted(_OpportunityEvent):
    """A promoter submitted an opportunity for review by the territory's managers."""

    event_name: ClassVar[str] = "OpportunitySubmitted"
    subject: ClassVar[str] = "opportunities.opportunity_submitted.v1"

    territory_id: Identifier
    promoter_member_id: Identifier
    title: str = Field(min_length=1, max_length=200)


class OpportunityReviewed(_OpportunityEvent):
    """A manager of the territory reviewed a submitted opportunity (the notes stay in the service)."""

    event_name: ClassVar[str] = "OpportunityReviewed"
    subject: ClassVar[str] = "opportunities.opportunity_reviewed.v1"

    territory_id: Identifier
    promoter_member_id: Identifier
    title: str = Field(min_length=1, max_length=200)
    decision: ReviewDecision


class OpportunityPublished(OpportunitySnapshot):
    """An approved opportunity is open to members."""

    event_name: ClassVar[str] = "OpportunityPublished"
    subject: ClassVar[str] = "opportunities.opportunity_published.v1"


class OpportunityUpdated(OpportunitySnapshot):
    """An open opportunity changed (or was renewed); carries the full snapshot."""

    event_name: ClassVar[str] = "OpportunityUpdated"
    subject: ClassVar[str] = "opportunities.opportunity_updated.v1"


class OpportunityExpiring(_OpportunityEvent):
    """An open opportunity expires soon: its promoter may renew it. Sent once per expiry date."""

    event_name: ClassVar[str] = "OpportunityExpiring"
    subject: ClassVar[str] = "opportunities.opportunity_expiring.v1"

    promoter_member_id: Identifier
    title: str = Field(min_length=1, max_length=200)
    expires_on: date


class OpportunityClosed(_OpportunityEvent):
    """An opportunity ended."""

    event_name: ClassVar[str] = "OpportunityClosed"
    subject: ClassVar[str] = "opportunities.opportunity_closed.v1"

    outcome: OpportunityOutcome


class _InterestEvent(_OpportunityEvent):
    interest_id: Identifier
    member_id: Identifier = Field(description="The interested member")


class InterestExpressed(_InterestEvent):
    """A member is interested in an open opportunity; its promoter may accept or decline."""

    event_name: ClassVar[str] = "InterestExpressed"
    subject: ClassVar[str] = "opportunities.interest_expressed.v1"

    promoter_member_id: Identifier
    role: InterestRole
    title: str = Field(min_length=1, max_length=200, description="The opportunity's")


class IntroductionMade(EventData):
    """The promoter accepted a member's interest: the two are introduced (a thread opens between them)."""

    owner: ClassVar[str] = "opportunities"
    event_name: ClassVar[str] = "IntroductionMade"
    subject: ClassVar[str] = "opportunities.introduction_made.v1"

    interest_id: Identifier
    opportunity_id: Identifier
    promoter_member_id: Identifier
    member_id: Identifier
    role: str
    title: str | None = Field(default=None, max_length=200, description="The opportunity's. Added in v1.1.")

    def aggregate_id(self) -> str:
        return self.opportunity_id


class InterestDeclined(_InterestEvent):
    """The promoter declined a member's interest; the reason stays with the promoter."""

    event_name: ClassVar[str] = "InterestDeclined"
    subject: ClassVar[str] = "opportunities.interest_declined.v1"

    title: str = Field(min_length=1, max_length=200, description="The opportunity's")


class InterestWithdrawn(_InterestEvent):
    """An interest no longer stands, and why."""

    event_name: ClassVar[str] = "InterestWithdrawn"
    subject: ClassVar[str] = "opportunities.interest_withdrawn.v1"

    promoter_member_id: Identifier
    reason: InterestEnd
