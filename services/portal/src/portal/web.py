"""The portal's framework: a visit (session, language, API client, the person signed in), pages
rendered from Jinja2 templates in the reader's language, post/redirect/get, CSRF, security headers,
and error pages instead of stack traces.

Adding a page: a module in `pages/` with `routes(portal) -> APIRouter` (listed in `pages.PAGES`), a
template in `templates/`, its texts in `locales/*.po`.
"""

from __future__ import annotations

import functools
import itertools
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ParamSpec
from urllib.parse import quote

import httpx
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from passerelle.runtime.auth import Authenticator

from .client import Api, ApiError
from .config import PortalSettings
from .i18n import Speech, choose, languages, native_name, translations
from .sessions import Session, Sessions

TEMPLATES = Path(__file__).parent / "templates"
# No inline script or style anywhere: the CSP says so, and the browser enforces it.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
P = ParamSpec("P")
# Whom public pages read as, for a visitor who is not signed in.
READER = "portal-public-reader"


class SignInNeeded(Exception):
    """The page is for someone signed in: the visitor is sent to the sign-in page."""


class Refused(Exception):
    """The portal itself refuses the page (403), as the API behind it would."""


class Visit:
    """One request to the portal."""

    def __init__(self, portal: Portal, request: Request, session: Session, speech: Speech, api: Api) -> None:
        self.portal, self.request, self.session, self.speech, self.api = portal, request, session, speech, api

    @property
    def sub(self) -> str | None:
        return self.session.get("sub")

    @property
    def roles(self) -> list[str]:
        return list(self.session.get("roles", []))

    def become(self, sub: str, roles: list[str], token: str) -> None:
        """Signed in from now on, in this visit too."""
        self.portal.sessions.start(self.session, sub=sub, roles=roles, token=token)
        self.api = self.portal.api(self.request, token)

    def signed_in(self) -> str:
        if not self.sub:
            raise SignInNeeded
        return self.sub

    async def form(self) -> dict[str, Any]:
        """The posted form, refused (403) unless it carries this session's CSRF token."""
        posted = await self.request.form()
        if not self.session.csrf_matches(posted.get("csrf_token")):
            raise Refused("csrf")
        return {name: posted.getlist(name) for name in posted}

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        page = self.portal.environment(self.speech.language).get_template(template)
        html = page.render(visit=self, s=self.speech, csrf=self.session.csrf, new_key=new_key, **values)
        return self._finish(HTMLResponse(html, status_code=status))

    def redirect(self, url: str) -> Response:
        """After a form: post/redirect/get."""
        return self._finish(RedirectResponse(url, status_code=303))

    def failure(self, status: int, detail: str = "") -> Response:
        return self.render("error.html", status=status, status_code=status, detail=detail)

    def _finish(self, response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-store"
        self.portal.sessions.store(self.request, response, self.session)
        return response


def new_key() -> str:
    """The Idempotency-Key a creating form carries, made with the form: a second tap sends it again."""
    return str(uuid.uuid4())


class Portal:
    """`authenticator` mints development tokens and checks the provider's; `None` without either."""

    def __init__(
        self, settings: PortalSettings, sessions: Sessions, authenticator: Authenticator | None
    ) -> None:
        self.settings, self.sessions, self.authenticator = settings, sessions, authenticator
        self.oidc_metadata: dict[str, Any] | None = None
        self._environments: dict[str, Environment] = {}
        self._remote = httpx.AsyncClient(timeout=20) if settings.api_url or settings.api_urls else None
        self._local: httpx.AsyncClient | None = None

    def environment(self, language: str) -> Environment:
        if language not in self._environments:
            environment = Environment(
                loader=FileSystemLoader(TEMPLATES),
                autoescape=select_autoescape(default=True),
                extensions=["jinja2.ext.i18n"],
            )
            environment.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
            environment.globals.update(languages=languages, native_name=native_name)
            self._environments[language] = environment
        return self._environments[language]

    def _client(self, request: Request) -> tuple[httpx.AsyncClient, str]:
        if self._remote is not None:
            return self._remote, self.settings.api_url or ""
        if self._local is None:
            # Under `passerelle up` the APIs are served by this very process: called in it.
            transport = httpx.ASGITransport(app=request.app)
            self._local = httpx.AsyncClient(transport=transport, base_url="http://in-process", timeout=20)
        return self._local, "http://in-process"

    async def visit(self, request: Request) -> Visit:
        session = await self.sessions.load(request)
        language = choose(
            chosen=session.get("lang"),
            profile_locale=None,
            accept_language=request.headers.get("accept-language"),
        )
        speech = Speech(language, session.get("tz") or "UTC")
        return Visit(self, request, session, speech, self.api(request, session.get("token")))

    async def public_visit(self, request: Request) -> Visit:
        """A visit to a public page: a visitor who is not signed in reads as the public reader."""
        visit = await self.visit(request)
        if not visit.sub:
            visit.api = self.api(request, self.reader_token())
        return visit

    def reader_token(self) -> str | None:
        """The token public pages read with: the operator's (PASSERELLE_PORTAL_READER_TOKEN), else one
        minted for the public reader where the portal holds the development signing secret."""
        if self.settings.reader_token:
            return self.settings.reader_token.get_secret_value()
        if self.authenticator is not None and self.authenticator.secret:
            return self.authenticator.issue(READER, ["member"], ttl_seconds=3600)
        return None

    def api(self, request: Request, token: str | None) -> Api:
        client, default = self._client(request)
        return Api(client, self.settings.api_urls, default, token)

    async def close(self) -> None:
        for client in (self._remote, self._local):
            if client is not None:
                await client.aclose()


def page(handler: Callable[P, Awaitable[Response]]) -> Callable[P, Awaitable[Response]]:
    """A page answers in HTML whatever happens: a sign-in redirect, a 403 or 404 page, an error page."""

    @functools.wraps(handler)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> Response:
        visit = kwargs["visit"]
        assert isinstance(visit, Visit)
        try:
            return await handler(*args, **kwargs)
        except SignInNeeded:
            return visit.redirect(f"/app/login?next={quote(visit.request.url.path)}")
        except Refused as refused:
            return visit.failure(403, str(refused))
        except ApiError as error:
            if error.status == 401:
                await visit.portal.sessions.end(visit.session)
                return visit.redirect("/app/login")
            return visit.failure(error.status if error.status in (403, 404, 409) else 502, error.detail)

    return guarded


def nest(form: dict[str, list[str]], lists: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A form in the API's shape: `needs.0.skill` is a field of the first need, an input repeated
    (or named in `lists`) a list; empty inputs and the form's own fields are left out."""
    nested: dict[str, Any] = {}
    for name, values in form.items():
        if name in ("csrf_token", "idempotency_key", "action"):
            continue
        kept = [value for value in values if value != ""]
        if not kept:
            continue
        value: Any = kept if name.split(".")[-1] in lists or len(kept) > 1 else kept[0]
        parts = name.split(".")
        target: Any = nested
        for part, following in itertools.pairwise(parts):
            key: Any = int(part) if part.isdigit() else part
            if isinstance(target, list):
                while len(target) <= key:
                    target.append({})
                target = target[key]
            else:
                target = target.setdefault(key, [] if following.isdigit() else {})
        last: Any = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
        if isinstance(target, list):
            while len(target) <= last:
                target.append(None)
        target[last] = value
    return _without_blank_rows(nested)


def _without_blank_rows(value: Any) -> Any:
    """A row of a repeated group left empty (a spare `needs.N` row) is no row."""
    if isinstance(value, dict):
        return {name: _without_blank_rows(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_without_blank_rows(item) for item in value if item not in ({}, None)]
    return value


def one(form: dict[str, list[str]], name: str, default: str = "") -> str:
    values = form.get(name) or [default]
    return values[0]


def field_errors(visit: Visit, error: ApiError) -> dict[str, str]:
    """The API's refusals by field, said in the reader's language (the API's own words are English)."""
    said = {}
    for field, message in error.field_errors().items():
        lowered = message.lower()
        if "required" in lowered or "missing" in lowered:
            key = "This field is required."
        elif "email" in lowered:
            key = "Enter a valid e-mail address."
        elif (
            "greater than" in lowered or "less than" in lowered or "decimal" in lowered or "number" in lowered
        ):
            key = "Enter a valid number."
        else:
            key = "This value is not accepted."
        said[field] = visit.speech.gettext(key)
    if not said:
        said["form"] = visit.speech.gettext("This value is not accepted.")
    return said
