"""What the API asks of the gatherings service: typed commands, validated at the edge (their lengths
are those of the columns), that use cases and the domain take as they are."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from passerelle.contracts.gatherings import Attendance, GatheringFormat, GatheringKind
from passerelle.contracts.types import ONE_LINE, PARAGRAPHS
from passerelle.validation import KnownCountry, KnownLanguage, KnownTimeZone, distinct, omittable
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), ONE_LINE]
Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), ONE_LINE]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10000), PARAGRAPHS]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), ONE_LINE]
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://[^\s]+$"),
    Field(description="An http(s) link"),
]
Languages = Annotated[list[KnownLanguage], Field(max_length=10), AfterValidator(distinct)]
Capacity = Annotated[int, Field(ge=0, le=1_000_000, description="0: no limit")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VenueIn(Strict):
    name: Title
    address: Line = ""
    city: Title
    country: KnownCountry


class AgendaItemIn(Strict):
    title: Title
    starts_at: AwareDatetime | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), PARAGRAPHS] = ""


class CreateGathering(Strict):
    territory_id: Code
    project_id: Code | None = None
    organiser_member_id: Code | None = Field(default=None, description="Default: the caller")
    co_organiser_member_ids: Annotated[list[Code], Field(max_length=20), AfterValidator(distinct)] = []
    kind: GatheringKind
    format: GatheringFormat
    title: Title
    description: Text = ""
    languages: Languages = []
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    time_zone: KnownTimeZone = Field(description="The venue's IANA time zone, e.g. Africa/Casablanca")
    venue: VenueIn | None = None
    online_url: Url | None = Field(default=None, description="Given only to confirmed registrants")
    capacity: Capacity = 0
    online_capacity: Capacity | None = Field(default=None, description="A separate limit for online places")
    registration_closes_at: AwareDatetime | None = None
    agenda: Annotated[list[AgendaItemIn], Field(max_length=50)] = []

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class ChangeGathering(Strict):
    """Only the fields sent change; null clears an optional field."""

    project_id: Code | None = None
    co_organiser_member_ids: Annotated[list[Code], Field(max_length=20), AfterValidator(distinct)] = (
        omittable()
    )
    kind: GatheringKind = omittable()
    format: GatheringFormat = omittable()
    title: Title = omittable()
    description: Text = omittable()
    languages: Languages = omittable()
    starts_at: AwareDatetime = omittable()
    ends_at: AwareDatetime = omittable()
    time_zone: KnownTimeZone = omittable()
    venue: VenueIn | None = None
    online_url: Url | None = None
    capacity: Capacity = omittable()
    online_capacity: Capacity | None = None
    registration_closes_at: AwareDatetime | None = None
    agenda: Annotated[list[AgendaItemIn], Field(max_length=50)] = omittable()


class CancelGathering(Strict):
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), PARAGRAPHS
    ]


class OutcomeIn(Strict):
    kind: Literal["project", "idea"]
    id: Code
    note: Line = ""


class CloseGathering(Strict):
    walk_ins: int = Field(default=0, ge=0, le=1_000_000, description="People who came without registering")
    summary: Text = ""
    outcomes: Annotated[list[OutcomeIn], Field(max_length=50)] = []


class Register(Strict):
    attendance: Attendance | None = Field(default=None, description="Default: the gathering's format")
    member_id: Code | None = Field(default=None, description="Default: the caller; or a member you manage")


class CheckIn(Strict):
    code: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=20)]
