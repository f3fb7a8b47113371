"""The promoter's desk of an opportunity (submit it, accept or decline each interest, renew, close)
and the managers' queue of opportunities to review, with each one's age."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..web import Portal, Refused, Visit, one, page
from .opportunities import options

DECLINE_REASONS = ("not_a_fit", "amount", "timing", "already_found", "other")
DECISIONS = ("approved", "needs_work", "rejected")
REVIEWERS = frozenset({"territory_manager", "community_manager", "operator"})


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    Current = Annotated[Visit, Depends(portal.visit)]

    @router.get("/app/o/{opportunity_id}/desk")
    @page
    async def desk(visit: Current, opportunity_id: str) -> Response:
        visit.signed_in()
        found = await visit.api.get("opportunities", f"/opportunities/{opportunity_id}")
        if found.get("review_notes") is None:  # shown only to the promoter and the reviewers
            raise Refused("opportunity")
        interests = await visit.api.get("opportunities", f"/opportunities/{opportunity_id}/interests")
        return visit.render(
            "opportunities/desk.html",
            opportunity=found,
            interests=interests,
            reasons=options(visit, "decline_reason", DECLINE_REASONS),
        )

    @router.post("/app/o/{opportunity_id}/desk")
    @page
    async def desk_action(visit: Current, opportunity_id: str) -> Response:
        visit.signed_in()
        form = await visit.form()
        action, path = one(form, "action"), f"/opportunities/{opportunity_id}"
        if action in ("accept", "decline"):
            body = {"reason_code": one(form, "reason_code", "other")} if action == "decline" else None
            await visit.api.call(
                "opportunities", "POST", f"/interests/{one(form, 'interest_id')}/{action}", json=body
            )
        elif action in ("submit", "renew"):
            await visit.api.call("opportunities", "POST", f"{path}/{action}")
        elif action == "close":
            await visit.api.call(
                "opportunities", "POST", f"{path}/close", json={"outcome": one(form, "outcome")}
            )
        return visit.redirect(f"/app/o/{opportunity_id}/desk?done={action}")

    @router.get("/app/review")
    @page
    async def review_queue(visit: Current) -> Response:
        visit.signed_in()
        if not REVIEWERS.intersection(visit.roles):
            raise Refused("reviewer")
        queue = await visit.api.get("opportunities", "/opportunities", status="submitted", limit=100)
        now = datetime.now(UTC)
        ages = {o["opportunity_id"]: (now - datetime.fromisoformat(o["submitted_at"])).days for o in queue}
        return visit.render(
            "opportunities/queue.html",
            queue=sorted(queue, key=lambda o: o["submitted_at"]),
            ages=ages,
            decisions=options(visit, "decision", DECISIONS),
        )

    @router.post("/app/review")
    @page
    async def review(visit: Current) -> Response:
        visit.signed_in()
        form = await visit.form()
        decision = one(form, "action")
        if decision not in DECISIONS:
            raise Refused("decision")
        await visit.api.call(
            "opportunities",
            "POST",
            f"/opportunities/{one(form, 'opportunity_id')}/review",
            json={"decision": decision, "notes": one(form, "notes")},
        )
        return visit.redirect(f"/app/review?reviewed={decision}")

    return router
