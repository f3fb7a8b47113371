"""Threads and messages, and who may do what in them: plain Python, no I/O, no framework."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime

from passerelle.contracts import ERASED_OWNER
from passerelle.errors import Forbidden, RuleBroken

# Threads of one context share one id whoever opens them and however often: the first is the only one.
THREADS = uuid.UUID("6b3f1f0e-5d8e-4f3a-9a51-0c1d8a7e2b90")
ERASED = ERASED_OWNER  # what an erased author is shown as
# Who is who in a match's thread, and the promoter's side of an introduction.
HELPER, OWNER, PROMOTER = "helper", "owner", "promoter"


def thread_id_of(context_kind: str, context_id: str) -> str:
    return str(uuid.uuid5(THREADS, f"{context_kind}:{context_id}"))


@dataclass(frozen=True)
class Participant:
    member_id: str
    role: str
    read_up_to: int = 0  # number of the last message read


@dataclass(frozen=True)
class Thread:
    thread_id: str
    context_kind: str
    context_id: str
    title: str | None
    opened_at: datetime
    participants: tuple[Participant, ...]
    last_seq: int = 0
    last_message_at: datetime | None = None

    @property
    def member_ids(self) -> list[str]:
        return [participant.member_id for participant in self.participants]

    def participant(self, member_id: str) -> Participant | None:
        return next((p for p in self.participants if p.member_id == member_id), None)

    def unread_for(self, member_id: str) -> int:
        participant = self.participant(member_id)
        return 0 if participant is None else self.last_seq - participant.read_up_to


@dataclass(frozen=True)
class Message:
    message_id: str
    thread_id: str
    seq: int
    author_member_id: str
    body: str | None  # None once its author was erased
    sent_at: datetime


@dataclass(frozen=True)
class Report:
    """A participant asked the moderators to look at a message."""

    message: Message
    reporter_member_id: str
    reason: str
    reported_at: datetime


def open_thread(
    context_kind: str, context_id: str, sides: list[tuple[str, str]], title: str | None, now: datetime
) -> Thread | None:
    """The thread of a context between `sides` (member id, role); None when there is nobody to talk
    to: one side erased, or both sides the same member."""
    members = [member_id for member_id, _ in sides]
    if ERASED in members or len(set(members)) < 2:
        return None
    participants = tuple(Participant(member_id, role) for member_id, role in sides)
    return Thread(thread_id_of(context_kind, context_id), context_kind, context_id, title, now, participants)


def acting_participant(thread: Thread, sub: str, managed: Collection[str]) -> Participant:
    """The participant the identity `sub` acts as: itself, or else a member it manages (`managed`,
    among the participants). Nobody else writes or reads: no cold messages."""
    own = thread.participant(sub)
    if own is not None:
        return own
    for participant in thread.participants:
        if participant.member_id in managed:
            return participant
    raise Forbidden("only the participants of a thread (and those who act for them) read and write in it")


def post(
    thread: Thread, author: Participant, message_id: str, body: str, now: datetime
) -> tuple[Thread, Message]:
    """The thread with one more message, which its author has read."""
    seq = thread.last_seq + 1
    participants = tuple(
        replace(p, read_up_to=seq) if p.member_id == author.member_id else p for p in thread.participants
    )
    message = Message(message_id, thread.thread_id, seq, author.member_id, body, now)
    return replace(thread, participants=participants, last_seq=seq, last_message_at=now), message


def check_report(message: Message, reporter: Participant) -> None:
    if message.author_member_id == reporter.member_id:
        raise RuleBroken("a participant reports the other side's messages, not their own")


def read(thread: Thread, reader: Participant) -> Thread:
    """The thread once `reader` has read everything in it."""
    participants = tuple(
        replace(p, read_up_to=thread.last_seq) if p.member_id == reader.member_id else p
        for p in thread.participants
    )
    return replace(thread, participants=participants)
