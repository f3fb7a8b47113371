"""Use cases of the conversations service: one unit of work each; they raise passerelle.errors and know
no HTTP and no messaging."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from passerelle.contracts import MessagePosted, ThreadOpened
from passerelle.errors import Forbidden, NotFound, RuleBroken
from passerelle.identity import Identity
from passerelle.unit_of_work import UnitOfWork

from . import domain
from .commands import PostMessage, ReportMessage
from .domain import HELPER, OWNER, PROMOTER, Message, Participant, Report, Thread
from .repository import ConversationsRepository, Member

log = structlog.get_logger(__name__)

ConversationsUnitOfWork = UnitOfWork[ConversationsRepository]
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ThreadView:
    """A thread as one reader sees it: the participants' names, and what that reader has not read."""

    thread: Thread
    names: dict[str, str | None]
    unread: int


class ConversationsHandlers:
    def __init__(self, units: Callable[[], ConversationsUnitOfWork], clock: Clock = _now) -> None:
        self.units = units
        self.clock = clock

    # Read models and the threads that open by themselves; the consumer commits, with the event's
    # inbox record.

    async def remember_member(
        self,
        member_id: str,
        display_name: str,
        managers: list[str],
        as_of: datetime,
        uow: ConversationsUnitOfWork,
    ) -> None:
        await uow.repository.save_member(member_id, display_name, list(dict.fromkeys(managers)), as_of)

    async def forget_member(self, member_id: str, uow: ConversationsUnitOfWork) -> None:
        """An erased member's name and message bodies go (CONTRACT.md 4.1); the threads stay for the
        other side."""
        await uow.repository.erase_member(member_id)

    async def remember_project(
        self, project_id: str, owner_member_id: str, title: str, as_of: datetime, uow: ConversationsUnitOfWork
    ) -> None:
        """Keep the project's owner and title; open the threads of its matches confirmed before it came."""
        repository = uow.repository
        await repository.lock_project(project_id)
        await repository.save_project(project_id, owner_member_id, title, as_of)
        project = await repository.project(project_id)
        for pending in await repository.take_pending(project_id):
            if project is not None:
                sides = [(pending.member_id, HELPER), (project.owner_member_id, OWNER)]
                await self._open(uow, pending.context_kind, pending.context_id, sides, project.title)

    async def remember_opportunity(
        self,
        opportunity_id: str,
        promoter_member_id: str,
        title: str,
        as_of: datetime,
        uow: ConversationsUnitOfWork,
    ) -> None:
        """Matching confirms helpers for an opportunity's support needs with its id as `project_id`:
        the promoter is that match's owner, kept and followed as a project's owner is."""
        await self.remember_project(opportunity_id, promoter_member_id, title, as_of, uow)

    async def open_for_match(
        self, match_id: str, project_id: str, member_id: str, uow: ConversationsUnitOfWork
    ) -> None:
        """A confirmed match opens a thread between the member and the project's owner (whoever
        manages the owner acts for it), once; if the project is not known yet, when it comes."""
        await uow.repository.lock_project(project_id)
        project = await uow.repository.project(project_id)
        if project is None:
            await uow.repository.add_pending("match", match_id, project_id, member_id)
            log.info("conversations.waiting_for_project", match_id=match_id, project_id=project_id)
            return
        sides = [(member_id, HELPER), (project.owner_member_id, OWNER)]
        await self._open(uow, "match", match_id, sides, project.title)

    async def open_for_introduction(
        self,
        interest_id: str,
        promoter_member_id: str,
        member_id: str,
        role: str,
        uow: ConversationsUnitOfWork,
    ) -> None:
        sides = [(member_id, role), (promoter_member_id, PROMOTER)]
        await self._open(uow, "introduction", interest_id, sides, None)

    async def _open(
        self,
        uow: ConversationsUnitOfWork,
        context_kind: str,
        context_id: str,
        sides: list[tuple[str, str]],
        title: str | None,
    ) -> None:
        erased = {
            m for m, member in (await uow.repository.members([m for m, _ in sides])).items() if member.erased
        }
        sides = [(domain.ERASED if member_id in erased else member_id, role) for member_id, role in sides]
        thread = domain.open_thread(context_kind, context_id, sides, title, self.clock())
        if thread is None:
            log.warning("conversations.nobody_to_talk_to", context_kind=context_kind, context_id=context_id)
            return
        if await uow.repository.add_thread(thread):
            uow.record(
                ThreadOpened(
                    thread_id=thread.thread_id,
                    context_kind=context_kind,
                    context_id=context_id,
                    participant_member_ids=thread.member_ids,
                    title=title,
                )
            )

    # The participants' own calls

    async def threads(
        self, identity: Identity, member_id: str, limit: int, offset: int
    ) -> tuple[list[ThreadView], int]:
        async with self.units() as uow:
            repository = uow.repository
            if not (identity.is_operator or identity.sub == member_id):
                member = (await repository.members([member_id])).get(member_id)
                if member is None or identity.sub not in member.managers:
                    raise Forbidden("you may list only your own threads, or those of a member you manage")
            threads, total = await repository.threads_of(member_id, limit, offset)
            members = await repository.members(sorted({m for t in threads for m in t.member_ids}))
            return [_view(thread, members, thread.participant(member_id)) for thread in threads], total

    async def thread(self, identity: Identity, thread_id: str) -> ThreadView:
        async with self.units() as uow:
            thread, members, reader = await _reading(uow, identity, thread_id)
            return _view(thread, members, reader)

    async def messages(
        self, identity: Identity, thread_id: str, after: str | None, limit: int
    ) -> tuple[list[Message], int]:
        async with self.units() as uow:
            await _reading(uow, identity, thread_id)
            after_seq = 0
            if after is not None:
                since = await uow.repository.message(after)
                if since is None or since.thread_id != thread_id:
                    raise RuleBroken(f"after: {after} is not a message of this thread")
                after_seq = since.seq
            return await uow.repository.messages(thread_id, after_seq, limit)

    async def post(self, identity: Identity, thread_id: str, command: PostMessage) -> Message:
        async with self.units() as uow:
            thread, _, author = await _reading(uow, identity, thread_id, for_update=True)
            if author is None:
                raise Forbidden("operators read threads to moderate them; only participants write")
            thread, message = domain.post(thread, author, str(uuid.uuid4()), command.body, self.clock())
            await uow.repository.add_message(message)
            await uow.repository.save_progress(thread)
            uow.record(
                MessagePosted(
                    message_id=message.message_id,
                    thread_id=thread_id,
                    author_member_id=author.member_id,
                    participant_member_ids=thread.member_ids,
                    title=thread.title,
                    sent_at=message.sent_at,
                )
            )
            await uow.commit()
        return message

    async def mark_read(self, identity: Identity, thread_id: str) -> ThreadView:
        """The reader has read everything written so far."""
        async with self.units() as uow:
            thread, members, reader = await _reading(uow, identity, thread_id, for_update=True)
            if reader is None:
                raise Forbidden("only a participant has a read position")
            thread = domain.read(thread, reader)
            await uow.repository.save_progress(thread)
            await uow.commit()
        return _view(thread, members, thread.participant(reader.member_id))

    async def report(
        self, identity: Identity, thread_id: str, message_id: str, command: ReportMessage
    ) -> None:
        async with self.units() as uow:
            _, _, reporter = await _reading(uow, identity, thread_id)
            message = await uow.repository.message(message_id)
            if message is None or message.thread_id != thread_id:
                raise NotFound("message", message_id)
            if reporter is None:
                raise Forbidden("only a participant reports a message")
            domain.check_report(message, reporter)
            await uow.repository.add_report(message_id, reporter.member_id, command.reason)
            await uow.commit()
        log.info("conversations.message_reported", thread_id=thread_id, message_id=message_id)

    async def reports(self, identity: Identity, limit: int, offset: int) -> tuple[list[Report], int]:
        if not identity.is_operator:
            raise Forbidden("reports are for the operators who moderate")
        async with self.units() as uow:
            return await uow.repository.reports(limit, offset)


async def _reading(
    uow: ConversationsUnitOfWork, identity: Identity, thread_id: str, *, for_update: bool = False
) -> tuple[Thread, dict[str, Member], Participant | None]:
    """The thread, its participants' read models, and the participant the caller acts as (None for an
    operator who is none of them, reading to moderate); 403 for anyone else."""
    thread = await uow.repository.thread(thread_id, for_update=for_update)
    if thread is None:
        raise NotFound("thread", thread_id)
    members = await uow.repository.members(thread.member_ids)
    managed = {member_id for member_id, member in members.items() if identity.sub in member.managers}
    try:
        return thread, members, domain.acting_participant(thread, identity.sub, managed)
    except Forbidden:
        if identity.is_operator:
            return thread, members, None
        raise


def _view(thread: Thread, members: dict[str, Member], reader: Participant | None) -> ThreadView:
    names = {m: members[m].display_name if m in members else None for m in thread.member_ids}
    return ThreadView(thread, names, thread.unread_for(reader.member_id) if reader else 0)
