"""Conversations after a match: my threads (unread first), one thread to read and write in, and the
project side's kind pass on an accepted match (its form sits on the desk)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..client import ApiError
from ..web import Portal, Visit, field_errors, one, page

PASS_REASONS = ("profile_mismatch", "need_changed", "found_someone", "timing", "other")
PAGE_SIZE = 100


def pass_reasons(visit: Visit) -> list[tuple[str, str]]:
    return [(code, visit.speech.word("pass", code)) for code in PASS_REASONS]


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    Current = Annotated[Visit, Depends(portal.visit)]

    @router.get("/app/me/threads")
    @page
    async def my_threads(visit: Current) -> Response:
        sub = visit.signed_in()
        member_id = visit.request.query_params.get("member_id") or sub  # an association one manages
        threads = await visit.api.get("conversations", "/threads", member_id=member_id, limit=100)
        return visit.render("threads/list.html", threads=threads, member_id=member_id)

    async def thread_page(
        visit: Visit, thread_id: str, status: int = 200, errors: dict[str, str] | None = None, typed: str = ""
    ) -> Response:
        after = visit.request.query_params.get("after")
        messages = await visit.api.get(
            "conversations", f"/threads/{thread_id}/messages", after=after, limit=PAGE_SIZE
        )
        try:  # reading the page is reading the thread; a moderator has no read position
            thread = await visit.api.call("conversations", "POST", f"/threads/{thread_id}/read")
        except ApiError as error:
            if error.status != 403:
                raise
            thread = await visit.api.get("conversations", f"/threads/{thread_id}")
        names = {p["member_id"]: p["display_name"] or p["member_id"] for p in thread["participants"]}
        return visit.render(
            "threads/thread.html",
            status,
            thread=thread,
            messages=messages,
            names=names,
            later=messages[-1]["message_id"] if len(messages) == PAGE_SIZE else None,
            errors=errors or {},
            typed=typed,
        )

    @router.get("/app/threads/{thread_id}")
    @page
    async def thread(visit: Current, thread_id: str) -> Response:
        visit.signed_in()
        return await thread_page(visit, thread_id)

    @router.post("/app/threads/{thread_id}")
    @page
    async def write(visit: Current, thread_id: str) -> Response:
        visit.signed_in()
        form = await visit.form()
        action, path = one(form, "action"), f"/threads/{thread_id}"
        try:
            if action == "send":
                await visit.api.call(
                    "conversations",
                    "POST",
                    f"{path}/messages",
                    json={"body": one(form, "body")},
                    idempotency_key=one(form, "idempotency_key") or None,
                )
            elif action == "report":
                message_id = one(form, "message_id")
                await visit.api.call(
                    "conversations",
                    "POST",
                    f"{path}/messages/{message_id}/report",
                    json={"reason": one(form, "reason")},
                )
                return visit.redirect(f"/app/threads/{thread_id}?reported=1")
        except ApiError as error:
            if error.status != 422:
                raise
            return await thread_page(visit, thread_id, 422, field_errors(visit, error), one(form, "body"))
        return visit.redirect(f"/app/threads/{thread_id}#write")

    @router.post("/app/p/{project_id}/pass")
    @page
    async def pass_match(visit: Current, project_id: str) -> Response:
        """The desk's "pass" on an accepted match: the reason stays with the project."""
        visit.signed_in()
        form = await visit.form()
        body: dict[str, Any] = {"reason_code": one(form, "reason_code", "other")}
        if one(form, "note"):
            body["note"] = one(form, "note")
        await visit.api.call("matching", "POST", f"/matches/{one(form, 'match_id')}/pass", json=body)
        return visit.redirect(f"/app/p/{project_id}/desk")

    return router
