"""Pages anyone may read: the territories, a territory's home, a project, the search of projects."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from ..client import ApiError
from ..web import Portal, Visit, field_errors, nest, one, page
from .gatherings import upcoming
from .opportunities import open_in

SECTORS = ("agriculture", "education", "energy", "health", "water", "culture", "digital", "economy")


async def skill_labels(visit: Visit, codes: set[str]) -> dict[str, str]:
    """Skills in the reader's language."""
    found = await asyncio.gather(
        *(visit.api.get("members", f"/skills/{code}", lang=visit.speech.language) for code in codes),
        return_exceptions=True,
    )
    return {
        code: skill["label"] if isinstance(skill, dict) else code
        for code, skill in zip(codes, found, strict=True)
    }


async def skill_code(visit: Visit, typed: str) -> str:
    """What a person typed as a skill: a code as it is, else the best match of the taxonomy's labels
    in their language (accent- and hamza-insensitive, as `GET /skills` searches)."""
    if "." in typed:
        return typed
    found = await visit.api.get("members", "/skills", q=typed, lang=visit.speech.language, limit=1)
    return str(found[0]["code"]) if found else typed


async def project_page_data(visit: Visit, project_id: str) -> dict[str, Any]:
    project = await visit.api.get("projects", f"/projects/{project_id}")
    territory = await visit.api.get("projects", f"/territories/{project['territory_id']}")
    labels = await skill_labels(visit, {need["skill"] for need in project["needs"]})
    return {"project": project, "territory": territory, "labels": labels}


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    Current = Annotated[Visit, Depends(portal.public_visit)]

    @router.get("/app/")
    @page
    async def home(visit: Current) -> Response:
        territories = await visit.api.get("projects", "/territories")
        return visit.render("home.html", territories=territories)

    @router.get("/app/t/{territory_id}")
    @page
    async def territory(visit: Current, territory_id: str) -> Response:
        found, projects, planned, opportunities = await asyncio.gather(
            visit.api.get("projects", f"/territories/{territory_id}", descendants="true"),
            visit.api.get("projects", "/projects", territory_id=territory_id, status="published", limit=50),
            upcoming(visit, territory_id),
            open_in(visit, territory_id),
        )
        labels = await skill_labels(visit, {need["skill"] for p in projects for need in p["needs"]})
        return visit.render(
            "territory.html",
            territory=found,
            projects=projects,
            labels=labels,
            gatherings=planned,
            opportunities=opportunities,
        )

    @router.get("/app/p/{project_id}")
    @page
    async def project(visit: Current, project_id: str) -> Response:
        return visit.render("project.html", **await project_page_data(visit, project_id), errors={}, typed={})

    @router.post("/app/p/{project_id}")
    @page
    async def pledge(visit: Annotated[Visit, Depends(portal.visit)], project_id: str) -> Response:
        visit.signed_in()
        form = await visit.form()
        body = nest(form)
        try:
            await visit.api.call(
                "projects",
                "POST",
                f"/projects/{project_id}/pledges",
                json={"amount": body.get("amount", "")},
                idempotency_key=one(form, "idempotency_key") or None,
            )
        except ApiError as error:
            if error.status != 422:
                raise
            data = await project_page_data(visit, project_id)
            return visit.render("project.html", 422, **data, errors=field_errors(visit, error), typed=body)
        return visit.redirect(f"/app/p/{project_id}?pledged=1")

    @router.get("/app/search")
    @page
    async def search(
        visit: Current,
        territory_id: Annotated[str, Query(max_length=100)] = "",
        sector: Annotated[str, Query(max_length=100)] = "",
        skill: Annotated[str, Query(max_length=100)] = "",
    ) -> Response:
        territories = await visit.api.get("projects", "/territories")
        code = await skill_code(visit, skill) if skill else ""
        wanted = {"territory_id": territory_id, "sector": sector, "skill": code}
        try:
            projects = await visit.api.get("projects", "/projects", status="published", limit=50, **wanted)
        except ApiError as error:
            if error.status != 422:
                raise
            projects = []
        labels = await skill_labels(visit, {need["skill"] for p in projects for need in p["needs"]})
        return visit.render(
            "search.html",
            projects=projects,
            labels=labels,
            wanted={**wanted, "skill": skill},
            territory_options=[(t["territory_id"], t["name"]) for t in territories],
            sector_options=[(code, visit.speech.word("sector", code)) for code in SECTORS],
        )

    return router
