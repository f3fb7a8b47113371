"""One registry of streams, subjects and event types: the single source every tool reads."""

from dataclasses import dataclass

from .envelope import EventData
from .matching import MatchAccepted, MatchConfirmed, MatchDeclined, MatchProposed, MatchWithdrawn
from .members import (
    MemberErased,
    MemberProfileUpdated,
    MemberRegistered,
    SkillOffered,
    SkillOfferUpdated,
    SkillOfferWithdrawn,
)
from .notifications import NotificationDelivered, NotificationFailed
from .opportunities import (
    InterestDeclined,
    InterestExpressed,
    InterestWithdrawn,
    IntroductionMade,
    OpportunityClosed,
    OpportunityExpiring,
    OpportunityPublished,
    OpportunityReviewed,
    OpportunitySubmitted,
    OpportunityUpdated,
)
from .projects import (
    FundingGoalReached,
    PledgeMade,
    ProjectClosed,
    ProjectPublished,
    ProjectUpdated,
    TerritoryManagerNamed,
    TerritoryManagerRemoved,
    TerritoryRegistered,
)


@dataclass(frozen=True)
class Stream:
    name: str
    subjects: tuple[str, ...]
    owner: str


STREAMS: tuple[Stream, ...] = (
    Stream("MEMBERS", ("members.>",), "members"),
    Stream("PROJECTS", ("projects.>",), "projects"),
    Stream("MATCHING", ("matching.>",), "matching"),
    Stream("NOTIFICATIONS", ("notifications.>",), "notifications"),
    Stream("CONVERSATIONS", ("conversations.>",), "conversations"),
    Stream("GATHERINGS", ("gatherings.>",), "gatherings"),
    Stream("IDEAS", ("ideas.>",), "ideas"),
    Stream("OPPORTUNITIES", ("opportunities.>",), "opportunities"),
    Stream("DLQ", ("dlq.>",), "passerelle"),
)
DLQ_STREAM = "DLQ"

EVENTS: tuple[type[EventData], ...] = (
    MemberRegistered,
    MemberProfileUpdated,
    SkillOffered,
    SkillOfferUpdated,
    SkillOfferWithdrawn,
    MemberErased,
    TerritoryRegistered,
    TerritoryManagerNamed,
    TerritoryManagerRemoved,
    ProjectPublished,
    ProjectUpdated,
    ProjectClosed,
    PledgeMade,
    FundingGoalReached,
    MatchProposed,
    MatchAccepted,
    MatchDeclined,
    MatchConfirmed,
    MatchWithdrawn,
    NotificationDelivered,
    NotificationFailed,
    OpportunitySubmitted,
    OpportunityReviewed,
    OpportunityPublished,
    OpportunityUpdated,
    OpportunityExpiring,
    OpportunityClosed,
    InterestExpressed,
    IntroductionMade,
    InterestDeclined,
    InterestWithdrawn,
)

EVENTS_BY_TYPE: dict[str, type[EventData]] = {event.type_name(): event for event in EVENTS}
EVENTS_BY_SUBJECT: dict[str, type[EventData]] = {event.subject: event for event in EVENTS}


def stream_of(event: type[EventData]) -> Stream:
    """The stream an event is published into: the one its owning service owns."""
    return next(stream for stream in STREAMS if stream.owner == event.owner)
