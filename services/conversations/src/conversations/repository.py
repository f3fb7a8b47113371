"""Loading and saving threads, messages and the read models: the protocol the use cases see, and its
SQLAlchemy implementation, which the service's units of work carry."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import String, case, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import ERASED, Message, Participant, Report, Thread
from .orm import MemberRow, MessageRow, ParticipantRow, PendingThreadRow, ProjectRow, ReportRow, ThreadRow


@dataclass(frozen=True)
class Member:
    member_id: str
    display_name: str | None
    managers: tuple[str, ...]
    erased: bool


@dataclass(frozen=True)
class Project:
    project_id: str
    owner_member_id: str
    title: str


@dataclass(frozen=True)
class Pending:
    context_kind: str
    context_id: str
    member_id: str


class ConversationsRepository(Protocol):
    # Read models
    async def save_member(
        self, member_id: str, display_name: str, managers: list[str], as_of: datetime
    ) -> None: ...
    async def erase_member(self, member_id: str) -> None: ...
    async def members(self, member_ids: list[str]) -> dict[str, Member]: ...
    async def save_project(
        self, project_id: str, owner_member_id: str, title: str, as_of: datetime
    ) -> None: ...
    async def project(self, project_id: str) -> Project | None: ...
    async def lock_project(self, project_id: str) -> None: ...
    async def add_pending(
        self, context_kind: str, context_id: str, project_id: str, member_id: str
    ) -> None: ...
    async def take_pending(self, project_id: str) -> list[Pending]: ...

    # Threads and messages
    async def add_thread(self, thread: Thread) -> bool: ...
    async def thread(self, thread_id: str, *, for_update: bool = False) -> Thread | None: ...
    async def threads_of(self, member_id: str, limit: int, offset: int) -> tuple[list[Thread], int]: ...
    async def save_progress(self, thread: Thread) -> None: ...
    async def add_message(self, message: Message) -> None: ...
    async def message(self, message_id: str) -> Message | None: ...
    async def messages(self, thread_id: str, after: int, limit: int) -> tuple[list[Message], int]: ...
    async def add_report(self, message_id: str, reporter_member_id: str, reason: str) -> None: ...
    async def reports(self, limit: int, offset: int) -> tuple[list[Report], int]: ...


class SqlConversationsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Read models

    async def save_member(
        self, member_id: str, display_name: str, managers: list[str], as_of: datetime
    ) -> None:
        """The newest profile wins, whatever order they come in; an erased member stays erased."""
        statement = insert(MemberRow).values(
            member_id=member_id, display_name=display_name, managers=managers, erased=False, as_of=as_of
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[MemberRow.member_id],
                set_={"display_name": display_name, "managers": managers, "as_of": as_of},
                where=(MemberRow.as_of < as_of) & ~MemberRow.erased,
            )
        )

    async def erase_member(self, member_id: str) -> None:
        """The member's name, their side of their threads, their reports and the bodies of their
        messages go; the messages stay, by an erased author, so the other side's thread reads on."""
        statement = insert(MemberRow).values(
            member_id=member_id, display_name=None, managers=[], erased=True, as_of=func.now()
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[MemberRow.member_id],
                set_={"display_name": None, "managers": [], "erased": True},
            )
        )
        await self.session.execute(
            update(MemberRow)
            .where(MemberRow.managers.contains([member_id]))
            .values(managers=MemberRow.managers.op("-")(literal(member_id, String())))
        )
        await self.session.execute(
            update(MessageRow)
            .where(MessageRow.author_member_id == member_id)
            .values(body=None, author_member_id=ERASED)
        )
        await self.session.execute(delete(ParticipantRow).where(ParticipantRow.member_id == member_id))
        await self.session.execute(delete(ReportRow).where(ReportRow.reporter_member_id == member_id))
        await self.session.execute(delete(PendingThreadRow).where(PendingThreadRow.member_id == member_id))

    async def members(self, member_ids: list[str]) -> dict[str, Member]:
        rows = await self.session.scalars(select(MemberRow).where(MemberRow.member_id.in_(member_ids)))
        return {
            row.member_id: Member(row.member_id, row.display_name, tuple(row.managers), row.erased)
            for row in rows
        }

    async def save_project(self, project_id: str, owner_member_id: str, title: str, as_of: datetime) -> None:
        statement = insert(ProjectRow).values(
            project_id=project_id, owner_member_id=owner_member_id, title=title, as_of=as_of
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[ProjectRow.project_id],
                set_={"owner_member_id": owner_member_id, "title": title, "as_of": as_of},
                where=ProjectRow.as_of < as_of,
            )
        )

    async def project(self, project_id: str) -> Project | None:
        row = await self.session.get(ProjectRow, project_id)
        return None if row is None else Project(row.project_id, row.owner_member_id, row.title)

    async def lock_project(self, project_id: str) -> None:
        """Until the unit of work ends: a match confirmed while its project arrives either finds the
        project or leaves a pending thread that the project's handler then sees."""
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"project:{project_id}"))))

    async def add_pending(self, context_kind: str, context_id: str, project_id: str, member_id: str) -> None:
        statement = insert(PendingThreadRow).values(
            context_kind=context_kind, context_id=context_id, project_id=project_id, member_id=member_id
        )
        await self.session.execute(statement.on_conflict_do_nothing())

    async def take_pending(self, project_id: str) -> list[Pending]:
        rows = await self.session.execute(
            delete(PendingThreadRow)
            .where(PendingThreadRow.project_id == project_id)
            .returning(PendingThreadRow.context_kind, PendingThreadRow.context_id, PendingThreadRow.member_id)
        )
        return [Pending(kind, context_id, member_id) for kind, context_id, member_id in rows]

    # Threads and messages

    async def add_thread(self, thread: Thread) -> bool:
        """False when the context already has its thread (a redelivery, or the other way it opens)."""
        values = asdict(thread)
        participants = values.pop("participants")
        added = await self.session.execute(
            insert(ThreadRow).values(**values).on_conflict_do_nothing().returning(ThreadRow.thread_id)
        )
        if added.scalar() is None:
            return False
        await self.session.execute(
            insert(ParticipantRow), [{"thread_id": thread.thread_id, **p} for p in participants]
        )
        return True

    async def thread(self, thread_id: str, *, for_update: bool = False) -> Thread | None:
        """`for_update` locks the thread until the unit of work ends: its messages are numbered in turn."""
        row = await self.session.get(ThreadRow, thread_id, with_for_update=for_update)
        if row is None:
            return None
        participants = await self.session.scalars(
            select(ParticipantRow).where(ParticipantRow.thread_id == thread_id).order_by(ParticipantRow.role)
        )
        return _thread(row, list(participants))

    async def threads_of(self, member_id: str, limit: int, offset: int) -> tuple[list[Thread], int]:
        """The member's threads, those with unread messages first, then the most recently active."""
        mine = (
            select(ParticipantRow.thread_id, ParticipantRow.read_up_to)
            .where(ParticipantRow.member_id == member_id)
            .subquery()
        )
        total = await self.session.scalar(select(func.count()).select_from(mine)) or 0
        unread = case((ThreadRow.last_seq > mine.c.read_up_to, 1), else_=0)
        rows = list(
            await self.session.scalars(
                select(ThreadRow)
                .join(mine, mine.c.thread_id == ThreadRow.thread_id)
                .order_by(
                    unread.desc(),
                    func.coalesce(ThreadRow.last_message_at, ThreadRow.opened_at).desc(),
                    ThreadRow.thread_id,
                )
                .limit(limit)
                .offset(offset)
            )
        )
        participants = await self.session.scalars(
            select(ParticipantRow)
            .where(ParticipantRow.thread_id.in_([row.thread_id for row in rows]))
            .order_by(ParticipantRow.role)
        )
        by_thread: dict[str, list[ParticipantRow]] = {}
        for participant in participants:
            by_thread.setdefault(participant.thread_id, []).append(participant)
        return [_thread(row, by_thread.get(row.thread_id, [])) for row in rows], total

    async def save_progress(self, thread: Thread) -> None:
        """The thread's newest message and each participant's read position."""
        await self.session.execute(
            update(ThreadRow)
            .where(ThreadRow.thread_id == thread.thread_id)
            .values(last_seq=thread.last_seq, last_message_at=thread.last_message_at)
        )
        for participant in thread.participants:
            await self.session.execute(
                update(ParticipantRow)
                .where(
                    ParticipantRow.thread_id == thread.thread_id,
                    ParticipantRow.member_id == participant.member_id,
                )
                .values(read_up_to=participant.read_up_to)
            )

    async def add_message(self, message: Message) -> None:
        self.session.add(MessageRow(**asdict(message)))

    async def message(self, message_id: str) -> Message | None:
        row = await self.session.get(MessageRow, message_id)
        return None if row is None else _message(row)

    async def messages(self, thread_id: str, after: int, limit: int) -> tuple[list[Message], int]:
        """The thread's messages after number `after`, oldest first, and how many there are after it."""
        where = (MessageRow.thread_id == thread_id, MessageRow.seq > after)
        total = await self.session.scalar(select(func.count()).select_from(MessageRow).where(*where)) or 0
        rows = await self.session.scalars(
            select(MessageRow).where(*where).order_by(MessageRow.seq).limit(limit)
        )
        return [_message(row) for row in rows], total

    async def add_report(self, message_id: str, reporter_member_id: str, reason: str) -> None:
        """A second report by the same participant replaces the reason of the first."""
        statement = insert(ReportRow).values(
            message_id=message_id, reporter_member_id=reporter_member_id, reason=reason
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[ReportRow.message_id, ReportRow.reporter_member_id], set_={"reason": reason}
            )
        )

    async def reports(self, limit: int, offset: int) -> tuple[list[Report], int]:
        """Reported messages for the moderators, newest report first."""
        total = await self.session.scalar(select(func.count()).select_from(ReportRow)) or 0
        rows = await self.session.execute(
            select(ReportRow, MessageRow)
            .join(MessageRow, MessageRow.message_id == ReportRow.message_id)
            .order_by(ReportRow.reported_at.desc(), ReportRow.message_id, ReportRow.reporter_member_id)
            .limit(limit)
            .offset(offset)
        )
        found = [
            Report(_message(message), report.reporter_member_id, report.reason, report.reported_at)
            for report, message in rows
        ]
        return found, total


def _thread(row: ThreadRow, participants: list[ParticipantRow]) -> Thread:
    return Thread(
        thread_id=row.thread_id,
        context_kind=row.context_kind,
        context_id=row.context_id,
        title=row.title,
        opened_at=row.opened_at,
        participants=tuple(Participant(p.member_id, p.role, p.read_up_to) for p in participants),
        last_seq=row.last_seq,
        last_message_at=row.last_message_at,
    )


def _message(row: MessageRow) -> Message:
    return Message(row.message_id, row.thread_id, row.seq, row.author_member_id, row.body, row.sent_at)
