"""One registry of streams, subjects and event types: the single source every tool reads."""

from dataclasses import dataclass

from .conversations import MessagePosted, ThreadOpened
from .envelope import EventData
from .gatherings import (
    AttendanceRecorded,
    GatheringCancelled,
    GatheringClosed,
    GatheringScheduled,
    GatheringUpdated,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationReminderDue,
    RegistrationWaitlisted,
)
from .ideas import (
    ContributionPosted,
    IdeaAnswered,
    IdeaHidden,
    IdeaPromoted,
    IdeaPublished,
    IdeaSupported,
    IdeaSupportWithdrawn,
    IdeaUnhidden,
    PlanPhaseStarted,
    PlanPublished,
    PlanUpdated,
)
from .matching import (
    MatchAccepted,
    MatchConfirmed,
    MatchDeclined,
    MatchProposed,
    MatchReminded,
    MatchWithdrawn,
)
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
    CampaignCancelled,
    CampaignExtended,
    CampaignFailed,
    CampaignOpened,
    CampaignSucceeded,
    CofundingApplied,
    CofundingOffered,
    FinancingPlanUpdated,
    FundingGoalReached,
    PledgeCancelled,
    PledgeCollected,
    PledgeCollectionReminded,
    PledgeLapsed,
    PledgeMade,
    PledgeReleased,
    ProjectClosed,
    ProjectPublished,
    ProjectUpdated,
    ProjectUpdatePosted,
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
    CampaignCancelled,
    CampaignExtended,
    CampaignFailed,
    CampaignOpened,
    CampaignSucceeded,
    CofundingApplied,
    CofundingOffered,
    FinancingPlanUpdated,
    PledgeCancelled,
    PledgeCollected,
    PledgeCollectionReminded,
    PledgeLapsed,
    PledgeReleased,
    ProjectUpdatePosted,
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
    ThreadOpened,
    MessagePosted,
    MatchReminded,
    GatheringScheduled,
    GatheringUpdated,
    GatheringCancelled,
    GatheringClosed,
    RegistrationConfirmed,
    RegistrationWaitlisted,
    RegistrationPromoted,
    RegistrationCancelled,
    RegistrationReminderDue,
    AttendanceRecorded,
    PlanPublished,
    PlanUpdated,
    PlanPhaseStarted,
    IdeaPublished,
    IdeaSupported,
    IdeaSupportWithdrawn,
    ContributionPosted,
    IdeaAnswered,
    IdeaPromoted,
    IdeaHidden,
    IdeaUnhidden,
    InterestDeclined,
    InterestWithdrawn,
)

EVENTS_BY_TYPE: dict[str, type[EventData]] = {event.type_name(): event for event in EVENTS}
EVENTS_BY_SUBJECT: dict[str, type[EventData]] = {event.subject: event for event in EVENTS}


def stream_of(event: type[EventData]) -> Stream:
    """The stream an event is published into: the one its owning service owns."""
    return next(stream for stream in STREAMS if stream.owner == event.owner)
