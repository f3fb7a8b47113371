"""HTTP routes of the gatherings service: parse a typed command, call a handler, render."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from passerelle.contracts.gatherings import (
    AgendaItem,
    Attendance,
    GatheringFormat,
    GatheringKind,
    Outcome,
    Venue,
)
from passerelle.runtime.auth import CurrentIdentity
from passerelle.runtime.idempotency import IDEMPOTENT
from passerelle.runtime.pagination import Limit, Offset, describe_page
from passerelle.validation import KnownLanguage
from pydantic import AwareDatetime, BaseModel, Field

from .commands import (
    CancelGathering,
    ChangeGathering,
    CheckIn,
    CloseGathering,
    Code,
    CreateGathering,
    Register,
)
from .config import GatheringsSettings
from .domain import Gathering, MemberFacts, Registration
from .handlers import GatheringsHandlers, GatheringView
from .ics import Entry, calendar
from .repository import GatheringSearch

ICS = "text/calendar; charset=utf-8"
# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class RegistrationOut(BaseModel):
    registration_id: str
    gathering_id: str
    member_id: str
    attendance: Attendance
    status: str = Field(description="confirmed | waitlisted | attended | cancelled")
    code: str = Field(description="Shown at check-in; seen by the registrant and the organisers")
    registered_at: datetime
    position: int | None = Field(default=None, description="On the waitlist: 1 is the next to get a place")
    display_name: str | None = Field(default=None, description="In the organisers' list")

    @classmethod
    def of(cls, registration: Registration, **extra: Any) -> RegistrationOut:
        return cls(
            registration_id=registration.registration_id,
            gathering_id=registration.gathering_id,
            member_id=registration.member_id,
            attendance=registration.attendance,
            status=registration.status,
            code=registration.code,
            registered_at=registration.created_at,
            **extra,
        )


class GatheringOut(BaseModel):
    gathering_id: str
    territory_id: str
    project_id: str | None
    organiser_member_id: str
    co_organiser_member_ids: list[str]
    kind: GatheringKind
    format: GatheringFormat
    title: str
    description: str
    languages: list[str]
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    venue: Venue | None
    online_url: str | None = Field(description="Only for confirmed registrants, organisers and managers")
    capacity: int
    online_capacity: int | None
    registration_closes_at: datetime | None
    agenda: list[AgendaItem]
    status: str = Field(description="draft | published | cancelled | closed")
    cancel_reason: str | None
    attended: int
    walk_ins: int
    summary: str
    outcomes: list[Outcome]
    confirmed: int | None = Field(default=None, description="Places taken (in a gathering's own page)")
    waitlisted: int | None = None
    may_act: bool | None = Field(default=None, description="Whether the caller may act as organiser")
    my_registration: RegistrationOut | None = None

    @classmethod
    def of(cls, gathering: Gathering, *, online_url: bool = False) -> GatheringOut:
        fields = {name: getattr(gathering, name) for name in cls.model_fields if hasattr(gathering, name)}
        return cls.model_validate({**fields, "online_url": gathering.online_url if online_url else None})

    @classmethod
    def of_view(cls, view: GatheringView) -> GatheringOut:
        out = cls.of(view.gathering, online_url=view.sees_online_url)
        mine = RegistrationOut.of(view.mine) if view.mine else None
        return out.model_copy(
            update={
                "confirmed": view.confirmed,
                "waitlisted": view.waitlisted,
                "may_act": view.may_act,
                "my_registration": mine,
            }
        )


class CalendarLink(BaseModel):
    url: str = Field(description="A private link: whoever has it reads the member's gatherings")


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _csv(rows: list[tuple[Registration, MemberFacts | None]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["registration_id", "member_id", "display_name", "attendance", "status", "code", "registered_at"]
    )
    for registration, member in rows:
        name = member.display_name if member else ""
        writer.writerow(
            [
                registration.registration_id,
                _cell(registration.member_id),
                _cell(name),
                registration.attendance,
                registration.status,
                registration.code,
                registration.created_at.isoformat(),
            ]
        )
    return out.getvalue()


def build_router(handlers: GatheringsHandlers, settings: GatheringsSettings) -> APIRouter:
    router = APIRouter(tags=["gatherings"])
    portal = settings.public_url

    def ics(entries: list[Entry], filename: str) -> Response:
        body = calendar(entries, portal, datetime.now(UTC))
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(body, media_type=ICS, headers=headers)

    @router.post("/gatherings", status_code=status.HTTP_201_CREATED, dependencies=[IDEMPOTENT])
    async def create_gathering(body: CreateGathering, identity: CurrentIdentity) -> GatheringOut:
        """Create a gathering as a draft: for oneself or a member one manages, or as a manager of the
        territory."""
        return GatheringOut.of(await handlers.create(identity, body), online_url=True)

    @router.get("/gatherings")
    async def list_gatherings(
        identity: CurrentIdentity,
        request: Request,
        response: Response,
        territory_id: Annotated[
            Code | None, Query(description="This territory and every one under it")
        ] = None,
        starts_from: Annotated[
            AwareDatetime | None, Query(alias="from", description="Not ended by then")
        ] = None,
        starts_before: Annotated[
            AwareDatetime | None, Query(alias="to", description="Starting before")
        ] = None,
        kind: Annotated[GatheringKind | None, Query()] = None,
        gathering_format: Annotated[GatheringFormat | None, Query(alias="format")] = None,
        language: Annotated[KnownLanguage | None, Query()] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> list[GatheringOut]:
        """Published, cancelled and closed gatherings, soonest first (never an online link);
        `X-Total-Count` and `Link` page it."""
        wanted = GatheringSearch(territory_id, starts_from, starts_before, kind, gathering_format, language)
        found, total = await handlers.search(wanted, limit, offset)
        describe_page(request, response, total=total, limit=limit, offset=offset, shown=len(found))
        return [GatheringOut.of(gathering) for gathering in found]

    @router.get("/gatherings/registrations")
    async def member_registrations(identity: CurrentIdentity, member_id: Code) -> list[RegistrationOut]:
        """A member's registrations that hold or await a place, soonest gathering first."""
        return [RegistrationOut.of(r) for r, _ in await handlers.registrations_of(identity, member_id)]

    @router.get("/gatherings/calendar-link")
    async def calendar_link(identity: CurrentIdentity, member_id: Code) -> CalendarLink:
        """The member's private calendar feed, with the online links of their confirmed places."""
        token = await handlers.feed_token(identity, member_id)
        return CalendarLink(url=f"{portal.rstrip('/')}/gatherings/feeds/{token}.ics")

    @router.get("/gatherings/feeds/{token}.ics", response_class=Response)
    async def calendar_feed(token: str) -> Response:
        """A member's calendar: the private link is the credential (no token header: calendar apps
        cannot send one)."""
        found = await handlers.feed(token)
        entries = [
            Entry(
                g, g.online_url if r.status in ("confirmed", "attended") else None, r.status == "waitlisted"
            )
            for r, g in found
        ]
        return ics(entries, "passerelle.ics")

    @router.get("/gatherings/{gathering_id}.ics", response_class=Response)
    async def gathering_calendar(gathering_id: str, identity: CurrentIdentity) -> Response:
        """The gathering as a calendar file: UTC times and its page; never the online link."""
        view = await handlers.read(identity, gathering_id)
        return ics([Entry(view.gathering, None)], f"{gathering_id}.ics")

    @router.get("/gatherings/{gathering_id}")
    async def read_gathering(gathering_id: str, identity: CurrentIdentity) -> GatheringOut:
        return GatheringOut.of_view(await handlers.read(identity, gathering_id))

    @router.patch("/gatherings/{gathering_id}")
    async def change_gathering(
        gathering_id: str, body: ChangeGathering, identity: CurrentIdentity
    ) -> GatheringOut:
        """Change a draft freely; a published gathering emits GatheringUpdated with what changed."""
        return GatheringOut.of(await handlers.change(identity, gathering_id, body), online_url=True)

    @router.post("/gatherings/{gathering_id}/publish")
    async def publish_gathering(gathering_id: str, identity: CurrentIdentity) -> GatheringOut:
        """Open registrations (emits GatheringScheduled)."""
        return GatheringOut.of(await handlers.publish(identity, gathering_id), online_url=True)

    @router.post("/gatherings/{gathering_id}/cancel")
    async def cancel_gathering(
        gathering_id: str, body: CancelGathering, identity: CurrentIdentity
    ) -> GatheringOut:
        return GatheringOut.of(await handlers.cancel(identity, gathering_id, body.reason), online_url=True)

    @router.post("/gatherings/{gathering_id}/close")
    async def close_gathering(
        gathering_id: str, body: CloseGathering, identity: CurrentIdentity
    ) -> GatheringOut:
        """The closing report: walk-ins, summary, outcomes (emits GatheringClosed)."""
        return GatheringOut.of(await handlers.close(identity, gathering_id, body), online_url=True)

    @router.post(
        "/gatherings/{gathering_id}/registrations",
        status_code=status.HTTP_201_CREATED,
        dependencies=[IDEMPOTENT],
    )
    async def register(gathering_id: str, body: Register, identity: CurrentIdentity) -> RegistrationOut:
        """Register: `confirmed` while places remain, else `waitlisted` in order."""
        registered = await handlers.register(identity, gathering_id, body)
        return RegistrationOut.of(registered.registration, position=registered.position)

    @router.get("/gatherings/{gathering_id}/registrations", response_model=list[RegistrationOut])
    async def list_registrations(
        gathering_id: str, identity: CurrentIdentity, accept: Annotated[str, Header()] = "application/json"
    ) -> Any:
        """The registrations, in order, for the organisers; `Accept: text/csv` for a spreadsheet."""
        rows = await handlers.registrations(identity, gathering_id)
        if "text/csv" in accept:
            headers = {"Content-Disposition": f'attachment; filename="registrations-{gathering_id}.csv"'}
            return Response(_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
        return [RegistrationOut.of(r, display_name=m.display_name if m else None) for r, m in rows]

    @router.delete(
        "/gatherings/{gathering_id}/registrations/{registration_id}", status_code=status.HTTP_204_NO_CONTENT
    )
    async def cancel_registration(
        gathering_id: str, registration_id: str, identity: CurrentIdentity
    ) -> Response:
        """Withdraw; the place goes to the first waiting. Again: nothing more happens."""
        await handlers.cancel_registration(identity, gathering_id, registration_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post("/gatherings/{gathering_id}/check-in")
    async def check_in(gathering_id: str, body: CheckIn, identity: CurrentIdentity) -> RegistrationOut:
        """Record that a registrant came, by their code; an unknown code is a 422."""
        return RegistrationOut.of(await handlers.check_in(identity, gathering_id, body.code))

    return router
