"""Participatory financing in the portal (contract 4.8): a project's funding bar (pledged, collected,
co-funded) with its campaign's rule in plain words, the pledge form and its confirmation with the
transfer reference and the collector's payment instructions, the public ledger, and the treasurer's
desk where the collector's confirmers paste references and record cash."""

import asyncio
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..client import ApiError
from ..web import Portal, Refused, Visit, field_errors, nest, one, page

METHODS = ("bank_transfer", "mobile_money", "cash", "card", "other")
# One reference a line (or separated by commas): a person may type spaces inside one.
_SEPARATORS = re.compile(r"[\n,;]+")


async def _optional(visit: Visit, path: str) -> Any:
    """What the projects API answers, or None where it has nothing (404)."""
    try:
        return await visit.api.get("projects", path)
    except ApiError as error:
        if error.status != 404:
            raise
        return None


async def financing_data(visit: Visit, project_id: str) -> dict[str, Any]:
    project, campaigns, ledger, plan = await asyncio.gather(
        visit.api.get("projects", f"/projects/{project_id}"),
        visit.api.get("projects", f"/projects/{project_id}/campaigns"),
        visit.api.get("projects", f"/projects/{project_id}/ledger"),
        _optional(visit, f"/projects/{project_id}/financing-plan"),
    )
    campaign = campaigns[0] if campaigns else None
    takes_pledges = project["status"] == "published" and bool(project["funding"])
    return {
        "project": project,
        "campaign": campaign,
        "ledger": ledger,
        "plan": plan,
        "takes_pledges": takes_pledges and (campaign is None or campaign["status"] == "open"),
    }


def collections(form: dict[str, list[str]]) -> dict[str, Any]:
    """The treasurer's pasted references, one collection each, with the method and day chosen."""
    day = one(form, "collected_at")
    references = [r.strip() for r in _SEPARATORS.split(one(form, "references")) if r.strip()]
    items = [
        {"reference": reference, "method": one(form, "method", "bank_transfer")}
        | ({"collected_at": f"{day}T12:00:00+00:00"} if day else {})
        for reference in references
    ]
    return {"items": items}


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    Public = Annotated[Visit, Depends(portal.public_visit)]
    Current = Annotated[Visit, Depends(portal.visit)]

    @router.get("/app/p/{project_id}/financing")
    @page
    async def financing(visit: Public, project_id: str) -> Response:
        data = await financing_data(visit, project_id)
        return visit.render("financing/page.html", **data, errors={}, typed={})

    @router.post("/app/p/{project_id}/financing")
    @page
    async def pledge(visit: Current, project_id: str) -> Response:
        visit.signed_in()
        form = await visit.form()
        body = nest(form)
        wanted = {
            "amount": body.get("amount", ""),
            "public_name": body.get("public_name"),
            "anonymous": body.get("anonymous") == "on",
            "campaign_id": body.get("campaign_id"),
        }
        try:
            made = await visit.api.call(
                "projects",
                "POST",
                f"/projects/{project_id}/pledges",
                json={name: value for name, value in wanted.items() if value is not None},
                idempotency_key=one(form, "idempotency_key") or None,
            )
        except ApiError as error:
            if error.status != 422:
                raise
            data = await financing_data(visit, project_id)
            return visit.render(
                "financing/page.html", 422, **data, errors=field_errors(visit, error), typed=body
            )
        return visit.redirect(f"/app/pledges/{made['pledge_id']}")

    @router.get("/app/pledges/{pledge_id}")
    @page
    async def pledge_confirmation(visit: Current, pledge_id: str) -> Response:
        visit.signed_in()
        pledge = await visit.api.get("projects", f"/pledges/{pledge_id}")
        project = await visit.api.get("projects", f"/projects/{pledge['project_id']}")
        return visit.render("financing/pledge.html", pledge=pledge, project=project)

    async def _confirmer(visit: Visit, project_id: str) -> dict[str, Any]:
        plan = await _optional(visit, f"/projects/{project_id}/financing-plan")
        if plan is None or not plan["you_confirm"]:
            raise Refused("treasury")
        return dict(plan)

    async def _desk(visit: Visit, project_id: str, status: int = 200, error: str = "") -> Response:
        await _confirmer(visit, project_id)
        data = await financing_data(visit, project_id)
        methods = [(m, visit.speech.word("method", m)) for m in METHODS]
        return visit.render("financing/treasury.html", status, **data, methods=methods, error=error)

    @router.get("/app/p/{project_id}/treasury")
    @page
    async def treasury(visit: Current, project_id: str) -> Response:
        visit.signed_in()
        return await _desk(visit, project_id)

    @router.post("/app/p/{project_id}/treasury")
    @page
    async def treasury_action(visit: Current, project_id: str) -> Response:
        visit.signed_in()
        await _confirmer(visit, project_id)
        form = await visit.form()
        action = one(form, "action")
        key = one(form, "idempotency_key") or None
        try:
            if action == "collect":
                batch = collections(form)
                path = f"/projects/{project_id}/collections"
                await visit.api.call("projects", "POST", path, json=batch, idempotency_key=key)
                return visit.redirect(f"/app/p/{project_id}/treasury?collected={len(batch['items'])}")
            body = {"amount": one(form, "amount"), "method": one(form, "method", "cash")}
            if one(form, "public_name"):
                body["public_name"] = one(form, "public_name")
            path = f"/projects/{project_id}/offline-pledges"
            await visit.api.call("projects", "POST", path, json=body, idempotency_key=key)
        except ApiError as error:
            if error.status != 422:
                raise
            return await _desk(visit, project_id, 422, error.detail)
        return visit.redirect(f"/app/p/{project_id}/treasury?recorded=1")

    return router
