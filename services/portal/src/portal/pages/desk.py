"""A project's desk, for those who may act on it: confirm the matches of each need, best first; the
pledges and their total; close the project."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..web import Portal, Refused, Visit, nest, one, page
from .public import skill_code, skill_labels
from .threads import pass_reasons

LISTS = frozenset({"languages"})
NEED_ROWS = 3
OUTCOMES = ("completed", "cancelled")


async def _project_body(visit: Visit, form: dict[str, list[str]]) -> dict[str, Any]:
    body = nest(form, LISTS)
    for need in body.get("needs", []):
        if need.get("skill"):
            need["skill"] = await skill_code(visit, str(need["skill"]))
    return body


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    Current = Annotated[Visit, Depends(portal.visit)]

    async def _mine(visit: Visit, project_id: str) -> dict[str, Any]:
        project = await visit.api.get("projects", f"/projects/{project_id}")
        if project.get("pledges") is None:  # shown only to those who may act on it
            raise Refused("project")
        return dict(project)

    @router.get("/app/p/{project_id}/desk")
    @page
    async def desk(visit: Current, project_id: str) -> Response:
        visit.signed_in()
        project = await _mine(visit, project_id)
        matches = await visit.api.get(
            "matching", "/matches", project_id=project_id, lang=visit.speech.language
        )
        members = await asyncio.gather(
            *(visit.api.get("members", f"/members/{m['member_id']}") for m in matches), return_exceptions=True
        )
        names = {
            m["member_id"]: member["display_name"]
            for m, member in zip(matches, members, strict=True)
            if isinstance(member, dict)
        }
        labels = await skill_labels(visit, {need["skill"] for need in project["needs"]})
        by_need = {
            need["need_id"]: sorted(
                (m for m in matches if m["need_id"] == need["need_id"]), key=lambda m: -float(m["score"])
            )
            for need in project["needs"]
        }
        return visit.render(
            "desk.html",
            project=project,
            by_need=by_need,
            names=names,
            labels=labels,
            outcomes=[(o, visit.speech.word("outcome", o)) for o in OUTCOMES],
            pass_reasons=pass_reasons(visit),
        )

    @router.post("/app/p/{project_id}/desk")
    @page
    async def desk_action(visit: Current, project_id: str) -> Response:
        visit.signed_in()
        await _mine(visit, project_id)
        form = await visit.form()
        action = one(form, "action")
        if action == "confirm":
            await visit.api.call("matching", "POST", f"/matches/{one(form, 'match_id')}/confirm")
        elif action == "close":
            await visit.api.call(
                "projects",
                "POST",
                f"/projects/{project_id}/close",
                json={"outcome": one(form, "outcome", "completed")},
            )
        return visit.redirect(f"/app/p/{project_id}/desk")

    return router
