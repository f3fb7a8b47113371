"""Managers' pages: a territory's diaspora directory by bond, skill, language and country (as
`GET /members` allows the caller), and naming managers where the caller may."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from ..client import ApiError
from ..web import Portal, Refused, Visit, field_errors, one, page
from .public import skill_code
from .register import BONDS, SPOKEN

MANAGER_ROLES = frozenset({"territory_manager", "community_manager", "operator"})
NAMED_ROLES = ("territory_manager", "community_manager")


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    Current = Annotated[Visit, Depends(portal.visit)]

    def manager(visit: Visit) -> None:
        visit.signed_in()
        if not MANAGER_ROLES.intersection(visit.roles):
            raise Refused("manager")

    @router.get("/app/manage")
    @page
    async def index(visit: Current) -> Response:
        manager(visit)
        territories = await visit.api.get("projects", "/territories")
        return visit.render("manage_index.html", territories=territories)

    @router.get("/app/manage/{territory_id}")
    @page
    async def directory(
        visit: Current,
        territory_id: str,
        bond: Annotated[str, Query(max_length=20)] = "",
        skill: Annotated[str, Query(max_length=100)] = "",
        language: Annotated[str, Query(max_length=20)] = "",
        country: Annotated[str, Query(max_length=2)] = "",
    ) -> Response:
        manager(visit)
        territory = await visit.api.get("projects", f"/territories/{territory_id}")
        wanted = {"bond": bond, "skill": skill, "language": language, "country": country}
        code = await skill_code(visit, skill) if skill else ""
        errors: dict[str, str] = {}
        try:
            members = await visit.api.get(
                "members",
                "/members",
                territory_id=territory_id,
                limit=50,
                lang=visit.speech.language,
                **{**wanted, "skill": code},
            )
        except ApiError as error:
            if error.status != 422:
                raise
            members, errors = [], field_errors(visit, error)
        return visit.render(
            "manage.html",
            territory=territory,
            members=members,
            wanted=wanted,
            errors=errors,
            bonds=[(b, visit.speech.word("bond", b)) for b in BONDS],
            spoken=[(code, visit.speech.language_name(code)) for code in SPOKEN],
            country_options=sorted(visit.speech.locale.territories.items(), key=lambda item: item[1]),
            roles=[(r, visit.speech.word("role", r)) for r in NAMED_ROLES],
        )

    @router.post("/app/manage/{territory_id}")
    @page
    async def name_manager(visit: Current, territory_id: str) -> Response:
        manager(visit)
        form = await visit.form()
        body = {"sub": one(form, "sub").strip(), "role": one(form, "role", "territory_manager")}
        await visit.api.call("projects", "POST", f"/territories/{territory_id}/managers", json=body)
        return visit.redirect(f"/app/manage/{territory_id}?named=1")

    return router
