"""A member's profile: edit it, who may find them, download their data, erase the account after a
confirmation step."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..client import ApiError
from ..web import Portal, Visit, field_errors, nest, one, page
from .register import BONDS, SPOKEN

MODES = ("remote", "short_mission", "long_mission", "mentoring")
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

    async def profile_page(
        visit: Visit,
        status: int = 200,
        typed: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        confirm: bool = False,
    ) -> Response:
        sub = visit.signed_in()
        member = await visit.api.get("members", f"/members/{sub}")
        territories = await visit.api.get("projects", "/territories")
        return visit.render(
            "profile.html",
            status,
            member=member,
            typed=typed or member,
            errors=errors or {},
            confirm=confirm,
            bonds=[(bond, visit.speech.word("bond", bond)) for bond in BONDS],
            territory_options=[(t["territory_id"], t["name"]) for t in territories],
            spoken=[(code, visit.speech.language_name(code)) for code in SPOKEN],
        )

    @router.get("/app/me/profile")
    @page
    async def profile(visit: Current) -> Response:
        return await profile_page(visit)

    @router.post("/app/me/profile")
    @page
    async def change_profile(visit: Current) -> Response:
        sub = visit.signed_in()
        form = await visit.form()
        action = one(form, "action")
        if action == "erase":
            return await profile_page(visit, confirm=True)
        if action == "erase_confirmed":
            await visit.api.call("members", "DELETE", f"/members/{sub}")
            await portal.sessions.end(visit.session)
            return visit.redirect("/app/")
        if action == "download":
            exported = await visit.api.get("members", f"/members/{sub}/export")
            response = Response(
                json.dumps(exported, ensure_ascii=False, indent=2),
                media_type="application/json",
                headers={"Content-Disposition": f'attachment; filename="passerelle-{sub}.json"'},
            )
            return visit._finish(response)
        body = nest(form, frozenset({"languages"}))
        body["contact_consent"] = one(form, "contact_consent") == "true"
        try:
            member = await visit.api.call("members", "PATCH", f"/members/{sub}", json=body)
        except ApiError as error:
            if error.status != 422:
                raise
            return await profile_page(visit, 422, body, field_errors(visit, error))
        visit.session.set(lang=member["locale"].split("-")[0], tz=member["time_zone"])
        return visit.redirect("/app/me/profile?saved=1")

    return router
