"""Events owned by the gatherings service (stream GATHERINGS, subjects `gatherings.>`): meetings,
co-design workshops, learning sessions and fora of a community, and who registered for them."""

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from .envelope import EventData
from .types import ContractModel, CountryCode, Identifier, LanguageCode

GatheringKind = Literal[
    "information_session", "co_design_workshop", "learning_session", "forum", "cultural_meeting", "committee"
]
GatheringFormat = Literal["in_person", "online", "hybrid"]
GatheringStatus = Literal["draft", "published", "cancelled", "closed"]
Attendance = Literal["in_person", "online"]


class Venue(ContractModel):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(default="", max_length=500)
    city: str = Field(min_length=1, max_length=200)
    country: CountryCode = Field(description="Where it is held: a host city abroad is fine")


class AgendaItem(ContractModel):
    title: str = Field(min_length=1, max_length=200)
    starts_at: datetime | None = Field(default=None, description="UTC")
    description: str = Field(default="", max_length=2000)


class Outcome(ContractModel):
    """What a gathering led to: a project or an idea it fed."""

    kind: Literal["project", "idea"]
    id: Identifier
    note: str = Field(default="", max_length=500)


class _GatheringEvent(EventData):
    owner: ClassVar[str] = "gatherings"

    gathering_id: Identifier

    def aggregate_id(self) -> str:
        return self.gathering_id


class GatheringSnapshot(_GatheringEvent):
    """Everything other services need of a published gathering; never its online link, which only
    confirmed registrants, organisers and managers get (through the API)."""

    territory_id: Identifier
    project_id: Identifier | None = None
    organiser_member_id: Identifier
    co_organiser_member_ids: list[Identifier] = Field(default_factory=list)
    kind: GatheringKind
    format: GatheringFormat
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(max_length=10000)
    languages: list[LanguageCode] = Field(default_factory=list)
    starts_at: datetime = Field(description="UTC")
    ends_at: datetime = Field(description="UTC")
    time_zone: str = Field(min_length=1, max_length=64, description="The venue's IANA time zone")
    venue: Venue | None = None
    capacity: int = Field(ge=0, description="0: no limit")
    online_capacity: int | None = Field(default=None, ge=0, description="A separate limit online")
    registration_closes_at: datetime | None = None
    agenda: list[AgendaItem] = Field(default_factory=list)


class GatheringScheduled(GatheringSnapshot):
    """A gathering was published: members may register."""

    event_name: ClassVar[str] = "GatheringScheduled"
    subject: ClassVar[str] = "gatherings.gathering_scheduled.v1"


class GatheringUpdated(GatheringSnapshot):
    """A published gathering changed: the full snapshot, and the names of the fields that changed."""

    event_name: ClassVar[str] = "GatheringUpdated"
    subject: ClassVar[str] = "gatherings.gathering_updated.v1"

    changed: list[str] = Field(description="e.g. starts_at, ends_at, venue, title")


class GatheringCancelled(_GatheringEvent):
    """A published gathering will not take place."""

    event_name: ClassVar[str] = "GatheringCancelled"
    subject: ClassVar[str] = "gatherings.gathering_cancelled.v1"

    reason: str = Field(max_length=1000)


class GatheringClosed(_GatheringEvent):
    """A gathering took place; its closing report."""

    event_name: ClassVar[str] = "GatheringClosed"
    subject: ClassVar[str] = "gatherings.gathering_closed.v1"

    registered: int = Field(ge=0, description="Registrations that attended")
    walk_ins: int = Field(ge=0)
    attendance: int = Field(ge=0, description="Registered attendees and walk-ins")
    summary: str = Field(max_length=10000)
    outcomes: list[Outcome] = Field(default_factory=list)


class _RegistrationEvent(_GatheringEvent):
    registration_id: Identifier
    member_id: Identifier
    attendance: Attendance


class RegistrationConfirmed(_RegistrationEvent):
    """A member has a place."""

    event_name: ClassVar[str] = "RegistrationConfirmed"
    subject: ClassVar[str] = "gatherings.registration_confirmed.v1"


class RegistrationWaitlisted(_RegistrationEvent):
    """No place was left: the member waits, in order."""

    event_name: ClassVar[str] = "RegistrationWaitlisted"
    subject: ClassVar[str] = "gatherings.registration_waitlisted.v1"

    position: int = Field(ge=1, description="1: the next to get a place")


class RegistrationPromoted(_RegistrationEvent):
    """A place freed up: the first waiting member has it now."""

    event_name: ClassVar[str] = "RegistrationPromoted"
    subject: ClassVar[str] = "gatherings.registration_promoted.v1"


class RegistrationCancelled(_RegistrationEvent):
    """A registration was withdrawn (by the member, or by an organiser)."""

    event_name: ClassVar[str] = "RegistrationCancelled"
    subject: ClassVar[str] = "gatherings.registration_cancelled.v1"

    was: Literal["confirmed", "waitlisted"]


class RegistrationReminderDue(_RegistrationEvent):
    """A confirmed registrant's gathering starts within the reminder delay (once per start time:
    moving the gathering brings a new reminder). An addition to the issue's list."""

    event_name: ClassVar[str] = "RegistrationReminderDue"
    subject: ClassVar[str] = "gatherings.registration_reminder_due.v1"

    starts_at: datetime = Field(description="UTC")


class AttendanceRecorded(_RegistrationEvent):
    """A registrant checked in with their code."""

    event_name: ClassVar[str] = "AttendanceRecorded"
    subject: ClassVar[str] = "gatherings.attendance_recorded.v1"
