"""A member's space: the proposals (accept, decline) with their reasons in words, their pledges,
and the inbox."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..web import Portal, Visit, one, page
from .gatherings import registrations_of

MODES = ("remote", "short_mission", "long_mission", "mentoring", "call")


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    Current = Annotated[Visit, Depends(portal.visit)]

    async def space(visit: Visit, errors: dict[str, str] | None = None) -> Response:
        sub = visit.signed_in()
        matches, pledges, inbox, registrations = await asyncio.gather(
            visit.api.get("matching", "/matches", member_id=sub, lang=visit.speech.language),
            visit.api.get("projects", "/pledges", member_id=sub, limit=20),
            visit.api.get("notifications", "/notifications", member_id=sub, limit=20),
            registrations_of(visit, sub),
        )
        projects = await asyncio.gather(
            *(visit.api.get("projects", f"/projects/{m['project_id']}") for m in matches),
            return_exceptions=True,
        )
        titles = {
            m["project_id"]: p["title"] for m, p in zip(matches, projects, strict=True) if isinstance(p, dict)
        }
        return visit.render(
            "me.html",
            matches=matches,
            pledges=pledges,
            inbox=inbox,
            titles=titles,
            errors=errors or {},
            registrations=registrations,
        )

    @router.get("/app/me")
    @page
    async def me(visit: Current) -> Response:
        return await space(visit)

    @router.post("/app/me")
    @page
    async def act(visit: Current) -> Response:
        visit.signed_in()
        form = await visit.form()
        action = one(form, "action")
        if action in ("accept", "decline"):
            await visit.api.call("matching", "POST", f"/matches/{one(form, 'match_id')}/{action}")
        elif action == "read":
            await visit.api.call(
                "notifications", "POST", f"/notifications/{one(form, 'notification_id')}/read"
            )
        return visit.redirect("/app/me")

    return router
