"""What the financing API asks: typed commands, validated at the edge."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from passerelle.contracts.projects import CampaignRule, CollectionMethod, FundingSource
from passerelle.contracts.types import ONE_LINE, PARAGRAPHS, Bond
from passerelle.validation import KnownCurrency, Money
from pydantic import AwareDatetime, Field, StringConstraints

from ..commands import Code, Strict, Text

Instructions = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), PARAGRAPHS
]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10000), PARAGRAPHS]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20), ONE_LINE]
Ratio = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{1,3}(\.[0-9]{1,2})?$"),
    Field(description="How much the sponsor gives for each unit collected, e.g. `1` or `3`"),
]


class PlanLineIn(Strict):
    source: FundingSource
    label: Text
    amount: Money
    status: Literal["expected", "committed", "received"] = "expected"
    programme_code: Code | None = Field(default=None, description="A programme of GET /financing-programmes")


class CollectorIn(Strict):
    kind: Literal["association", "commune", "fiscal_host"]
    name: Name
    payment_instructions: Instructions = Field(description="Shown to each pledger with their reference")
    confirmer_subs: list[Code] = Field(
        min_length=1, max_length=20, description="The identities that may confirm collections"
    )


class PlanIn(Strict):
    budget_amount: Money
    currency: KnownCurrency
    lines: list[PlanLineIn] = Field(max_length=50)
    collector: CollectorIn


class CampaignIn(Strict):
    goal_amount: Money
    minimum_amount: Money | None = Field(
        default=None, description="All or nothing: what must be pledged for it to succeed (default: the goal)"
    )
    currency: KnownCurrency
    rule: CampaignRule
    opens_at: AwareDatetime | None = Field(default=None, description="Default: now")
    closes_at: AwareDatetime
    collection_days: int | None = Field(
        default=None, ge=1, le=365, description="Days after closing to collect the pledges (default: 30)"
    )


class ExtendIn(Strict):
    closes_at: AwareDatetime


class PledgeIn(Strict):
    amount: Money
    currency: KnownCurrency | None = Field(default=None, description="Default: the project's currency")
    member_id: Code | None = Field(default=None, description="Default: the caller; or a member you manage")
    campaign_id: Code | None = Field(default=None, description="Default: the project's open campaign, if any")
    on_behalf_of_member_id: Code | None = Field(default=None, description="An association you manage")
    public_name: Name | None = Field(default=None, description="The name the public ledger shows")
    anonymous: bool = Field(default=False, description="true: the ledger shows no name, whatever is given")


class CollectionIn(Strict):
    reference: Reference
    amount: Money | None = Field(default=None, description="Default: the amount pledged")
    method: CollectionMethod
    collected_at: AwareDatetime | None = Field(default=None, description="Default: now")


class CollectionsIn(Strict):
    items: list[CollectionIn] = Field(min_length=1, max_length=500)


class OfflinePledgeIn(Strict):
    amount: Money
    method: CollectionMethod = "cash"
    collected_at: AwareDatetime | None = Field(default=None, description="Default: now")
    public_name: Name | None = Field(default=None, description="Who gave, if they want it shown")
    campaign_id: Code | None = Field(default=None, description="Default: the project's open campaign, if any")


class ConditionsIn(Strict):
    bonds: list[Bond] = Field(default_factory=list, description="Match only givers with these bonds")
    starts_on: date | None = None
    ends_on: date | None = None
    territory_ids: list[Code] = Field(
        default_factory=list, max_length=50, description="Territories the offer reserves itself for"
    )


class CofundingIn(Strict):
    sponsor_member_id: Code
    ratio: Ratio
    cap_amount: Money
    currency: KnownCurrency
    conditions: ConditionsIn = Field(default_factory=ConditionsIn)


class UpdateIn(Strict):
    title: Text
    body: Body


def at_or_now(moment: datetime | None, now: datetime) -> datetime:
    return moment if moment is not None else now
