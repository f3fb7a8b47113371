"""Events owned by the matching service (stream MATCHING, subjects `matching.>`)."""

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from .envelope import EventData
from .types import Identifier


class _MatchEvent(EventData):
    owner: ClassVar[str] = "matching"

    match_id: Identifier
    project_id: Identifier
    need_id: Identifier
    member_id: Identifier

    def aggregate_id(self) -> str:
        return self.match_id


class MatchProposed(_MatchEvent):
    """Matching proposes a member's offer for a project's need, and says why."""

    event_name: ClassVar[str] = "MatchProposed"
    subject: ClassVar[str] = "matching.match_proposed.v1"

    offer_id: Identifier
    score: float = Field(ge=0, le=1)
    reasons: list[str] = Field(
        default_factory=list, description="Machine codes such as skill_exact, bond_origin, language:fr"
    )


class _MatchTransition(_MatchEvent):
    reason: str | None = None


class MatchAccepted(_MatchTransition):
    """The member accepted a proposed match."""

    event_name: ClassVar[str] = "MatchAccepted"
    subject: ClassVar[str] = "matching.match_accepted.v1"


class MatchDeclined(_MatchTransition):
    """The member declined a proposed match."""

    event_name: ClassVar[str] = "MatchDeclined"
    subject: ClassVar[str] = "matching.match_declined.v1"


class MatchConfirmed(_MatchTransition):
    """The project owner confirmed an accepted match."""

    event_name: ClassVar[str] = "MatchConfirmed"
    subject: ClassVar[str] = "matching.match_confirmed.v1"


class MatchWithdrawn(_MatchTransition):
    """A match no longer stands: need filled, offer withdrawn, project closed or member erased."""

    event_name: ClassVar[str] = "MatchWithdrawn"
    subject: ClassVar[str] = "matching.match_withdrawn.v1"


class MatchReminded(_MatchEvent):
    """A match waits for an answer past half its delay (the member, for a proposal) or past its delay
    (the project, for an accepted match not yet confirmed). Added in v1.1."""

    event_name: ClassVar[str] = "MatchReminded"
    subject: ClassVar[str] = "matching.match_reminded.v1"

    reminded: Literal["member", "project"] = Field(description="Whose answer is awaited")
    answer_by: datetime = Field(description="When a proposal expires; when an accepted match was due")
