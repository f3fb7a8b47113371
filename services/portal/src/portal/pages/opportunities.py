"""Opportunities in the portal: a territory's (on its home and in their own search), an opportunity's
page with the disclaimer and the programmes it names, expressing interest and withdrawing it. The
promoter's desk and the review queue are in opportunity_desk.py. Passerelle lists, reviews and
introduces: it moves no money."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from ..client import ApiError
from ..web import Portal, Visit, field_errors, nest, one, page

KINDS = (
    "business_creation",
    "business_takeover",
    "co_investment",
    "land_use",
    "premises",
    "social_enterprise",
    "supplier_partnership",
)
INSTRUMENTS = ("equity", "loan", "donation", "partnership", "purchase", "lease", "in_kind")
ROLES = ("investor", "lender", "partner", "buyer", "tenant", "mentor", "adviser")


def options(visit: Visit, kind: str, codes: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(code, visit.speech.word(kind, code)) for code in codes]


async def open_in(visit: Visit, territory_id: str) -> list[Any]:
    """The open opportunities of a territory and those under it, for its home page."""
    return list(await visit.api.get("opportunities", "/opportunities", territory_id=territory_id, limit=20))


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    Public = Annotated[Visit, Depends(portal.public_visit)]
    Current = Annotated[Visit, Depends(portal.visit)]

    async def page_data(visit: Visit, opportunity_id: str) -> dict[str, Any]:
        opportunity = await visit.api.get("opportunities", f"/opportunities/{opportunity_id}")
        territory, programmes = await asyncio.gather(
            visit.api.get("projects", f"/territories/{opportunity['territory_id']}"),
            visit.api.get("opportunities", "/support-programmes"),
        )
        mine = None
        if visit.sub:
            interests = await visit.api.get("opportunities", "/interests", member_id=visit.sub)
            mine = next((i for i in interests if i["opportunity_id"] == opportunity_id), None)
        return {
            "opportunity": opportunity,
            "territory": territory,
            "programmes": [p for p in programmes if p["code"] in opportunity["support_programmes"]],
            "mine": mine,
            "roles": options(visit, "interest_role", ROLES),
        }

    @router.get("/app/o")
    @page
    async def search(
        visit: Public,
        territory_id: Annotated[str, Query(max_length=100)] = "",
        kind: Annotated[str, Query(max_length=40)] = "",
        instrument: Annotated[str, Query(max_length=20)] = "",
        amount_max: Annotated[str, Query(max_length=20)] = "",
    ) -> Response:
        territories = await visit.api.get("projects", "/territories")
        wanted = {
            "territory_id": territory_id,
            "kind": kind,
            "instrument": instrument,
            "amount_max": amount_max,
        }
        errors: dict[str, str] = {}
        try:
            found = await visit.api.get("opportunities", "/opportunities", limit=50, **wanted)
        except ApiError as error:
            if error.status != 422:
                raise
            found, errors = [], field_errors(visit, error)
        return visit.render(
            "opportunities/search.html",
            opportunities=found,
            wanted=wanted,
            errors=errors,
            territory_options=[(t["territory_id"], t["name"]) for t in territories],
            kinds=options(visit, "opportunity_kind", KINDS),
            instruments=options(visit, "instrument", INSTRUMENTS),
        )

    @router.get("/app/o/{opportunity_id}")
    @page
    async def opportunity(visit: Public, opportunity_id: str) -> Response:
        data = await page_data(visit, opportunity_id)
        return visit.render("opportunities/page.html", **data, errors={}, typed={})

    @router.post("/app/o/{opportunity_id}")
    @page
    async def express(visit: Current, opportunity_id: str) -> Response:
        visit.signed_in()
        form = await visit.form()
        if one(form, "action") == "withdraw":
            await visit.api.call("opportunities", "DELETE", f"/interests/{one(form, 'interest_id')}")
            return visit.redirect(f"/app/o/{opportunity_id}?withdrawn=1")
        body = nest(form)
        try:
            await visit.api.call(
                "opportunities",
                "POST",
                f"/opportunities/{opportunity_id}/interests",
                json=body,
                idempotency_key=one(form, "idempotency_key") or None,
            )
        except ApiError as error:
            if error.status != 422:
                raise
            data = await page_data(visit, opportunity_id)
            return visit.render(
                "opportunities/page.html", 422, **data, errors=field_errors(visit, error), typed=body
            )
        return visit.redirect(f"/app/o/{opportunity_id}?interested=1")

    return router
