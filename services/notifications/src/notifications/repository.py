"""The notifications service's reads and writes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    String,
    bindparam,
    case,
    delete,
    func,
    literal,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, array, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.dml import Update
from sqlalchemy.types import TypeEngine

from .commands import DeliveryFilters
from .orm import (
    ContactRow,
    FanOutRow,
    MessageRow,
    NotificationRow,
    PledgeRow,
    PreferencesRow,
    ProjectRow,
    TerritoryRow,
    WaitingRow,
)


@dataclass(frozen=True)
class Claimed:
    """A message a dispatcher claimed: its try is counted unless `attempts` (before the claim) was
    already the last; `target` has one send in flight at a time; `more`: others were due too."""

    message_id: str
    member_id: str
    digest: bool
    attempts: int
    target: str
    more: bool


@dataclass(frozen=True)
class Settled:
    """A notification whose message was settled: what NotificationDelivered or NotificationFailed
    says of it."""

    notification_id: str
    member_id: str
    channel: str
    kind: str
    cause_event_id: str


# Where a member lists the territories whose news of each kind they asked for: new projects, and
# new opportunities (to invest, lend, partner).
NEWS_PREFERENCES = {
    "territory_news": PreferencesRow.territory_news,
    "opportunity_news": PreferencesRow.opportunity_news,
}


Repositories = Callable[[], contextlib.AbstractAsyncContextManager["NotificationsRepository"]]


def outside_transactions(engine: AsyncEngine) -> Repositories:
    """Repositories each of whose statements is a transaction of its own: no BEGIN, COMMIT or
    ROLLBACK round trips, for the looks, claims and reads that are a single statement."""
    sessions = async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )

    @contextlib.asynccontextmanager
    async def repository() -> AsyncIterator[NotificationsRepository]:
        async with sessions() as session:
            yield NotificationsRepository(session)

    return repository


class NotificationsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """What is done inside is undone alone if it fails; the transaction goes on."""
        async with self.session.begin_nested():
            yield

    # Read models fed by events

    async def upsert_contact(self, member_id: str, values: dict[str, Any], as_of: datetime) -> None:
        """Newest facts win whatever the arrival order; an erased member stays erased."""
        statement = insert(ContactRow).values(member_id=member_id, as_of=as_of, **values)
        statement = statement.on_conflict_do_update(
            index_elements=[ContactRow.member_id],
            set_={**{key: statement.excluded[key] for key in values}, "as_of": as_of},
            where=(ContactRow.as_of < statement.excluded.as_of) & ContactRow.erased.is_(False),
        )
        await self.session.execute(statement)

    async def contact(self, member_id: str) -> ContactRow | None:
        return await self.session.get(ContactRow, member_id)

    async def member_and_project(
        self, member_id: str, project_id: str
    ) -> tuple[ContactRow | None, PreferencesRow | None, ProjectRow | None, str | None]:
        """In one read, what telling a member about a project takes: their contact and preferences,
        the project and its territory's name (None for what is not known)."""
        row = (
            await self.session.execute(
                select(ContactRow, PreferencesRow, ProjectRow, TerritoryRow.name)
                .select_from(_ONE_ROW)
                .outerjoin(ContactRow, ContactRow.member_id == member_id)
                .outerjoin(PreferencesRow, PreferencesRow.member_id == member_id)
                .outerjoin(ProjectRow, ProjectRow.project_id == project_id)
                .outerjoin(TerritoryRow, TerritoryRow.territory_id == ProjectRow.territory_id)
                .execution_options(populate_existing=True)
            )
        ).one()
        return row[0], row[1], row[2], row[3]

    async def lock_member(self, member_id: str) -> None:
        """Serialise, until commit, what concerns one member, known or not yet: their profile's arrival,
        their erasure, their preferences, their digests and what waits for them cannot cross."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"notifications.member:{member_id}"},
        )

    async def lock_members(self, member_ids: Iterable[str]) -> None:
        """Every member's lock, taken in one sorted pass (one statement): two events telling the same
        members in opposite orders take their locks in the same order, and cannot deadlock."""
        keys = [f"notifications.member:{member_id}" for member_id in sorted(set(member_ids))]
        if keys:
            await self.session.execute(
                text(
                    "SELECT pg_advisory_xact_lock(hashtextextended(key, 0))"
                    " FROM unnest(CAST(:keys AS text[])) AS key"
                ),
                {"keys": keys},
            )

    async def erased_among(self, member_ids: list[str]) -> set[str]:
        """Which of these identities were erased (an erased person keeps no right here)."""
        if not member_ids:
            return set()
        rows = await self.session.scalars(
            select(ContactRow.member_id).where(ContactRow.member_id.in_(member_ids), ContactRow.erased)
        )
        return set(rows)

    async def wait_for_profile(self, values: dict[str, Any]) -> bool:
        """Keep something to tell a member not known yet; False when it already waits."""
        statement = insert(WaitingRow).values(**values).on_conflict_do_nothing()
        return bool((await self.session.execute(statement.returning(WaitingRow.member_id))).first())

    async def take_waiting(self, member_id: str) -> list[WaitingRow]:
        """What waited for the member, removed: the caller tells it now."""
        rows = list(
            await self.session.scalars(
                delete(WaitingRow)
                .where(WaitingRow.member_id == member_id)
                .returning(WaitingRow)
                .execution_options(synchronize_session=False)
            )
        )
        return sorted(rows, key=lambda row: row.created_at)

    async def waiting_since(self, created_before: datetime) -> bool:
        """Whether something has waited for a profile since before then."""
        query = select(WaitingRow.member_id).where(WaitingRow.created_at < created_before).exists()
        return bool(await self.session.scalar(select(query)))

    async def expire_waiting(self, created_before: datetime) -> list[WaitingRow]:
        """What has waited for a profile since before then, removed: the caller reports it failed."""
        return list(
            await self.session.scalars(
                delete(WaitingRow)
                .where(WaitingRow.created_at < created_before)
                .returning(WaitingRow)
                .execution_options(synchronize_session=False)
            )
        )

    async def erase(self, member_id: str, tombstone_as_of: datetime) -> list[str]:
        """Delete the member's contact data, preferences, messages and anything not yet sent (what
        waited for their profile is the caller's: `take_waiting`), keeping
        a tombstone so that nothing more is sent; their pledges stay, anonymous, for the totals; as a
        manager of associations, they manage them no more. Returns the ids of their e-mails, whose
        copies (.eml files) go too."""
        deleted = await self.session.execute(
            delete(MessageRow)
            .where(MessageRow.member_id == member_id)
            .returning(MessageRow.message_id, MessageRow.channel)
            .execution_options(synchronize_session=False)
        )
        emails = [row.message_id for row in deleted if row.channel == "email"]
        await self.session.execute(
            update(ContactRow)
            .where(ContactRow.managers.contains([member_id]))
            .values(managers=ContactRow.managers.op("-", return_type=JSONB)(literal(member_id, String())))
        )
        await self.session.execute(delete(NotificationRow).where(NotificationRow.member_id == member_id))
        await self.session.execute(delete(PreferencesRow).where(PreferencesRow.member_id == member_id))
        await self.session.execute(
            update(PledgeRow).where(PledgeRow.member_id == member_id).values(member_id=None)
        )
        await self.session.execute(delete(ContactRow).where(ContactRow.member_id == member_id))
        self.session.add(
            ContactRow(
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
        )
        return emails

    async def upsert_territory(self, territory_id: str, name: str, parent_id: str | None) -> None:
        statement = insert(TerritoryRow).values(territory_id=territory_id, name=name, parent_id=parent_id)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[TerritoryRow.territory_id], set_={"name": name, "parent_id": parent_id}
            )
        )

    async def territory_name(self, territory_id: str) -> str | None:
        row = await self.session.get(TerritoryRow, territory_id)
        return row.name if row else None

    async def territory_and_ancestors(self, territory_id: str) -> list[str]:
        chain: list[str] = []
        current: str | None = territory_id
        while current is not None and current not in chain:
            chain.append(current)
            row = await self.session.get(TerritoryRow, current)
            current = row.parent_id if row else None
        return chain

    async def upsert_project(self, values: dict[str, Any], as_of: datetime) -> None:
        """The newest snapshot of a project wins, whatever the arrival order."""
        statement = insert(ProjectRow).values(**values, as_of=as_of)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[ProjectRow.project_id],
                set_={
                    **{key: statement.excluded[key] for key in values if key != "project_id"},
                    "as_of": as_of,
                },
                where=(ProjectRow.as_of.is_(None)) | (ProjectRow.as_of < statement.excluded.as_of),
            )
        )

    async def project(self, project_id: str) -> ProjectRow | None:
        return await self.session.get(ProjectRow, project_id)

    async def add_pledge(self, pledge_id: str, project_id: str, member_id: str, amount: Decimal) -> None:
        statement = insert(PledgeRow).values(
            pledge_id=pledge_id, project_id=project_id, member_id=member_id, amount=amount
        )
        await self.session.execute(statement.on_conflict_do_nothing())

    async def pledged(self, project_id: str) -> tuple[Decimal, list[str]]:
        """The total this service has heard of, and the distinct pledgers still known."""
        rows = (
            await self.session.execute(
                select(PledgeRow.member_id, PledgeRow.amount).where(PledgeRow.project_id == project_id)
            )
        ).all()
        total = sum((row.amount for row in rows), Decimal(0))
        return total, sorted({row.member_id for row in rows if row.member_id is not None})

    # News told in chunks

    async def add_fan_out(self, values: dict[str, Any]) -> None:
        """Keep news to tell in chunks; once per cause and kind, whatever the redeliveries."""
        await self.session.execute(insert(FanOutRow).values(**values).on_conflict_do_nothing())

    async def news_to_tell(self) -> bool:
        """Whether any news is still being told (a look that locks nothing)."""
        return bool(await self.session.scalar(select(select(FanOutRow.cause_event_id).exists())))

    async def next_fan_out(self) -> FanOutRow | None:
        """The oldest news still being told, locked: another worker (or replica) takes another one."""
        return await self.session.scalar(
            select(FanOutRow).order_by(FanOutRow.created_at).limit(1).with_for_update(skip_locked=True)
        )

    async def news_readers_after(
        self, territories: list[str], besides: list[str], after: str, limit: int, preference: str
    ) -> list[str]:
        """The next `limit` members after `after`, in member order, attached to one of these
        territories who asked for news of one of them in `preference` (but `besides`)."""
        asked = NEWS_PREFERENCES[preference]
        rows = await self.session.scalars(
            select(PreferencesRow.member_id)
            .join(ContactRow, ContactRow.member_id == PreferencesRow.member_id)
            .where(
                # Both sides from the cursor: each chunk reads its own members, not all the rest.
                PreferencesRow.member_id > after,
                ContactRow.member_id > after,
                PreferencesRow.member_id.not_in(besides),
                asked.has_any(array(territories)),
                ContactRow.attachments.has_any(array(territories)),
                ContactRow.erased.is_(False),
            )
            .order_by(PreferencesRow.member_id)
            .limit(limit)
        )
        return list(rows)

    async def recipients(self, member_ids: list[str]) -> list[tuple[ContactRow, PreferencesRow]]:
        """The contacts and preferences of these members, but the erased, in member order: one read,
        made once their locks are held, so that an erasure that came first is seen."""
        rows = await self.session.execute(
            select(ContactRow, PreferencesRow)
            .join(PreferencesRow, PreferencesRow.member_id == ContactRow.member_id)
            .where(ContactRow.member_id.in_(member_ids), ContactRow.erased.is_(False))
            .order_by(ContactRow.member_id)
            .execution_options(populate_existing=True)
        )
        return [(row[0], row[1]) for row in rows]

    async def add_notifications_with_messages(
        self, notifications: list[dict[str, Any]], messages: list[dict[str, Any]]
    ) -> set[str]:
        """Several notifications and the e-mails and webhook calls that carry them, in one statement;
        returns the ids of the notifications added. A cause already told to a member on a channel is
        not told again (the uniqueness of cause, member and channel), and its message is not kept."""
        if not notifications:
            return set()
        # Columns as arrays: one statement text whatever the number of rows, prepared once per
        # connection (compiling thousands of VALUES on every call cost more than the database did).
        columns = {name: [row[name] for row in notifications] for name in _TOLD}
        columns["data"] = [json.dumps(data) for data in columns["data"]]
        queued = {f"message_{name}": [row[name] for row in messages] for name in _QUEUED}
        rows = await self.session.execute(_TELL, {**columns, **queued})
        return set(rows.scalars())

    async def advance_fan_out(self, fan_out: FanOutRow, after: str | None) -> None:
        """Told up to `after`; None: told to everyone, the news is done."""
        if after is None:
            await self.session.delete(fan_out)
        else:
            fan_out.after = after
        await self.session.flush()

    # Preferences

    async def preferences(self, member_id: str) -> PreferencesRow | None:
        return await self.session.get(PreferencesRow, member_id)

    async def locked_preferences(self, member_id: str) -> PreferencesRow | None:
        """The member's preferences, created with the defaults if they have none, locked until
        commit: concurrent saves take turns, each reading what the one before it saved. None only
        when an erasure deleted them in between."""
        await self.session.execute(
            insert(PreferencesRow).values(member_id=member_id).on_conflict_do_nothing()
        )
        return await self.session.get(PreferencesRow, member_id, with_for_update=True, populate_existing=True)

    # Notifications and messages

    async def add_notification(self, values: dict[str, Any]) -> bool:
        """False when this cause was already told to this member on this channel."""
        statement = (
            insert(NotificationRow)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(NotificationRow.notification_id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def add_message(self, message: MessageRow) -> None:
        self.session.add(message)
        await self.session.flush()

    async def attach(self, notification_id: str, message_id: str) -> None:
        """The notification goes out with this message (its own, or a digest)."""
        await self.session.execute(
            update(NotificationRow)
            .where(NotificationRow.notification_id == notification_id)
            .values(message_id=message_id)
        )

    async def collecting_digest(self, member_id: str, channel: str, now: datetime) -> MessageRow | None:
        """The member's digest still gathering on that channel (not yet due, never tried)."""
        return await self.session.scalar(
            select(MessageRow)
            .where(
                MessageRow.member_id == member_id,
                MessageRow.channel == channel,
                MessageRow.digest.is_(True),
                MessageRow.status == "pending",
                MessageRow.attempts == 0,
                MessageRow.due_at > now,
            )
            .order_by(MessageRow.due_at)
            .limit(1)
            .with_for_update()
        )

    async def collecting_burst(
        self, member_id: str, kind: str, fact: str, value: str, now: datetime
    ) -> MessageRow | None:
        """The member's e-mail still gathering a burst of notices of `kind` whose `fact` is `value`
        (not yet due, never tried)."""
        return await self.session.scalar(
            select(MessageRow)
            .join(NotificationRow, NotificationRow.message_id == MessageRow.message_id)
            .where(
                MessageRow.member_id == member_id,
                MessageRow.channel == "email",
                MessageRow.digest.is_(False),
                MessageRow.status == "pending",
                MessageRow.attempts == 0,
                MessageRow.due_at > now,
                NotificationRow.kind == kind,
                NotificationRow.data[fact].astext == value,
            )
            .order_by(MessageRow.due_at)
            .limit(1)
            .with_for_update(of=MessageRow)
        )

    async def send_digests_now(self, member_id: str, now: datetime) -> None:
        """The member gave up digests: what was gathering goes out at once."""
        await self.session.execute(
            update(MessageRow)
            .where(
                MessageRow.member_id == member_id,
                MessageRow.digest.is_(True),
                MessageRow.status == "pending",
                MessageRow.attempts == 0,
            )
            .values(due_at=now)
        )

    async def claim_due_message(
        self, channel: str, busy: Iterable[str], now: datetime, lease_until: datetime, tries: int
    ) -> Claimed | None:
        """In one statement (outside any transaction: it is its own), the oldest message due on that
        channel whose target is not `busy`, leased until `lease_until` with its try counted (but not
        past `tries`: one whose lease ran out after its last try keeps its count). Other dispatchers,
        replicas, skip it meanwhile."""
        target = case(
            (MessageRow.channel == "webhook", func.coalesce(_authority(PreferencesRow.webhook_url), "")),
            else_=MessageRow.member_id,
        )
        chosen = (
            select(MessageRow.message_id, MessageRow.attempts, target.label("target"))
            .outerjoin(PreferencesRow, PreferencesRow.member_id == MessageRow.member_id)
            .where(*_due(MessageRow, channel, now), target.not_in(list(busy)))
            .order_by(MessageRow.due_at)
            .limit(1)
            .with_for_update(of=MessageRow, skip_locked=True)
            .subquery("chosen")
        )
        other = aliased(MessageRow)
        others = select(other.message_id).where(
            *_due(other, channel, now), other.message_id != chosen.c.message_id
        )
        row = (
            await self.session.execute(
                update(MessageRow)
                .where(MessageRow.message_id == chosen.c.message_id)
                .values(
                    attempts=case(
                        (chosen.c.attempts < tries, chosen.c.attempts + 1), else_=chosen.c.attempts
                    ),
                    due_at=lease_until,
                )
                .returning(
                    MessageRow.message_id,
                    MessageRow.member_id,
                    MessageRow.digest,
                    chosen.c.attempts,
                    chosen.c.target,
                    others.exists(),
                )
                .execution_options(synchronize_session=False)
            )
        ).first()
        return Claimed(*row) if row is not None else None

    async def message_to_send(
        self, message_id: str, member_id: str
    ) -> tuple[ContactRow | None, PreferencesRow | None, list[NotificationRow]]:
        """In one read, what a message is built from: its member's contact and preferences, and the
        notifications it carries (oldest first)."""
        rows = (
            await self.session.execute(
                select(ContactRow, PreferencesRow, NotificationRow)
                .select_from(_ONE_ROW)
                .outerjoin(ContactRow, ContactRow.member_id == member_id)
                .outerjoin(PreferencesRow, PreferencesRow.member_id == member_id)
                .outerjoin(NotificationRow, NotificationRow.message_id == message_id)
                .order_by(NotificationRow.created_at, NotificationRow.notification_id)
            )
        ).all()
        notifications = [row[2] for row in rows if row[2] is not None]
        return rows[0][0], rows[0][1], notifications

    async def settle_sent(self, message_id: str, attempts: int, now: datetime) -> list[Settled]:
        """The message of that try went out: it and its notifications are delivered (unless it was
        erased meanwhile, or its lease ran out and another try owns it). Returns what it carried."""
        settled = self._settled(message_id, attempts, status="sent", sent_at=now, last_error=None)
        return await self._tell_outcome(settled, status="delivered", delivered_at=now)

    async def settle_failed(self, message_id: str, attempts: int, error: str) -> list[Settled]:
        """The message of that try failed for good: it and its notifications are failed, saying why."""
        settled = self._settled(message_id, attempts, status="failed", last_error=error)
        return await self._tell_outcome(settled, status="failed", error=error)

    async def retry_later(self, message_id: str, attempts: int, error: str, due_at: datetime) -> None:
        """The message of that try failed: it is tried again at `due_at`."""
        await self.session.execute(self._settled(message_id, attempts, due_at=due_at, last_error=error))

    async def drop_message(self, message_id: str, attempts: int) -> None:
        """Nothing is left to send in the message of that try (its member was erased): it goes."""
        await self.session.execute(
            delete(MessageRow)
            .where(*_tried(message_id, attempts))
            .execution_options(synchronize_session=False)
        )

    def _settled(self, message_id: str, attempts: int, **values: Any) -> Update:
        return (
            update(MessageRow)
            .where(*_tried(message_id, attempts))
            .values(**values)
            .returning(MessageRow.message_id)
            .execution_options(synchronize_session=False)
        )

    async def _tell_outcome(self, settled: Update, **values: Any) -> list[Settled]:
        """The settled message's notifications take `values`, in the same statement."""
        message = settled.cte("settled")
        rows = await self.session.execute(
            update(NotificationRow)
            .where(NotificationRow.message_id.in_(select(message.c.message_id)))
            .values(**values)
            .returning(
                NotificationRow.notification_id,
                NotificationRow.member_id,
                NotificationRow.channel,
                NotificationRow.kind,
                NotificationRow.cause_event_id,
                NotificationRow.created_at,
            )
            .execution_options(synchronize_session=False)
        )
        told = sorted(rows, key=lambda row: (row.created_at, row.notification_id))
        return [Settled(row[0], row[1], row[2], row[3], row[4]) for row in told]

    async def inbox(
        self, member_id: str, *, unread: bool, limit: int, offset: int
    ) -> tuple[list[NotificationRow], int]:
        conditions = [NotificationRow.member_id == member_id, NotificationRow.channel == "inbox"]
        if unread:
            conditions.append(NotificationRow.read_at.is_(None))
        return await self._page(conditions, limit, offset)

    async def notification(self, notification_id: str, *, for_update: bool = False) -> NotificationRow | None:
        return await self.session.get(NotificationRow, notification_id, with_for_update=for_update)

    async def mark_all_read(self, member_id: str, now: datetime) -> int:
        result = await self.session.execute(
            update(NotificationRow)
            .where(
                NotificationRow.member_id == member_id,
                NotificationRow.channel == "inbox",
                NotificationRow.read_at.is_(None),
            )
            .values(read_at=now)
            .returning(NotificationRow.notification_id)
        )
        return len(result.all())

    async def deliveries(
        self, filters: DeliveryFilters, limit: int, offset: int
    ) -> tuple[list[tuple[NotificationRow, MessageRow | None]], int]:
        conditions = [
            getattr(NotificationRow, key) == value for key, value in asdict(filters).items() if value
        ]
        total = await self._count(conditions)
        rows = (
            await self.session.execute(
                select(NotificationRow, MessageRow)
                .outerjoin(MessageRow, MessageRow.message_id == NotificationRow.message_id)
                .where(*conditions)
                .order_by(NotificationRow.created_at.desc(), NotificationRow.notification_id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return [(row[0], row[1]) for row in rows], total

    async def _page(
        self, conditions: list[ColumnElement[bool]], limit: int, offset: int
    ) -> tuple[list[NotificationRow], int]:
        total = await self._count(conditions)
        rows = await self.session.scalars(
            select(NotificationRow)
            .where(*conditions)
            .order_by(NotificationRow.created_at.desc(), NotificationRow.notification_id)
            .limit(limit)
            .offset(offset)
        )
        return list(rows), total

    async def _count(self, conditions: list[ColumnElement[bool]]) -> int:
        query = select(func.count()).select_from(NotificationRow).where(*conditions)
        return await self.session.scalar(query) or 0


def _due(message: type[MessageRow], channel: str, now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (message.status == "pending", message.due_at <= now, message.channel == channel)


def _tried(message_id: str, attempts: int) -> tuple[ColumnElement[bool], ...]:
    """The message, still as that try left it (not settled, not claimed again since)."""
    return (
        MessageRow.message_id == message_id,
        MessageRow.status == "pending",
        MessageRow.attempts == attempts,
    )


# What outer joins start from, so that a read of several rows, each perhaps absent, is one row.
# A cacheable one-row source (a VALUES construct is not: each statement using it was compiled anew).
_ONE_ROW = select(literal_column("1").label("one")).subquery("one")

# What `add_notifications_with_messages` passes, one array per column.
_TOLD: dict[str, TypeEngine[Any]] = {
    "notification_id": String(),
    "member_id": String(),
    "channel": String(),
    "kind": String(),
    "language": String(),
    "title": String(),
    "body": String(),
    "data": String(),
    "cause_event_id": String(),
    "status": String(),
    "delivered_at": DateTime(timezone=True),
    "message_id": String(),
}
_QUEUED: dict[str, TypeEngine[Any]] = {
    "message_id": String(),
    "member_id": String(),
    "channel": String(),
    "digest": Boolean(),
    "due_at": DateTime(timezone=True),
}
# The notifications first, then only the messages of those added: the foreign key of a
# notification is checked at the end of the statement, once its message is in.
_TELL = text(
    """
    WITH told AS (
        INSERT INTO notifications (notification_id, member_id, channel, kind, language, title, body,
                                   data, cause_event_id, status, delivered_at, message_id)
        SELECT notification_id, member_id, channel, kind, language, title, body, data::jsonb,
               cause_event_id, status, delivered_at, message_id
        FROM unnest(:notification_id, :member_id, :channel, :kind, :language, :title, :body, :data,
                    :cause_event_id, :status, :delivered_at, :message_id)
            AS n(notification_id, member_id, channel, kind, language, title, body, data,
                 cause_event_id, status, delivered_at, message_id)
        ON CONFLICT DO NOTHING
        RETURNING notification_id, message_id
    ), queued AS (
        INSERT INTO messages (message_id, member_id, channel, digest, status, attempts, due_at)
        SELECT m.message_id, m.member_id, m.channel, m.digest, 'pending', 0, m.due_at
        FROM unnest(:message_message_id, :message_member_id, :message_channel, :message_digest,
                    :message_due_at) AS m(message_id, member_id, channel, digest, due_at)
        JOIN told ON told.message_id = m.message_id
    )
    SELECT notification_id FROM told
    """
).bindparams(
    *(bindparam(name, type_=ARRAY(kind)) for name, kind in _TOLD.items()),
    *(bindparam(f"message_{name}", type_=ARRAY(kind)) for name, kind in _QUEUED.items()),
)


def _authority(url: ColumnElement[str | None] | InstrumentedAttribute[str | None]) -> ColumnElement[str]:
    """Where a webhook call goes: its URL's host and port (what lies between the scheme's // and the
    path, lower-cased; webhook URLs hold no credentials)."""
    return func.lower(func.substring(url, "^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)"))
