"""Plans and ideas: a territory's plans and ideas, a plan with its phases and its ideas ranked by
support (drawn as bars by bond and by residence), an idea (support, contribute, report; a manager
answers, hides and restores), posting an idea, and the managers' desk of a territory's ideas."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from ..client import ApiError
from ..web import Portal, Refused, Visit, field_errors, nest, one, page

KINDS = ("idea", "need_signal", "information", "opportunity_tip")
ANSWERS = ("evaluating", "accepted", "rejected")
# What each button of an idea's page asks of the ideas service: method, path, the fields it sends.
ACTIONS: dict[str, tuple[str, str, tuple[str, ...] | None]] = {
    "support": ("POST", "/supports", None),
    "unsupport": ("DELETE", "/supports", None),
    "contribute": ("POST", "/contributions", ("kind", "body", "parent_id")),
    "report": ("POST", "/reports", ("reason",)),
    "answer": ("POST", "/answer", ("status", "answer")),
    "hide": ("POST", "/hide", None),
    "unhide": ("POST", "/unhide", None),
}
LEVELS_ABOVE = 4  # commune < province < region < country


async def manages(visit: Visit, territory_id: str) -> bool:
    """Whether the visitor manages the territory or one above it (as the ideas service decides)."""
    if "operator" in visit.roles:
        return True
    current: str | None = territory_id
    for _ in range(LEVELS_ABOVE):
        if current is None:
            break
        territory = await visit.api.get("projects", f"/territories/{current}")
        if visit.sub in {manager["sub"] for manager in territory["managers"]}:
            return True
        current = territory.get("parent_id")
    return False


async def idea_page_data(visit: Visit, idea_id: str) -> dict[str, Any]:
    idea = await visit.api.get("ideas", f"/ideas/{idea_id}")
    territory, contributions = await asyncio.gather(
        visit.api.get("projects", f"/territories/{idea['territory_id']}"),
        visit.api.get("ideas", f"/ideas/{idea_id}/contributions", limit=100),
    )
    replies: dict[str, list[dict[str, Any]]] = {}
    for contribution in contributions:
        if contribution["parent_id"]:
            replies.setdefault(contribution["parent_id"], []).append(contribution)
    return {
        "idea": idea,
        "territory": territory,
        "contributions": [c for c in contributions if not c["parent_id"]],
        "replies": replies,
        "manager": bool(visit.sub) and await manages(visit, idea["territory_id"]),
        "answers": [(status, visit.speech.word("idea_status", status)) for status in ANSWERS],
    }


async def new_idea_page(
    visit: Visit, territory_id: str, plan_id: str, status: int = 200, **values: Any
) -> Response:
    territory = await visit.api.get("projects", f"/territories/{territory_id}")
    found = await visit.api.get("ideas", f"/plans/{plan_id}") if plan_id else None
    values = {"errors": {}, "typed": {}, **values}
    kinds = [(kind, visit.speech.word("idea_kind", kind)) for kind in KINDS]
    axes = [(axis["axis_id"], axis["title"]) for axis in (found or {}).get("axes", [])]
    return visit.render(
        "ideas/new.html", status, territory=territory, plan=found, kinds=kinds, axes=axes, **values
    )


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    Public = Annotated[Visit, Depends(portal.public_visit)]
    Current = Annotated[Visit, Depends(portal.visit)]

    @router.get("/app/t/{territory_id}/plans")
    @page
    async def territory_plans(visit: Public, territory_id: str) -> Response:
        territory, plans, ideas = await asyncio.gather(
            visit.api.get("projects", f"/territories/{territory_id}"),
            visit.api.get("ideas", "/plans", territory_id=territory_id),
            visit.api.get("ideas", "/ideas", territory_id=territory_id, sort="recent", limit=30),
        )
        return visit.render("ideas/territory.html", territory=territory, plans=plans, ideas=ideas)

    @router.get("/app/plans/{plan_id}")
    @page
    async def plan(visit: Public, plan_id: str) -> Response:
        found, priorities = await asyncio.gather(
            visit.api.get("ideas", f"/plans/{plan_id}"),
            visit.api.get("ideas", f"/plans/{plan_id}/priorities"),
        )
        territory = await visit.api.get("projects", f"/territories/{found['territory_id']}")
        return visit.render("ideas/plan.html", plan=found, priorities=priorities, territory=territory)

    @router.get("/app/ideas/new")
    @page
    async def new_idea(
        visit: Current,
        territory_id: Annotated[str, Query(max_length=100)],
        plan_id: Annotated[str, Query(max_length=100)] = "",
    ) -> Response:
        visit.signed_in()
        return await new_idea_page(visit, territory_id, plan_id)

    @router.post("/app/ideas/new")
    @page
    async def post_idea(visit: Current) -> Response:
        visit.signed_in()
        form = await visit.form()
        body = nest(form)
        try:
            idea = await visit.api.call(
                "ideas", "POST", "/ideas", json=body, idempotency_key=one(form, "idempotency_key") or None
            )
        except ApiError as error:
            if error.status != 422:
                raise
            errors = field_errors(visit, error)
            territory_id, plan_id = str(body.get("territory_id", "")), str(body.get("plan_id", ""))
            return await new_idea_page(visit, territory_id, plan_id, 422, errors=errors, typed=body)
        return visit.redirect(f"/app/ideas/{idea['idea_id']}?done=posted")

    @router.get("/app/ideas/{idea_id}")
    @page
    async def idea(visit: Public, idea_id: str) -> Response:
        return visit.render("ideas/idea.html", **await idea_page_data(visit, idea_id), errors={})

    @router.post("/app/ideas/{idea_id}")
    @page
    async def act(visit: Current, idea_id: str) -> Response:
        """One button of the idea's page: the API decides who may (a 403 or 409 page says why not)."""
        visit.signed_in()
        form = await visit.form()
        action = one(form, "action")
        if action not in ACTIONS:
            raise Refused("action")
        method, suffix, fields = ACTIONS[action]
        body = nest(form)
        sent = None if fields is None else {name: body[name] for name in fields if name in body}
        try:
            await visit.api.call(
                "ideas",
                method,
                f"/ideas/{idea_id}{suffix}",
                json=sent,
                idempotency_key=one(form, "idempotency_key") or None,
            )
        except ApiError as error:
            if error.status != 422:
                raise
            data = await idea_page_data(visit, idea_id)
            return visit.render("ideas/idea.html", 422, **data, errors=field_errors(visit, error))
        return visit.redirect(f"/app/ideas/{idea_id}?done={action}")

    @router.get("/app/t/{territory_id}/ideas-desk")
    @page
    async def desk(visit: Current, territory_id: str) -> Response:
        """The managers' desk: every idea of the territory, hidden ones too, to answer and moderate."""
        visit.signed_in()
        if not await manages(visit, territory_id):
            raise Refused("desk")
        territory, ideas = await asyncio.gather(
            visit.api.get("projects", f"/territories/{territory_id}"),
            visit.api.get("ideas", "/ideas", territory_id=territory_id, sort="supports", limit=100),
        )
        answers = [(status, visit.speech.word("idea_status", status)) for status in ANSWERS]
        return visit.render("ideas/desk.html", territory=territory, ideas=ideas, answers=answers)

    return router
