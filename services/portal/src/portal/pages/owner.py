"""A project's owner (an association or local actor, through its managers, or a territory manager):
write the draft, its needs and funding goal, publish."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..client import ApiError
from ..web import Portal, Refused, Visit, field_errors, nest, one, page
from .me import MODES
from .public import SECTORS, skill_code, skill_labels

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

    async def editor(
        visit: Visit,
        project: dict[str, Any] | None,
        status: int = 200,
        typed: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
    ) -> Response:
        sub = visit.signed_in()
        territories = await visit.api.get("projects", "/territories")
        owners = [(sub, visit.speech.gettext("Myself"))]
        for member_id in visit.session.get("managed", []):
            try:
                member = await visit.api.get("members", f"/members/{member_id}")
                owners.append((member_id, member["display_name"]))
            except ApiError:
                continue
        values = typed or project or {}
        labels = await skill_labels(
            visit, {need["skill"] for need in values.get("needs", []) if need.get("skill")}
        )
        return visit.render(
            "editor.html",
            status,
            project=project,
            typed=values,
            errors=errors or {},
            labels=labels,
            need_rows=max(NEED_ROWS, len(values.get("needs", [])) + 1),
            owners=owners,
            territory_options=[(t["territory_id"], t["name"]) for t in territories],
            sector_options=[(code, visit.speech.word("sector", code)) for code in SECTORS],
            modes=[(mode, visit.speech.word("mode", mode)) for mode in MODES],
        )

    @router.get("/app/projects/new")
    @page
    async def new(visit: Current) -> Response:
        return await editor(visit, None)

    @router.post("/app/projects/new")
    @page
    async def create(visit: Current) -> Response:
        visit.signed_in()
        form = await visit.form()
        body = await _project_body(visit, form)
        body.setdefault("languages", [visit.speech.language])
        try:
            project = await visit.api.call(
                "projects",
                "POST",
                "/projects",
                json=body,
                idempotency_key=one(form, "idempotency_key") or None,
            )
        except ApiError as error:
            if error.status not in (403, 422):
                raise
            errors = (
                field_errors(visit, error)
                if error.status == 422
                else {
                    "owner_member_id": visit.speech.gettext(
                        "You may not publish for this owner in this territory."
                    )
                }
            )
            return await editor(visit, None, error.status, body, errors)
        return visit.redirect(f"/app/p/{project['project_id']}/edit?saved=1")

    async def _mine(visit: Visit, project_id: str) -> dict[str, Any]:
        project = await visit.api.get("projects", f"/projects/{project_id}")
        if project.get("pledges") is None:  # shown only to those who may act on it
            raise Refused("project")
        return dict(project)

    @router.get("/app/p/{project_id}/edit")
    @page
    async def edit(visit: Current, project_id: str) -> Response:
        visit.signed_in()
        return await editor(visit, await _mine(visit, project_id))

    @router.post("/app/p/{project_id}/edit")
    @page
    async def save(visit: Current, project_id: str) -> Response:
        visit.signed_in()
        project = await _mine(visit, project_id)
        form = await visit.form()
        body = await _project_body(visit, form)
        body.pop("owner_member_id", None)
        body.setdefault("needs", [])
        try:
            await visit.api.call("projects", "PATCH", f"/projects/{project_id}", json=body)
            if one(form, "action") == "publish":
                await visit.api.call("projects", "POST", f"/projects/{project_id}/publish")
        except ApiError as error:
            if error.status not in (409, 422):
                raise
            errors = (
                field_errors(visit, error)
                if error.status == 422
                else {
                    "form": visit.speech.gettext(
                        "The project cannot be published yet: it needs a summary and at least one need."
                    )
                }
            )
            return await editor(visit, project, error.status, body, errors)
        if one(form, "action") == "publish":
            return visit.redirect(f"/app/p/{project_id}")
        return visit.redirect(f"/app/p/{project_id}/edit?saved=1")

    return router
