"""What the API asks of the projects service: typed commands, validated at the edge, that use cases
and the domain take as they are."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from passerelle.contracts.types import ONE_LINE, PARAGRAPHS, Level, Mode, TerritoryLevel
from passerelle.validation import KnownCountry, KnownCurrency, KnownLanguage, Money, omittable
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# The lengths are those of the columns (String(200), String(100)); a summary is multi-line text.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000), PARAGRAPHS]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterTerritory(Strict):
    name: Text
    country: KnownCountry
    level: TerritoryLevel
    parent_id: Code | None = None


class NeedIn(Strict):
    need_id: Code | None = Field(default=None, description="When editing: keep this existing need")
    skill: Code = Field(description="A code of the skill taxonomy (GET /skills)")
    min_level: Level = 1
    mode: Mode
    count: int = Field(default=1, ge=1, le=1000)
    starts_on: date | None = None
    ends_on: date | None = None


class FundingIn(Strict):
    goal_amount: Money
    currency: KnownCurrency


class CreateProject(Strict):
    territory_id: Code
    owner_member_id: Code | None = Field(default=None, description="Default: the caller")
    title: Text
    summary: Summary
    sector: Code
    languages: list[KnownLanguage] = Field(default_factory=list, max_length=20)
    needs: list[NeedIn] = Field(default_factory=list, max_length=30)
    funding: FundingIn | None = None
    source_idea_ids: list[Code] = Field(
        default_factory=list, max_length=20, description="The ideas (of the ideas service) it grew from"
    )


class EditProject(Strict):
    """Only the fields sent change; null removes the funding goal and is refused elsewhere."""

    territory_id: Code = omittable()
    title: Text = omittable()
    summary: Summary = omittable()
    sector: Code = omittable()
    languages: list[KnownLanguage] = omittable(max_length=20)
    needs: list[NeedIn] = omittable(max_length=30, description="The whole list")
    source_idea_ids: list[Code] = omittable(max_length=20, description="The whole list")
    funding: FundingIn | None = None
