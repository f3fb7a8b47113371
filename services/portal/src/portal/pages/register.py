"""Registering, as a wizard that works without JavaScript: the language first (the next step is in
it), then who registers, their bonds to territories and residence, languages, time zone and each
consent on its own. A person registers themself; once registered, an association or local actor
they manage."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..client import ApiError
from ..i18n import languages
from ..web import Portal, Visit, field_errors, nest, one, page

BONDS = ("origin", "family", "heart")
KINDS = ("person", "association", "local_actor")
SPOKEN = ("fr", "ar", "en", "ber", "es", "de", "nl", "wo", "bm")
LISTS = frozenset({"languages", "sectors", "managers"})


async def _registered(visit: Visit, sub: str) -> bool:
    try:
        await visit.api.get("members", f"/members/{sub}")
    except ApiError as error:
        if error.status == 404:
            return False
        raise
    return True


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    Current = Annotated[Visit, Depends(portal.visit)]

    async def step_two(
        visit: Visit,
        status: int = 200,
        typed: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
    ) -> Response:
        sub = visit.signed_in()
        kinds = KINDS if not await _registered(visit, sub) else KINDS[1:]
        territories = await visit.api.get("projects", "/territories")
        return visit.render(
            "register.html",
            status,
            step=2,
            typed=typed or {"kind": kinds[0], "locale": visit.speech.language},
            errors=errors or {},
            kinds=[(kind, visit.speech.word("kind", kind)) for kind in kinds],
            bonds=[(bond, visit.speech.word("bond", bond)) for bond in BONDS],
            territory_options=[(t["territory_id"], t["name"]) for t in territories],
            country_options=sorted(visit.speech.locale.territories.items(), key=lambda item: item[1]),
            spoken=[(code, visit.speech.language_name(code)) for code in SPOKEN],
        )

    @router.get("/app/register")
    @page
    async def start(visit: Current) -> Response:
        visit.signed_in()
        if visit.request.query_params.get("step") == "2":
            return await step_two(visit)
        return visit.render("register.html", step=1, typed={}, errors={})

    @router.post("/app/register")
    @page
    async def submit(visit: Current) -> Response:
        sub = visit.signed_in()
        form = await visit.form()
        if one(form, "action") == "language":
            chosen = one(form, "locale")
            if chosen in languages():
                visit.session.set(lang=chosen)
            return visit.redirect("/app/register?step=2")
        body = nest(form, LISTS)
        body["contact_consent"] = one(form, "contact_consent") == "true"
        body.setdefault("locale", visit.speech.language)
        try:
            member = await visit.api.call(
                "members", "POST", "/members", json=body, idempotency_key=one(form, "idempotency_key") or None
            )
        except ApiError as error:
            if error.status != 422:
                raise
            return await step_two(visit, 422, body, field_errors(visit, error))
        if member["member_id"] != sub:
            managed = [*visit.session.get("managed", []), member["member_id"]]
            visit.session.set(managed=managed)
            return visit.redirect("/app/me?registered=" + member["member_id"])
        visit.session.set(lang=member["locale"].split("-")[0], tz=member["time_zone"])
        return visit.redirect("/app/me/offers")

    return router
