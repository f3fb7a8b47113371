"""A member's skill offers: add (skill search in the reader's language), edit, withdraw."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from ..client import ApiError
from ..web import Portal, Visit, field_errors, nest, one, page
from .public import skill_code, skill_labels

MODES = ("remote", "short_mission", "long_mission", "mentoring", "call")
KINDS = (
    "welcome",
    "match_proposed",
    "match_accepted",
    "match_confirmed",
    "match_withdrawn",
    "project_published",
    "pledge_made",
    "funding_goal_reached",
)
CHANNELS = ("inbox", "email", "webhook")
DIGESTS = ("immediate", "daily", "weekly")
OFFER_LISTS = frozenset({"modes", "languages"})


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    Current = Annotated[Visit, Depends(portal.visit)]

    async def offers_page(
        visit: Visit,
        status: int = 200,
        typed: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        query: str = "",
    ) -> Response:
        sub = visit.signed_in()
        offers = [o for o in await visit.api.get("members", f"/members/{sub}/offers") if not o["withdrawn"]]
        labels = await skill_labels(visit, {o["skill"] for o in offers})
        found = (
            await visit.api.get("members", "/skills", q=query, lang=visit.speech.language, limit=10)
            if query
            else []
        )
        return visit.render(
            "offers.html",
            status,
            offers=offers,
            labels=labels,
            found=found,
            query=query,
            typed=typed or {"skill": visit.request.query_params.get("skill", "")},
            errors=errors or {},
            modes=[(mode, visit.speech.word("mode", mode)) for mode in MODES],
        )

    @router.get("/app/me/offers")
    @page
    async def offers(visit: Current, q: Annotated[str, Query(max_length=100)] = "") -> Response:
        return await offers_page(visit, query=q)

    @router.post("/app/me/offers")
    @page
    async def change_offers(visit: Current) -> Response:
        sub = visit.signed_in()
        form = await visit.form()
        action = one(form, "action")
        if action == "withdraw":
            await visit.api.call("members", "DELETE", f"/members/{sub}/offers/{one(form, 'offer_id')}")
            return visit.redirect("/app/me/offers")
        body = nest(form, OFFER_LISTS)
        body.pop("offer_id", None)
        if body.get("skill"):
            body["skill"] = await skill_code(visit, str(body["skill"]))
        try:
            if action == "edit":
                await visit.api.call(
                    "members", "PATCH", f"/members/{sub}/offers/{one(form, 'offer_id')}", json=body
                )
            else:
                await visit.api.call(
                    "members",
                    "POST",
                    f"/members/{sub}/offers",
                    json=body,
                    idempotency_key=one(form, "idempotency_key") or None,
                )
        except ApiError as error:
            if error.status != 422:
                raise
            return await offers_page(visit, 422, body, field_errors(visit, error))
        return visit.redirect("/app/me/offers?saved=1")

    return router
