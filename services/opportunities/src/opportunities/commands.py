"""What the API asks of the opportunities service: typed commands, validated at the edge (their lengths
are those of the columns), that use cases and the domain take as they are."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from passerelle.contracts.opportunities import (
    Instrument,
    InterestRole,
    OpportunityKind,
    ReviewDecision,
    Stage,
)
from passerelle.contracts.types import ONE_LINE, PARAGRAPHS, Level, Mode
from passerelle.validation import KnownCurrency, KnownLanguage, Money, omittable
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000), PARAGRAPHS]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000), PARAGRAPHS]
Message = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), PARAGRAPHS]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE]
# What closing by hand may say; `expired` and `rejected` are the platform's and the reviewers'.
CloseOutcome = Literal["concluded", "withdrawn"]
# Why a promoter declines: kept for the promoter's own statistics, never told to the member.
DeclineReason = Literal["not_a_fit", "amount", "timing", "already_found", "other"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SupportNeedIn(Strict):
    need_id: Code | None = Field(default=None, description="When editing: keep this existing need")
    skill: Code = Field(description="A code of the skill taxonomy (GET /skills), e.g. business planning")
    min_level: Level = 1
    mode: Mode = "remote"
    count: int = Field(default=1, ge=1, le=100)


class _Terms(Strict):
    """The fields an opportunity is created with and edited by."""

    @model_validator(mode="after")
    def _range(self) -> _Terms:
        low, high = getattr(self, "amount_min", None), getattr(self, "amount_max", None)
        if low is not None and high is not None and Decimal(high) < Decimal(low):
            raise ValueError("amount_max is below amount_min")
        return self


class CreateOpportunity(_Terms):
    territory_id: Code
    promoter_member_id: Code | None = Field(default=None, description="Default: the caller")
    kind: OpportunityKind
    sector: Code
    title: Title
    summary: Summary
    description: Description = ""
    language: KnownLanguage
    amount_min: Money | None = Field(default=None, description="Indicative")
    amount_max: Money | None = Field(default=None, description="Indicative")
    currency: KnownCurrency | None = Field(default=None, description="Required with an amount")
    instruments: list[Instrument] = Field(default_factory=list, max_length=7)
    expected_jobs: int | None = Field(default=None, ge=0, le=100000)
    stage: Stage = "idea"
    support_programmes: list[Code] = Field(default_factory=list, max_length=20)
    support_needs: list[SupportNeedIn] = Field(default_factory=list, max_length=20)
    source_idea_ids: list[Code] = Field(default_factory=list, max_length=20)
    expires_on: date | None = Field(default=None, description="Default: 90 days after approval")


class EditOpportunity(_Terms):
    """Only the fields sent change; null clears an optional one."""

    kind: OpportunityKind = omittable()
    sector: Code = omittable()
    title: Title = omittable()
    summary: Summary = omittable()
    description: Description = omittable()
    language: KnownLanguage = omittable()
    amount_min: Money | None = None
    amount_max: Money | None = None
    currency: KnownCurrency | None = None
    instruments: list[Instrument] = omittable(max_length=7)
    expected_jobs: int | None = Field(default=None, ge=0, le=100000)
    stage: Stage = omittable()
    support_programmes: list[Code] = omittable(max_length=20)
    support_needs: list[SupportNeedIn] = omittable(max_length=20, description="The whole list")
    source_idea_ids: list[Code] = omittable(max_length=20)
    expires_on: date = omittable()


class Review(Strict):
    decision: ReviewDecision
    notes: Message = ""


class Close(Strict):
    outcome: CloseOutcome


class ExpressInterest(Strict):
    role: InterestRole
    message: Message = ""
    amount_min: Money | None = None
    amount_max: Money | None = None
    currency: KnownCurrency | None = None

    @model_validator(mode="after")
    def _range(self) -> ExpressInterest:
        if (self.amount_min or self.amount_max) and self.currency is None:
            raise ValueError("currency is required with an amount")
        if self.amount_min and self.amount_max and Decimal(self.amount_max) < Decimal(self.amount_min):
            raise ValueError("amount_max is below amount_min")
        return self


class Decline(Strict):
    reason_code: DeclineReason
    note: Message = ""
