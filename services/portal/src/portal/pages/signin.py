"""Signing in and out: OpenID Connect (authorization code with PKCE, Authlib) against the operator's
identity provider, or, under `passerelle up` and `demo` only, a development form that mints the same
tokens as `passerelle token`."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from passerelle.runtime.problems import Problem

from ..client import ApiError
from ..i18n import languages
from ..web import Portal, Visit, one, page

DEV_ROLES = ("member", "territory_manager", "community_manager", "operator")


def _safe_next(target: str | None) -> str:
    """Only a page of the portal: never an address elsewhere."""
    return target if target and target.startswith("/app/") and not target.startswith("//") else "/app/me"


async def signed_in(visit: Visit, sub: str, roles: list[str], token: str, target: str) -> Response:
    """Start the session; the page language and time zone become the member's own."""
    visit.become(sub, roles, token)
    try:
        member = await visit.api.get("members", f"/members/{sub}")
    except ApiError as error:
        if error.status != 404:
            raise
        return visit.redirect("/app/register")
    visit.session.set(lang=(member.get("locale") or "").split("-")[0] or None, tz=member.get("time_zone"))
    return visit.redirect(target)


def routes(portal: Portal) -> APIRouter:
    router = APIRouter()
    settings, authenticator = portal.settings, portal.authenticator
    Current = Annotated[Visit, Depends(portal.visit)]

    @router.get("/app/login")
    @page
    async def login(visit: Current, next: Annotated[str | None, Query()] = None) -> Response:
        if settings.oidc_issuer:
            return await _to_provider(visit, _safe_next(next))
        if not settings.dev_login:
            return visit.failure(503, "sign-in")
        return visit.render("login.html", next=_safe_next(next), roles=DEV_ROLES, errors={})

    @router.post("/app/login")
    @page
    async def dev_login(visit: Current) -> Response:
        if not settings.dev_login or authenticator is None:
            return visit.failure(403)
        form = await visit.form()
        sub, role = one(form, "sub").strip(), one(form, "role", "member")
        try:
            token = authenticator.issue(sub, [role if role in DEV_ROLES else "member"])
        except ValueError:
            errors = {"sub": visit.speech.gettext("Enter an identifier of letters, digits, - or _.")}
            return visit.render(
                "login.html", 422, next=_safe_next(one(form, "next")), roles=DEV_ROLES, errors=errors, sub=sub
            )
        return await signed_in(visit, sub, [role], token, _safe_next(one(form, "next")))

    def _callback_url(visit: Visit) -> str:
        return str(visit.request.base_url).rstrip("/") + "/app/login/callback"

    async def _to_provider(visit: Visit, target: str) -> Response:
        from .. import oidc  # Authlib only where a provider is configured

        url, state, verifier = await oidc.authorization(settings, await _metadata(), _callback_url(visit))
        visit.session.set(oidc={"state": state, "verifier": verifier, "next": target})
        return visit.redirect(url)

    @router.get("/app/login/callback")
    @page
    async def callback(
        visit: Current, code: Annotated[str, Query()] = "", state: Annotated[str, Query()] = ""
    ) -> Response:
        from .. import oidc

        started: dict[str, Any] = visit.session.get("oidc") or {}
        if not settings.oidc_issuer or not code or state != started.get("state") or authenticator is None:
            return visit.failure(403, "state")
        access = await oidc.access_token(
            settings, await _metadata(), _callback_url(visit), code, started["verifier"]
        )
        try:
            identity = authenticator.identify(access)  # checked as the APIs will check it
        except Problem:
            return visit.failure(403, "token")
        visit.session.pop("oidc", None)
        return await signed_in(
            visit, identity.sub, sorted(identity.roles), access, started.get("next", "/app/me")
        )

    async def _metadata() -> dict[str, Any]:
        from .. import oidc

        if portal.oidc_metadata is None:
            portal.oidc_metadata = await oidc.discover(settings.oidc_issuer or "")
        return portal.oidc_metadata

    @router.get("/app/logout")
    @page
    async def logout_page(visit: Current) -> Response:
        return visit.render("logout.html")

    @router.post("/app/logout")
    @page
    async def logout(visit: Current) -> Response:
        await visit.form()
        await portal.sessions.end(visit.session)
        return visit.redirect("/app/")

    @router.get("/app/language/{code}")
    @page
    async def language(visit: Current, code: str, next: Annotated[str | None, Query()] = None) -> Response:
        if code in languages():
            visit.session.set(lang=code)
        return visit.redirect(_safe_next(next))

    return router
