"""Gatherings in the portal: a gathering's page (register, the waitlist, the calendar, its time at
the venue and the reader's), the organisers' desk (registrations, check-in by code, publish, cancel,
close with outcomes), and the lists a territory's home and a member's space show."""

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..client import ApiError
from ..web import Portal, Refused, Visit, field_errors, nest, one, page

OUTCOME_ROWS = 3


def _at(moment: str, zone: str, visit: Visit) -> str:
    """A start as people say it, without seconds: "14 juil. 2027, 18:00"."""
    local = datetime.fromisoformat(moment).astimezone(ZoneInfo(zone))
    locale = visit.speech.locale
    return f"{format_date(local, 'medium', locale=locale)}, {format_time(local, 'short', locale=locale)}"


def times(visit: Visit, gathering: dict[str, Any]) -> dict[str, str]:
    """When it starts, at the venue and for the reader; the reader's only when their clock differs."""
    at_venue = _at(gathering["starts_at"], gathering["time_zone"], visit)
    for_reader = _at(gathering["starts_at"], visit.speech.time_zone, visit)
    return {"venue": at_venue, "reader": "" if for_reader == at_venue else for_reader}


async def upcoming(visit: Visit, territory_id: str) -> list[dict[str, Any]]:
    """A territory's gatherings not ended yet (and those under it), soonest first."""
    now = datetime.now(UTC).isoformat()
    found = await visit.api.get(
        "gatherings", "/gatherings", territory_id=territory_id, limit=20, **{"from": now}
    )
    return [{**g, "times": times(visit, g)} for g in found if g["status"] == "published"]


async def registrations_of(visit: Visit, member_id: str) -> list[dict[str, Any]]:
    """A member's registrations with their gatherings, for their space."""
    mine = await visit.api.get("gatherings", "/gatherings/registrations", member_id=member_id)
    found = await asyncio.gather(
        *(visit.api.get("gatherings", f"/gatherings/{r['gathering_id']}") for r in mine),
        return_exceptions=True,
    )
    return [
        {**r, "gathering": g, "times": times(visit, g)}
        for r, g in zip(mine, found, strict=True)
        if isinstance(g, dict)
    ]


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    Public = Annotated[Visit, Depends(portal.public_visit)]
    Current = Annotated[Visit, Depends(portal.visit)]

    async def gathering_page(visit: Visit, gathering_id: str, status: int = 200, **extra: Any) -> Response:
        gathering = await visit.api.get("gatherings", f"/gatherings/{gathering_id}")
        territory = await visit.api.get("projects", f"/territories/{gathering['territory_id']}")
        feed = None
        if visit.sub and gathering["my_registration"]:
            feed = (await visit.api.get("gatherings", "/gatherings/calendar-link", member_id=visit.sub))[
                "url"
            ]
        values = {"errors": {}, "feed": feed, **extra}
        return visit.render(
            "gatherings/gathering.html",
            status,
            gathering=gathering,
            territory=territory,
            times=times(visit, gathering),
            **values,
        )

    @router.get("/app/g/{gathering_id}")
    @page
    async def gathering(visit: Public, gathering_id: str) -> Response:
        return await gathering_page(visit, gathering_id)

    @router.post("/app/g/{gathering_id}")
    @page
    async def act(visit: Current, gathering_id: str) -> Response:
        visit.signed_in()
        form = await visit.form()
        action = one(form, "action")
        path = f"/gatherings/{gathering_id}/registrations"
        try:
            if action == "register":
                await visit.api.call(
                    "gatherings",
                    "POST",
                    path,
                    json=nest(form),
                    idempotency_key=one(form, "idempotency_key") or None,
                )
            elif action == "cancel":
                await visit.api.call("gatherings", "DELETE", f"{path}/{one(form, 'registration_id')}")
        except ApiError as error:
            if error.status not in (409, 422):
                raise
            return await gathering_page(visit, gathering_id, 422, errors={"form": error.detail})
        return visit.redirect(f"/app/g/{gathering_id}")

    async def desk_page(visit: Visit, gathering_id: str, status: int = 200, **extra: Any) -> Response:
        visit.signed_in()
        gathering = await visit.api.get("gatherings", f"/gatherings/{gathering_id}")
        if not gathering["may_act"]:
            raise Refused("gathering")
        registrations = await visit.api.get("gatherings", f"/gatherings/{gathering_id}/registrations")
        values = {"errors": {}, "checked": None, **extra}
        return visit.render(
            "gatherings/desk.html",
            status,
            gathering=gathering,
            registrations=registrations,
            times=times(visit, gathering),
            outcome_rows=range(OUTCOME_ROWS),
            **values,
        )

    @router.get("/app/g/{gathering_id}/desk")
    @page
    async def desk(visit: Current, gathering_id: str) -> Response:
        return await desk_page(visit, gathering_id)

    @router.post("/app/g/{gathering_id}/desk")
    @page
    async def desk_action(visit: Current, gathering_id: str) -> Response:
        visit.signed_in()
        form = await visit.form()
        action = one(form, "action")
        path = f"/gatherings/{gathering_id}"
        checked = None
        try:
            if action == "check_in":
                checked = await visit.api.call("gatherings", "POST", f"{path}/check-in", json=nest(form))
            elif action in ("publish", "cancel", "close"):
                body = None if action == "publish" else nest(form)
                await visit.api.call("gatherings", "POST", f"{path}/{action}", json=body)
        except ApiError as error:
            if error.status not in (409, 422):
                raise
            errors = field_errors(visit, error) if error.status == 422 else {}
            errors["form"] = error.detail if error.status == 409 else errors.get("form", "")
            return await desk_page(visit, gathering_id, error.status, errors=errors)
        if checked is not None:  # the organiser sees whom the code was, then checks in the next
            return await desk_page(visit, gathering_id, checked=checked)
        return visit.redirect(f"/app/g/{gathering_id}/desk")

    return router
