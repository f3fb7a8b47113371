"""The conversations service's use cases, on an in-memory repository: milliseconds, no NATS, no PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from conversations.commands import PostMessage, ReportMessage
from conversations.domain import ERASED, Message, Report, Thread
from conversations.handlers import ConversationsHandlers
from conversations.repository import Member, Pending, Project
from passerelle.contracts import MessagePosted, ThreadOpened
from passerelle.errors import Forbidden, RuleBroken
from passerelle.identity import Identity
from passerelle.unit_of_work import InMemoryUnitOfWork

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
FATIMA = Identity(sub="fatima", roles=frozenset({"member"}))
AMINA = Identity(sub="amina", roles=frozenset({"member"}))
YOUSSEF = Identity(sub="youssef", roles=frozenset({"member"}))
OPERATOR = Identity(sub="op", roles=frozenset({"operator"}))


class InMemoryConversations:
    """The repository's protocol over dicts; what a unit of work did not commit is still visible,
    which the use cases never rely on."""

    def __init__(self) -> None:
        self.members_: dict[str, Member] = {}
        self.projects: dict[str, Project] = {}
        self.pending: dict[tuple[str, str], tuple[str, str]] = {}
        self.threads: dict[str, Thread] = {}
        self.messages_: dict[str, Message] = {}
        self.reported: dict[tuple[str, str], str] = {}

    async def save_member(
        self, member_id: str, display_name: str, managers: list[str], as_of: datetime
    ) -> None:
        if not (member_id in self.members_ and self.members_[member_id].erased):
            self.members_[member_id] = Member(member_id, display_name, tuple(managers), False)

    async def erase_member(self, member_id: str) -> None:
        self.members_[member_id] = Member(member_id, None, (), True)
        for key, message in self.messages_.items():
            if message.author_member_id == member_id:
                self.messages_[key] = replace(message, body=None, author_member_id=ERASED)
        for key, thread in self.threads.items():
            kept = tuple(p for p in thread.participants if p.member_id != member_id)
            self.threads[key] = replace(thread, participants=kept)

    async def members(self, member_ids: list[str]) -> dict[str, Member]:
        return {m: self.members_[m] for m in member_ids if m in self.members_}

    async def save_project(self, project_id: str, owner_member_id: str, title: str, as_of: datetime) -> None:
        self.projects[project_id] = Project(project_id, owner_member_id, title)

    async def project(self, project_id: str) -> Project | None:
        return self.projects.get(project_id)

    async def lock_project(self, project_id: str) -> None:
        """One unit of work at a time already."""

    async def add_pending(self, context_kind: str, context_id: str, project_id: str, member_id: str) -> None:
        self.pending[(context_kind, context_id)] = (project_id, member_id)

    async def take_pending(self, project_id: str) -> list[Pending]:
        taken = [key for key, (project, _) in self.pending.items() if project == project_id]
        return [
            Pending(kind, context_id, self.pending.pop((kind, context_id))[1]) for kind, context_id in taken
        ]

    async def add_thread(self, thread: Thread) -> bool:
        if thread.thread_id in self.threads:
            return False
        self.threads[thread.thread_id] = thread
        return True

    async def thread(self, thread_id: str, *, for_update: bool = False) -> Thread | None:
        return self.threads.get(thread_id)

    async def threads_of(self, member_id: str, limit: int, offset: int) -> tuple[list[Thread], int]:
        mine = [t for t in self.threads.values() if t.participant(member_id)]
        mine.sort(key=lambda t: (t.unread_for(member_id) == 0, -(t.last_seq)))
        return mine[offset : offset + limit], len(mine)

    async def save_progress(self, thread: Thread) -> None:
        self.threads[thread.thread_id] = thread

    async def add_message(self, message: Message) -> None:
        self.messages_[message.message_id] = message

    async def message(self, message_id: str) -> Message | None:
        return self.messages_.get(message_id)

    async def messages(self, thread_id: str, after: int, limit: int) -> tuple[list[Message], int]:
        found = sorted(
            (m for m in self.messages_.values() if m.thread_id == thread_id and m.seq > after),
            key=lambda m: m.seq,
        )
        return found[:limit], len(found)

    async def add_report(self, message_id: str, reporter_member_id: str, reason: str) -> None:
        self.reported[(message_id, reporter_member_id)] = reason

    async def reports(self, limit: int, offset: int) -> tuple[list[Report], int]:
        found = [
            Report(self.messages_[m], reporter, reason, NOW)
            for (m, reporter), reason in self.reported.items()
        ]
        return found[offset : offset + limit], len(found)


@pytest.fixture
def uow() -> InMemoryUnitOfWork[InMemoryConversations]:
    return InMemoryUnitOfWork(InMemoryConversations())


@pytest.fixture
def handlers(uow: InMemoryUnitOfWork[InMemoryConversations]) -> ConversationsHandlers:
    return ConversationsHandlers(lambda: uow, clock=lambda: NOW)


async def a_confirmed_match(
    handlers: ConversationsHandlers, uow: InMemoryUnitOfWork[InMemoryConversations]
) -> str:
    """Fatima helps the association `assoc`, which Amina manages, on its solar project."""
    async with uow:
        await handlers.remember_member("fatima", "Fatima", [], NOW, uow)
        await handlers.remember_member("assoc", "Tafraout Solidarité", ["amina"], NOW, uow)
        await handlers.remember_project("solar", "assoc", "Solar health post", NOW, uow)
        await handlers.open_for_match("match-1", "solar", "fatima", uow)
        await uow.commit()
    [opened] = [event for event in uow.published if isinstance(event, ThreadOpened)]
    return opened.thread_id


async def test_a_confirmed_match_opens_one_thread_between_the_member_and_the_owner(
    handlers: ConversationsHandlers, uow: InMemoryUnitOfWork[InMemoryConversations]
) -> None:
    thread_id = await a_confirmed_match(handlers, uow)
    async with uow:
        await handlers.open_for_match("match-1", "solar", "fatima", uow)
        await uow.commit()
    opened = [event for event in uow.published if isinstance(event, ThreadOpened)]
    assert [(e.thread_id, e.context_kind, e.context_id, e.participant_member_ids) for e in opened] == [
        (thread_id, "match", "match-1", ["fatima", "assoc"])
    ]


async def test_a_match_confirmed_before_its_project_is_known_opens_its_thread_when_the_project_comes(
    handlers: ConversationsHandlers, uow: InMemoryUnitOfWork[InMemoryConversations]
) -> None:
    async with uow:
        await handlers.open_for_match("match-1", "solar", "fatima", uow)
        await uow.commit()
    assert uow.published == []
    async with uow:
        await handlers.remember_project("solar", "assoc", "Solar health post", NOW, uow)
        await handlers.remember_project("solar", "assoc", "Solar health post", NOW, uow)
        await uow.commit()
    [opened] = uow.published
    assert isinstance(opened, ThreadOpened) and opened.title == "Solar health post"


async def test_both_sides_write_the_event_carries_no_body_and_the_reader_sees_what_is_unread(
    handlers: ConversationsHandlers, uow: InMemoryUnitOfWork[InMemoryConversations]
) -> None:
    thread_id = await a_confirmed_match(handlers, uow)
    await handlers.post(FATIMA, thread_id, PostMessage(body="Salam, I can help"))
    answer = await handlers.post(AMINA, thread_id, PostMessage(body="Thank you! Call me on +212 600"))
    assert answer.author_member_id == "assoc"
    posted = [event for event in uow.published if isinstance(event, MessagePosted)]
    assert [(e.author_member_id, e.participant_member_ids) for e in posted] == [
        ("fatima", ["fatima", "assoc"]),
        ("assoc", ["fatima", "assoc"]),
    ]
    assert all("body" not in e.model_dump() for e in posted)
    assert (await handlers.thread(FATIMA, thread_id)).unread == 1
    assert (await handlers.mark_read(FATIMA, thread_id)).unread == 0
    [listed], total = await handlers.threads(AMINA, "assoc", 10, 0)
    assert (total, listed.names["assoc"], listed.names["fatima"]) == (1, "Tafraout Solidarité", "Fatima")


async def test_a_stranger_neither_reads_nor_writes_and_an_operator_reads_without_writing(
    handlers: ConversationsHandlers, uow: InMemoryUnitOfWork[InMemoryConversations]
) -> None:
    thread_id = await a_confirmed_match(handlers, uow)
    for call in (
        handlers.thread(YOUSSEF, thread_id),
        handlers.messages(YOUSSEF, thread_id, None, 10),
        handlers.post(YOUSSEF, thread_id, PostMessage(body="hello")),
        handlers.threads(YOUSSEF, "fatima", 10, 0),
        handlers.post(OPERATOR, thread_id, PostMessage(body="hello")),
    ):
        with pytest.raises(Forbidden):
            await call
    assert (await handlers.thread(OPERATOR, thread_id)).thread.thread_id == thread_id
    assert not [event for event in uow.published if isinstance(event, MessagePosted)]


async def test_messages_are_paged_after_a_message_of_the_thread(
    handlers: ConversationsHandlers, uow: InMemoryUnitOfWork[InMemoryConversations]
) -> None:
    thread_id = await a_confirmed_match(handlers, uow)
    sent = [await handlers.post(FATIMA, thread_id, PostMessage(body=f"message {n}")) for n in range(3)]
    page, total = await handlers.messages(AMINA, thread_id, sent[0].message_id, 1)
    assert ([m.body for m in page], total) == (["message 1"], 2)
    with pytest.raises(RuleBroken, match="after"):
        await handlers.messages(AMINA, thread_id, "not-a-message", 1)


async def test_a_participant_reports_the_other_sides_message_and_not_their_own(
    handlers: ConversationsHandlers, uow: InMemoryUnitOfWork[InMemoryConversations]
) -> None:
    thread_id = await a_confirmed_match(handlers, uow)
    message = await handlers.post(FATIMA, thread_id, PostMessage(body="buy my course"))
    await handlers.report(AMINA, thread_id, message.message_id, ReportMessage(reason="advertising"))
    [report], total = await handlers.reports(OPERATOR, 10, 0)
    assert (total, report.message.body, report.reporter_member_id, report.reason) == (
        1,
        "buy my course",
        "assoc",
        "advertising",
    )
    with pytest.raises(RuleBroken):
        await handlers.report(FATIMA, thread_id, message.message_id, ReportMessage(reason="oops"))
    with pytest.raises(Forbidden):
        await handlers.report(YOUSSEF, thread_id, message.message_id, ReportMessage(reason="spam"))
    with pytest.raises(Forbidden):
        await handlers.reports(AMINA, 10, 0)


async def test_an_erased_members_bodies_go_and_the_other_side_keeps_the_thread(
    handlers: ConversationsHandlers, uow: InMemoryUnitOfWork[InMemoryConversations]
) -> None:
    thread_id = await a_confirmed_match(handlers, uow)
    await handlers.post(FATIMA, thread_id, PostMessage(body="My number is 0470"))
    await handlers.post(AMINA, thread_id, PostMessage(body="Thanks"))
    async with uow:
        await handlers.forget_member("fatima", uow)
        await uow.commit()
    messages, _ = await handlers.messages(AMINA, thread_id, None, 10)
    assert [(m.author_member_id, m.body) for m in messages] == [(ERASED, None), ("assoc", "Thanks")]
    with pytest.raises(Forbidden):
        await handlers.thread(FATIMA, thread_id)


async def test_an_introduction_opens_a_thread_between_the_member_and_the_promoter(
    handlers: ConversationsHandlers, uow: InMemoryUnitOfWork[InMemoryConversations]
) -> None:
    async with uow:
        await handlers.open_for_introduction("interest-1", "karim", "fatima", "investor", uow)
        await uow.commit()
    [opened] = uow.published
    assert isinstance(opened, ThreadOpened)
    assert (opened.context_kind, opened.context_id) == ("introduction", "interest-1")
    roles = {p.member_id: p.role for p in uow.repository.threads[opened.thread_id].participants}
    assert roles == {"fatima": "investor", "karim": "promoter"}


@pytest.mark.parametrize("opportunity_first", [True, False])
async def test_a_match_on_an_opportunitys_support_need_opens_one_thread_with_its_promoter_in_either_order(
    handlers: ConversationsHandlers, uow: InMemoryUnitOfWork[InMemoryConversations], opportunity_first: bool
) -> None:
    steps = [
        lambda: handlers.remember_opportunity("bakery", "karim", "Bakery takeover", NOW, uow),
        lambda: handlers.open_for_match("match-1", "bakery", "fatima", uow),
    ]
    for step in steps if opportunity_first else steps[::-1]:
        async with uow:
            await step()
            await step()  # redelivered
            await uow.commit()
    [opened] = uow.published
    assert isinstance(opened, ThreadOpened)
    assert (opened.context_kind, opened.context_id, opened.title) == ("match", "match-1", "Bakery takeover")
    roles = {p.member_id: p.role for p in uow.repository.threads[opened.thread_id].participants}
    assert roles == {"fatima": "helper", "karim": "owner"}


@pytest.mark.parametrize("erased_promoter", ["karim", ERASED])
async def test_a_match_on_an_erased_promoters_opportunity_opens_no_thread(
    handlers: ConversationsHandlers, uow: InMemoryUnitOfWork[InMemoryConversations], erased_promoter: str
) -> None:
    async with uow:
        await handlers.forget_member("karim", uow)
        await handlers.remember_opportunity("bakery", erased_promoter, "Bakery takeover", NOW, uow)
        await handlers.open_for_match("match-1", "bakery", "fatima", uow)
        await uow.commit()
    assert uow.published == []
