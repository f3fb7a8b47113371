"""Events owned by the conversations service (stream CONVERSATIONS, subjects `conversations.>`)."""

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from .envelope import EventData
from .types import Identifier


class _ThreadEvent(EventData):
    owner: ClassVar[str] = "conversations"

    thread_id: Identifier
    participant_member_ids: list[Identifier] = Field(min_length=1)
    title: str | None = Field(
        default=None, max_length=200, description="What the thread is about (a project's title), if known"
    )

    def aggregate_id(self) -> str:
        return self.thread_id


class ThreadOpened(_ThreadEvent):
    """A thread opened between people who share a context: a confirmed match, an introduction."""

    event_name: ClassVar[str] = "ThreadOpened"
    subject: ClassVar[str] = "conversations.thread_opened.v1"

    context_kind: str = Field(min_length=1, max_length=30, description="match | introduction | gathering")
    context_id: Identifier


class MessagePosted(_ThreadEvent):
    """A participant wrote in a thread. Never the body: it stays in the conversations service."""

    event_name: ClassVar[str] = "MessagePosted"
    subject: ClassVar[str] = "conversations.message_posted.v1"

    message_id: Identifier
    author_member_id: Identifier
    sent_at: datetime
