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
from .orm import ContactRow, MessageRow, PreferencesRow
from .preferences import Preferences
from .repository import NotificationsRepository
from .texts import Text, language_of, render

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
    """What telling someone leaves to do: events to record, and the channels on which the dispatcher
    has new work."""

    events: tuple[EventData, ...] = ()
    queued: frozenset[str] = frozenset()


async def notify(repository: NotificationsRepository, contact: ContactRow, notice: Notice) -> Told:
    """Tell one known, not erased member (their lock is held when digests may gather)."""
    return await notify_with(repository, contact, await repository.preferences(contact.member_id), notice)


async def notify_with(
    repository: NotificationsRepository, contact: ContactRow, row: PreferencesRow | None, notice: Notice
) -> Told:
    """`notify`, the member's preferences read already (None: the defaults)."""
    preferences = Preferences.of(row)
    if preferences.digest == "immediate" and notice.burst_of is None:
        return await _tell_at_once(repository, [(contact, preferences)], notice)
    text = _text(contact, notice)
    now = datetime.now(UTC)
    events: list[EventData] = []
    queued: set[str] = set()
    for channel in _channels(contact, preferences, notice.kind):
        notification = _notification(contact, channel, text, notice, now)
        if not await repository.add_notification(notification):
            continue
        if channel == "inbox":
            events.append(_delivered(notification))
        else:
            message = await _message_for(repository, contact, preferences, channel, now, notice)
            await repository.attach(notification["notification_id"], message.message_id)
            queued.add(channel)
    return Told(tuple(events), frozenset(queued))


async def notify_all(
    repository: NotificationsRepository, recipients: list[tuple[ContactRow, PreferencesRow]], notice: Notice
) -> Told:
    """Tell several known, not erased members, their locks held: the inbox, e-mails and webhooks of
    all who want them at once in one statement; those whose messages gather in digests each on their
    own, as `notify` does."""
    at_once: list[tuple[ContactRow, Preferences]] = []
    digested: list[tuple[ContactRow, PreferencesRow]] = []
    for contact, row in recipients:
        preferences = Preferences.of(row)
        if preferences.digest == "immediate":
            at_once.append((contact, preferences))
        else:
            digested.append((contact, row))
    told = await _tell_at_once(repository, at_once, notice)
    events, queued = list(told.events), told.queued
    for contact, row in digested:
        told = await notify_with(repository, contact, row, notice)
        events += told.events
        queued |= told.queued
    return Told(tuple(events), queued)


async def _tell_at_once(
    repository: NotificationsRepository, recipients: list[tuple[ContactRow, Preferences]], notice: Notice
) -> Told:
    """Members whose e-mails and webhook calls go out at once (no digest, no burst to gather): their
    notifications and messages in one statement."""
    now = datetime.now(UTC)
    notifications: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for contact, preferences in recipients:
        text = _text(contact, notice)
        for channel in _channels(contact, preferences, notice.kind):
            message_id = None
            if channel != "inbox":
                message_id = str(uuid.uuid4())
                messages.append(
                    {
                        "message_id": message_id,
                        "member_id": contact.member_id,
                        "channel": channel,
                        "digest": False,
                        "due_at": now,
                    }
                )
            notifications.append(_notification(contact, channel, text, notice, now, message_id))
    added = await repository.add_notifications_with_messages(notifications, messages)
    new = [row for row in notifications if row["notification_id"] in added]
    events: list[EventData] = [_delivered(row) for row in new if row["channel"] == "inbox"]
    return Told(tuple(events), frozenset(row["channel"] for row in new if row["message_id"]))


def _text(contact: ContactRow, notice: Notice) -> Text:
    language = language_of(contact.locale)
    return render(notice.kind, language, {"name": contact.display_name or "", **notice.values(language)})


def _channels(contact: ContactRow, preferences: Preferences, kind: str) -> list[str]:
    """The member's channels for this kind that can reach them."""
    return [
        channel
        for channel in preferences.channels_for(kind)
        if not (channel == "email" and not contact.email)
        and not (channel == "webhook" and not preferences.webhook_url)
    ]


def _notification(
    contact: ContactRow,
    channel: str,
    text: Text,
    notice: Notice,
    now: datetime,
    message_id: str | None = None,
) -> dict[str, Any]:
    inbox = channel == "inbox"
    return {
        "notification_id": str(uuid.uuid4()),
        "member_id": contact.member_id,
        "channel": channel,
        "kind": notice.kind,
        "language": text.language,
        "title": text.title[:TITLE_LENGTH],
        "body": text.body,
        "data": notice.facts,
        "cause_event_id": notice.cause_id,
        "status": "delivered" if inbox else "pending",
        "delivered_at": now if inbox else None,
        "message_id": message_id,
    }


def _delivered(row: dict[str, Any]) -> NotificationDelivered:
    return NotificationDelivered(
        notification_id=row["notification_id"],
        member_id=row["member_id"],
        channel="inbox",
        kind=row["kind"],
        cause_event_id=row["cause_event_id"],
    )


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
