"""How one notification reaches one member: always in the inbox, and by e-mail and webhook as their
preferences say, at once or gathered in their next digest; once per channel whatever the
redeliveries of its cause."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from passerelle.contracts import EventData, NotificationDelivered

from .digests import next_digest_at
from .orm import ContactRow, MessageRow
from .preferences import Preferences
from .repository import NotificationsRepository
from .texts import language_of, render

TITLE_LENGTH = 300  # the notifications.title column

Values = Callable[[str], dict[str, str]]  # the message's values, in a language


@dataclass(frozen=True)
class Notice:
    """What one event tells: its kind, the values of its text in a language, and the facts (ids)
    a webhook receiver gets besides."""

    cause_id: str
    kind: str
    values: Values
    facts: dict[str, Any]
    # Notices of this kind whose fact `burst_of` is the same (e.g. one thread's messages) gather in
    # one e-mail, which waits `burst_seconds` for the rest of the burst.
    burst_of: str | None = None
    burst_seconds: float = 0.0


@dataclass(frozen=True)
class Told:
    """What telling someone leaves to do: events to record, and whether the dispatcher has work."""

    events: tuple[EventData, ...] = ()
    queued: bool = False


async def notify(repository: NotificationsRepository, contact: ContactRow, notice: Notice) -> Told:
    """Tell one known, not erased member (their lock is held when digests may gather)."""
    preferences = Preferences.of(await repository.preferences(contact.member_id))
    language = language_of(contact.locale)
    text = render(notice.kind, language, {"name": contact.display_name or "", **notice.values(language)})
    now = datetime.now(UTC)
    events: list[EventData] = []
    queued = False
    for channel in preferences.channels_for(notice.kind):
        if channel == "email" and not contact.email:
            continue
        if channel == "webhook" and not preferences.webhook_url:
            continue
        notification_id = str(uuid.uuid4())
        added = await repository.add_notification(
            {
                "notification_id": notification_id,
                "member_id": contact.member_id,
                "channel": channel,
                "kind": notice.kind,
                "language": text.language,
                "title": text.title[:TITLE_LENGTH],
                "body": text.body,
                "data": notice.facts,
                "cause_event_id": notice.cause_id,
                "status": "delivered" if channel == "inbox" else "pending",
                "delivered_at": now if channel == "inbox" else None,
            }
        )
        if not added:
            continue
        if channel == "inbox":
            events.append(
                NotificationDelivered(
                    notification_id=notification_id,
                    member_id=contact.member_id,
                    channel="inbox",
                    kind=notice.kind,
                    cause_event_id=notice.cause_id,
                )
            )
        else:
            message = await _message_for(repository, contact, preferences, channel, now, notice)
            await repository.attach(notification_id, message.message_id)
            queued = True
    return Told(tuple(events), queued)


async def _message_for(
    repository: NotificationsRepository,
    contact: ContactRow,
    preferences: Preferences,
    channel: str,
    now: datetime,
    notice: Notice,
) -> MessageRow:
    """The e-mail or webhook call that will carry a notification: its own, or the digest or burst
    gathering."""
    digest = preferences.digest != "immediate"
    burst = not digest and channel == "email" and notice.burst_of is not None
    if digest:
        # One digest at a time per member: concurrent events wait here instead of each starting one.
        await repository.lock_member(contact.member_id)
        gathering = await repository.collecting_digest(contact.member_id, channel, now)
        if gathering is not None:
            return gathering
    elif burst:
        await repository.lock_member(contact.member_id)
        fact = notice.burst_of or ""
        gathering = await repository.collecting_burst(
            contact.member_id, notice.kind, fact, str(notice.facts[fact]), now
        )
        if gathering is not None:
            return gathering
    message = MessageRow(
        message_id=str(uuid.uuid4()),
        member_id=contact.member_id,
        channel=channel,
        digest=digest,
        status="pending",
        attempts=0,
        due_at=(
            next_digest_at(now, contact.time_zone, preferences.digest_hour, preferences.digest)
            if digest
            else now + timedelta(seconds=notice.burst_seconds if burst else 0)
        ),
    )
    await repository.add_message(message)
    return message
