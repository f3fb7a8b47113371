"""Value types shared by several event contracts."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=100), Field(description="An opaque id.")
]
CountryCode = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{2}$"), Field(description="ISO 3166-1 alpha-2")
]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$"), Field(description="ISO 639-1")]
Locale = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"),
    Field(description="BCP 47 language tag, e.g. fr, ar-MA"),
]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217")]
DecimalString = Annotated[
    str,
    StringConstraints(pattern=r"^-?\d{1,15}(\.\d{1,4})?$"),
    Field(description="A decimal amount written as a string, never a float, e.g. '12000.00'"),
]
SkillCode = Annotated[
    str, StringConstraints(min_length=1, max_length=100), Field(description="Taxonomy code")
]
Level = Annotated[int, Field(ge=1, le=5, description="1 (basic) to 5 (expert)")]

Bond = Literal["origin", "family", "heart"]
MemberKind = Literal["person", "association", "local_actor"]
Generation = Literal["first", "second", "third", "none"]
Mode = Literal["remote", "short_mission", "long_mission", "mentoring"]
TerritoryLevel = Literal["commune", "province", "region", "country"]
ProjectOutcome = Literal["completed", "cancelled"]
Channel = Literal["inbox", "email", "webhook"]


class ContractModel(BaseModel):
    """A nested value of an event: frozen and tolerant of unknown fields."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Attachment(ContractModel):
    territory_id: Identifier
    bond: Bond = Field(
        description="origin: born there; family: parents' or grandparents'; heart: no family tie"
    )


class Need(ContractModel):
    need_id: Identifier
    skill: SkillCode
    min_level: Level
    mode: Mode
    count: int = Field(ge=1, le=1000, description="How many people are wanted")
    starts_on: date | None = None
    ends_on: date | None = None


class FundingGoal(ContractModel):
    goal_amount: DecimalString
    currency: CurrencyCode
