"""An in-memory NotificationsRepository for fast tests of the use cases: the same answers as the
PostgreSQL one for what the handlers ask, kept in dicts."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from notifications.commands import DeliveryFilters
from notifications.orm import (
    ContactRow,
    MessageRow,
    NotificationRow,
    PreferencesRow,
    ProjectRow,
    TerritoryRow,
    WaitingRow,
)


class InMemoryNotificationsRepository:
    def __init__(self) -> None:
        self.contacts: dict[str, ContactRow] = {}
        self.preferences_rows: dict[str, PreferencesRow] = {}
        self.territories: dict[str, TerritoryRow] = {}
        self.projects: dict[str, ProjectRow] = {}
        self.pledges: dict[str, tuple[str, str | None, Decimal]] = {}
        self.waiting: dict[tuple[str, str], WaitingRow] = {}
        self.notifications: dict[str, NotificationRow] = {}
        self.messages: dict[str, MessageRow] = {}
        self.locked: list[str] = []

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        kept = {name: copy.copy(value) for name, value in vars(self).items()}
        try:
            yield
        except BaseException:
            vars(self).update(kept)
            raise

    async def upsert_contact(self, member_id: str, values: dict[str, Any], as_of: datetime) -> None:
        known = self.contacts.get(member_id)
        if known is None:
            self.contacts[member_id] = ContactRow(member_id=member_id, as_of=as_of, erased=False, **values)
        elif known.as_of < as_of and not known.erased:
            for key, value in values.items():
                setattr(known, key, value)
            known.as_of = as_of

    async def contact(self, member_id: str) -> ContactRow | None:
        return self.contacts.get(member_id)

    async def lock_member(self, member_id: str) -> None:
        self.locked.append(member_id)

    async def lock_members(self, member_ids: Iterable[str]) -> None:
        for member_id in sorted(set(member_ids)):
            await self.lock_member(member_id)

    async def erased_among(self, member_ids: list[str]) -> set[str]:
        return {sub for sub in member_ids if sub in self.contacts and self.contacts[sub].erased}

    async def wait_for_profile(self, values: dict[str, Any]) -> bool:
        key = (values["cause_event_id"], values["member_id"])
        if key in self.waiting:
            return False
        self.waiting[key] = WaitingRow(**values, created_at=datetime.now(UTC))
        return True

    async def take_waiting(self, member_id: str) -> list[WaitingRow]:
        taken = [row for key, row in self.waiting.items() if key[1] == member_id]
        self.waiting = {key: row for key, row in self.waiting.items() if key[1] != member_id}
        return taken

    async def erase(self, member_id: str, tombstone_as_of: datetime) -> list[str]:
        emails = [
            m.message_id for m in self.messages.values() if m.member_id == member_id and m.channel == "email"
        ]
        self.messages = {k: m for k, m in self.messages.items() if m.member_id != member_id}
        self.notifications = {k: n for k, n in self.notifications.items() if n.member_id != member_id}
        self.preferences_rows.pop(member_id, None)
        for contact in self.contacts.values():
            contact.managers = [sub for sub in contact.managers if sub != member_id]
        self.pledges = {k: (p, None if m == member_id else m, a) for k, (p, m, a) in self.pledges.items()}
        self.contacts[member_id] = ContactRow(
            member_id=member_id,
            display_name=None,
            email=None,
            locale="en",
            time_zone="UTC",
            attachments=[],
            managers=[],
            erased=True,
            as_of=tombstone_as_of,
        )
        return emails

    async def upsert_territory(self, territory_id: str, name: str, parent_id: str | None) -> None:
        self.territories[territory_id] = TerritoryRow(
            territory_id=territory_id, name=name, parent_id=parent_id
        )

    async def territory_name(self, territory_id: str) -> str | None:
        row = self.territories.get(territory_id)
        return row.name if row else None

    async def territory_and_ancestors(self, territory_id: str) -> list[str]:
        chain: list[str] = []
        current: str | None = territory_id
        while current is not None and current not in chain:
            chain.append(current)
            row = self.territories.get(current)
            current = row.parent_id if row else None
        return chain

    async def upsert_project(self, values: dict[str, Any], as_of: datetime) -> None:
        known = self.projects.get(values["project_id"])
        if known is None or known.as_of is None or known.as_of < as_of:
            self.projects[values["project_id"]] = ProjectRow(**values, as_of=as_of)

    async def project(self, project_id: str) -> ProjectRow | None:
        return self.projects.get(project_id)

    async def add_pledge(self, pledge_id: str, project_id: str, member_id: str, amount: Decimal) -> None:
        self.pledges.setdefault(pledge_id, (project_id, member_id, amount))

    async def pledged(self, project_id: str) -> tuple[Decimal, list[str]]:
        mine = [
            (member, amount) for project, member, amount in self.pledges.values() if project == project_id
        ]
        total = sum((amount for _, amount in mine), Decimal(0))
        return total, sorted({member for member, _ in mine if member is not None})

    async def news_readers(self, territories: list[str]) -> list[str]:
        return sorted(
            member_id
            for member_id, row in self.preferences_rows.items()
            if set(row.territory_news) & set(territories)
            and member_id in self.contacts
            and set(self.contacts[member_id].attachments) & set(territories)
            and not self.contacts[member_id].erased
        )

    async def preferences(self, member_id: str) -> PreferencesRow | None:
        return self.preferences_rows.get(member_id)

    async def locked_preferences(self, member_id: str) -> PreferencesRow | None:
        return self.preferences_rows.setdefault(
            member_id,
            PreferencesRow(
                member_id=member_id, channels={}, digest="immediate", digest_hour=8, territory_news=[]
            ),
        )

    async def add_notification(self, values: dict[str, Any]) -> bool:
        key = (values["cause_event_id"], values["member_id"], values["channel"])
        if any((n.cause_event_id, n.member_id, n.channel) == key for n in self.notifications.values()):
            return False
        self.notifications[values["notification_id"]] = NotificationRow(
            **values, created_at=datetime.now(UTC)
        )
        return True

    async def add_message(self, message: MessageRow) -> None:
        self.messages[message.message_id] = message

    async def attach(self, notification_id: str, message_id: str) -> None:
        self.notifications[notification_id].message_id = message_id

    async def collecting_digest(self, member_id: str, channel: str, now: datetime) -> MessageRow | None:
        gathering = [
            m
            for m in self.messages.values()
            if (m.member_id, m.channel, m.digest, m.status, m.attempts)
            == (member_id, channel, True, "pending", 0)
            and m.due_at > now
        ]
        return min(gathering, key=lambda m: m.due_at, default=None)

    async def send_digests_now(self, member_id: str, now: datetime) -> None:
        for message in self.messages.values():
            if message.member_id == member_id and message.digest and message.status == "pending":
                message.due_at = now

    async def inbox(
        self, member_id: str, *, unread: bool, limit: int, offset: int
    ) -> tuple[list[NotificationRow], int]:
        rows = [
            n
            for n in self.notifications.values()
            if n.member_id == member_id and n.channel == "inbox" and not (unread and n.read_at)
        ]
        return rows[offset : offset + limit], len(rows)

    async def notification(self, notification_id: str, *, for_update: bool = False) -> NotificationRow | None:
        return self.notifications.get(notification_id)

    async def mark_all_read(self, member_id: str, now: datetime) -> int:
        unread, _ = await self.inbox(member_id, unread=True, limit=10**6, offset=0)
        for notification in unread:
            notification.read_at = now
        return len(unread)

    async def deliveries(
        self, filters: DeliveryFilters, limit: int, offset: int
    ) -> tuple[list[tuple[NotificationRow, MessageRow | None]], int]:
        wanted = {key: value for key, value in asdict(filters).items() if value}
        rows = [
            (n, self.messages.get(n.message_id or ""))
            for n in self.notifications.values()
            if all(getattr(n, key) == value for key, value in wanted.items())
        ]
        return rows[offset : offset + limit], len(rows)
