"""The public contract (CONTRACT.md §1): the CloudEvents envelope and every v1 event."""

from .conversations import MessagePosted, ThreadOpened
from .envelope import CONTENT_TYPE, CloudEvent, EventData, correlation_id, envelope, envelope_type
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
    MemberProfile,
    MemberProfileUpdated,
    MemberRegistered,
    SkillOffered,
    SkillOfferUpdated,
    SkillOfferWithdrawn,
)
from .notifications import NotificationDelivered, NotificationFailed
from .opportunities import IntroductionMade
from .projects import (
    ERASED_OWNER,
    FundingGoalReached,
    PledgeMade,
    ProjectClosed,
    ProjectPublished,
    ProjectSnapshot,
    ProjectUpdated,
    TerritoryManagerNamed,
    TerritoryManagerRemoved,
    TerritoryRegistered,
)
from .registry import DLQ_STREAM, EVENTS, EVENTS_BY_SUBJECT, EVENTS_BY_TYPE, STREAMS, Stream, stream_of
from .types import Attachment, FundingGoal, Need

__all__ = [
    "CONTENT_TYPE",
    "DLQ_STREAM",
    "ERASED_OWNER",
    "EVENTS",
    "EVENTS_BY_SUBJECT",
    "EVENTS_BY_TYPE",
    "STREAMS",
    "Attachment",
    "CloudEvent",
    "EventData",
    "FundingGoal",
    "FundingGoalReached",
    "IntroductionMade",
    "MatchAccepted",
    "MatchConfirmed",
    "MatchDeclined",
    "MatchProposed",
    "MatchReminded",
    "MatchWithdrawn",
    "MemberErased",
    "MemberProfile",
    "MemberProfileUpdated",
    "MemberRegistered",
    "MessagePosted",
    "Need",
    "NotificationDelivered",
    "NotificationFailed",
    "PledgeMade",
    "ProjectClosed",
    "ProjectPublished",
    "ProjectSnapshot",
    "ProjectUpdated",
    "SkillOfferUpdated",
    "SkillOfferWithdrawn",
    "SkillOffered",
    "Stream",
    "TerritoryManagerNamed",
    "TerritoryManagerRemoved",
    "TerritoryRegistered",
    "ThreadOpened",
    "correlation_id",
    "envelope",
    "envelope_type",
    "stream_of",
]
