"""HTTP routes of the conversations service: parse a typed command, call a handler, render."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from passerelle.runtime.auth import CurrentIdentity
from passerelle.runtime.idempotency import IDEMPOTENT
from passerelle.runtime.pagination import Limit, Offset, describe_page
from pydantic import BaseModel, Field

from .commands import PostMessage, ReportMessage
from .domain import ERASED, Message
from .handlers import ConversationsHandlers, ThreadView


class ParticipantOut(BaseModel):
    member_id: str
    role: str = Field(description="helper, owner, promoter, or the role of an introduction")
    display_name: str | None


class ThreadOut(BaseModel):
    thread_id: str
    context_kind: str = Field(description="match | introduction | gathering")
    context_id: str
    title: str | None = Field(description="What the thread is about, e.g. the project's title")
    participants: list[ParticipantOut]
    opened_at: datetime
    last_message_at: datetime | None
    message_count: int
    unread: int = Field(description="Messages the reader has not read (0 for a moderator)")

    @classmethod
    def of(cls, view: ThreadView) -> ThreadOut:
        thread = view.thread
        return cls(
            thread_id=thread.thread_id,
            context_kind=thread.context_kind,
            context_id=thread.context_id,
            title=thread.title,
            participants=[
                ParticipantOut(member_id=p.member_id, role=p.role, display_name=view.names.get(p.member_id))
                for p in thread.participants
            ],
            opened_at=thread.opened_at,
            last_message_at=thread.last_message_at,
            message_count=thread.last_seq,
            unread=view.unread,
        )


class MessageOut(BaseModel):
    message_id: str
    thread_id: str
    author_member_id: str = Field(description="`erased` once the author was erased")
    body: str | None = Field(description="None once the author was erased")
    sent_at: datetime
    author_erased: bool

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        return cls(
            message_id=message.message_id,
            thread_id=message.thread_id,
            author_member_id=message.author_member_id,
            body=message.body,
            sent_at=message.sent_at,
            author_erased=message.author_member_id == ERASED,
        )


class ReportOut(BaseModel):
    message: MessageOut
    reporter_member_id: str
    reason: str
    reported_at: datetime


def build_router(handlers: ConversationsHandlers) -> APIRouter:
    router = APIRouter(prefix="/threads", tags=["threads"])

    @router.get("")
    async def list_threads(
        identity: CurrentIdentity,
        request: Request,
        response: Response,
        member_id: Annotated[str | None, Query(max_length=100, description="Default: the caller")] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> list[ThreadOut]:
        """A member's threads, those with unread messages first; `X-Total-Count` and `Link` page it."""
        views, total = await handlers.threads(identity, member_id or identity.sub, limit, offset)
        describe_page(request, response, total=total, limit=limit, offset=offset, shown=len(views))
        return [ThreadOut.of(view) for view in views]

    @router.get("/reports", tags=["moderation"])
    async def list_reports(
        identity: CurrentIdentity, request: Request, response: Response, limit: Limit = 20, offset: Offset = 0
    ) -> list[ReportOut]:
        """Reported messages, newest report first, for the operators who moderate (declared before
        `/{thread_id}`: thread ids are UUIDs, never `reports`)."""
        reports, total = await handlers.reports(identity, limit, offset)
        describe_page(request, response, total=total, limit=limit, offset=offset, shown=len(reports))
        return [
            ReportOut(
                message=MessageOut.of(r.message),
                reporter_member_id=r.reporter_member_id,
                reason=r.reason,
                reported_at=r.reported_at,
            )
            for r in reports
        ]

    @router.get("/{thread_id}")
    async def read_thread(thread_id: str, identity: CurrentIdentity) -> ThreadOut:
        return ThreadOut.of(await handlers.thread(identity, thread_id))

    @router.get("/{thread_id}/messages")
    async def list_messages(
        thread_id: str,
        identity: CurrentIdentity,
        request: Request,
        response: Response,
        after: Annotated[
            str | None, Query(max_length=100, description="A message id: those after it")
        ] = None,
        limit: Limit = 50,
    ) -> list[MessageOut]:
        """Messages oldest first; `X-Total-Count` counts those after `after`, and `Link` gives the next
        page (after the last one shown)."""
        messages, total = await handlers.messages(identity, thread_id, after, limit)
        response.headers["X-Total-Count"] = str(total)
        if len(messages) < total:
            following = request.url.include_query_params(after=messages[-1].message_id, limit=limit)
            response.headers["Link"] = f'<{following}>; rel="next"'
        return [MessageOut.of(message) for message in messages]

    @router.post("/{thread_id}/messages", status_code=status.HTTP_201_CREATED, dependencies=[IDEMPOTENT])
    async def post_message(thread_id: str, body: PostMessage, identity: CurrentIdentity) -> MessageOut:
        """Write to the other participants (emits MessagePosted, without the body)."""
        return MessageOut.of(await handlers.post(identity, thread_id, body))

    @router.post("/{thread_id}/read")
    async def mark_read(thread_id: str, identity: CurrentIdentity) -> ThreadOut:
        """The caller has read every message so far."""
        return ThreadOut.of(await handlers.mark_read(identity, thread_id))

    @router.post("/{thread_id}/messages/{message_id}/report", status_code=status.HTTP_202_ACCEPTED)
    async def report_message(
        thread_id: str, message_id: str, body: ReportMessage, identity: CurrentIdentity
    ) -> None:
        """Ask the moderators to look at a message of the other side."""
        await handlers.report(identity, thread_id, message_id, body)

    return router
