"""Events owned by the notifications service (stream NOTIFICATIONS, subjects `notifications.>`)."""

from typing import ClassVar

from pydantic import Field

from .envelope import EventData
from .types import Channel, Identifier


class _NotificationEvent(EventData):
    owner: ClassVar[str] = "notifications"

    notification_id: Identifier
    member_id: Identifier
    channel: Channel
    kind: str = Field(
        min_length=1, max_length=100, description="What the message was about, e.g. match_proposed"
    )
    cause_event_id: Identifier

    def aggregate_id(self) -> str:
        return self.notification_id


class NotificationDelivered(_NotificationEvent):
    """A notification reached its channel."""

    event_name: ClassVar[str] = "NotificationDelivered"
    subject: ClassVar[str] = "notifications.notification_delivered.v1"


class NotificationFailed(_NotificationEvent):
    """A notification could not be delivered after its last try."""

    event_name: ClassVar[str] = "NotificationFailed"
    subject: ClassVar[str] = "notifications.notification_failed.v1"

    error: str = Field(max_length=2000)
