"""A member's notification preferences: channels per kind of message, digest and its hour, webhook."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..client import ApiError
from ..web import Portal, Visit, field_errors, one, page

CHANNELS = ("inbox", "email", "webhook")
DIGESTS = ("immediate", "daily", "weekly")


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    Current = Annotated[Visit, Depends(portal.visit)]

    async def notifications_page(
        visit: Visit, status: int = 200, errors: dict[str, str] | None = None
    ) -> Response:
        sub = visit.signed_in()
        preferences = await visit.api.get("notifications", f"/notification-preferences/{sub}")
        # Every kind the API answers, so that a kind added there can be chosen here at once.
        return visit.render(
            "notifications.html",
            status,
            preferences=preferences,
            errors=errors or {},
            kinds=[(kind, visit.speech.word("notice", kind)) for kind in preferences["channels"]],
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
        saved = await visit.api.get("notifications", f"/notification-preferences/{sub}")
        body = {
            "channels": {
                kind: list(dict.fromkeys(["inbox", *form.get(f"channels.{kind}", [])]))
                for kind in saved["channels"]
            },
            "digest": one(form, "digest", "immediate"),
            "digest_hour": one(form, "digest_hour", "8"),
            "webhook_url": one(form, "webhook_url") or None,
            # Not chosen on this page: kept as they are, since a PUT replaces everything.
            "territory_news": saved.get("territory_news", []),
            "opportunity_news": saved.get("opportunity_news", []),
        }
        try:
            await visit.api.call("notifications", "PUT", f"/notification-preferences/{sub}", json=body)
        except ApiError as error:
            if error.status != 422:
                raise
            return await notifications_page(visit, 422, field_errors(visit, error))
        return visit.redirect("/app/me/notifications?saved=1")

    return router
