"""A member's notification preferences: channels per kind of message, digest and its hour, webhook."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..client import ApiError
from ..web import Portal, Visit, field_errors, one, page

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
    "gathering_scheduled",
    "gathering_confirmed",
    "gathering_waitlisted",
    "gathering_promoted",
    "gathering_changed",
    "gathering_cancelled",
    "gathering_reminder",
)
CHANNELS = ("inbox", "email", "webhook")
DIGESTS = ("immediate", "daily", "weekly")
OFFER_LISTS = frozenset({"modes", "languages"})


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    Current = Annotated[Visit, Depends(portal.visit)]

    async def notifications_page(
        visit: Visit, status: int = 200, errors: dict[str, str] | None = None
    ) -> Response:
        sub = visit.signed_in()
        preferences = await visit.api.get("notifications", f"/notification-preferences/{sub}")
        return visit.render(
            "notifications.html",
            status,
            preferences=preferences,
            errors=errors or {},
            kinds=[(kind, visit.speech.word("notice", kind)) for kind in KINDS],
            channels=[(channel, visit.speech.word("channel", channel)) for channel in CHANNELS],
            digests=[(digest, visit.speech.word("digest", digest)) for digest in DIGESTS],
        )

    @router.get("/app/me/notifications")
    @page
    async def notifications(visit: Current) -> Response:
        return await notifications_page(visit)

    @router.post("/app/me/notifications")
    @page
    async def change_notifications(visit: Current) -> Response:
        sub = visit.signed_in()
        form = await visit.form()
        body = {
            "channels": {
                kind: list(dict.fromkeys(["inbox", *form.get(f"channels.{kind}", [])])) for kind in KINDS
            },
            "digest": one(form, "digest", "immediate"),
            "digest_hour": one(form, "digest_hour", "8"),
            "webhook_url": one(form, "webhook_url") or None,
        }
        try:
            await visit.api.call("notifications", "PUT", f"/notification-preferences/{sub}", json=body)
        except ApiError as error:
            if error.status != 422:
                raise
            return await notifications_page(visit, 422, field_errors(visit, error))
        return visit.redirect("/app/me/notifications?saved=1")

    return router
