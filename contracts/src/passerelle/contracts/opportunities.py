"""Events owned by the opportunities service (stream OPPORTUNITIES, subjects `opportunities.>`)."""

from typing import ClassVar

from .envelope import EventData
from .types import Identifier


class IntroductionMade(EventData):
    """The promoter accepted a member's interest: the two are introduced (a thread opens between them)."""

    owner: ClassVar[str] = "opportunities"
    event_name: ClassVar[str] = "IntroductionMade"
    subject: ClassVar[str] = "opportunities.introduction_made.v1"

    interest_id: Identifier
    opportunity_id: Identifier
    promoter_member_id: Identifier
    member_id: Identifier
    role: str

    def aggregate_id(self) -> str:
        return self.opportunity_id
