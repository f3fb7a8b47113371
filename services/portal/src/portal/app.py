"""Wiring of the portal: its pages under /app/, its static files, and `GET /` redirecting there."""

import hashlib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, RedirectResponse, Response
from passerelle.persistence.database import Database
from passerelle.runtime.auth import Authenticator
from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.settings import PlatformSettings

from .config import PortalSettings
from .pages import PAGES
from .sessions import Sessions
from .web import SECURITY_HEADERS, Portal, Visit, page

STATIC = Path(__file__).parent / "static"
STATIC_FILES = {path.name: path for path in STATIC.iterdir() if path.suffix in (".css", ".js")}


def _session_secret(portal: PortalSettings, settings: PlatformSettings) -> str:
    if portal.session_secret:
        return portal.session_secret.get_secret_value()
    if settings.jwt_secret:  # under `up`: derived, so that sessions outlive a restart
        return hashlib.sha256(
            b"portal-session:" + settings.jwt_secret.get_secret_value().encode()
        ).hexdigest()
    raise ValueError(
        "set PASSERELLE_PORTAL_SESSION_SECRET (or PASSERELLE_JWT_SECRET) for the portal's sessions"
    )


def build_portal(
    settings: PlatformSettings, portal_settings: PortalSettings, database: Database | None = None
) -> tuple[Portal, APIRouter]:
    portal_settings.check()
    secret = settings.jwt_secret or settings.jwks_url
    authenticator = Authenticator(settings) if secret else None
    portal = Portal(
        portal_settings,
        Sessions(_session_secret(portal_settings, settings), portal_settings.session_hours, database),
        authenticator,
    )
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def root() -> Response:
        return RedirectResponse("/app/", status_code=307)

    @router.get("/app")
    async def app_root() -> Response:
        return RedirectResponse("/app/", status_code=307)

    @router.get("/app/static/{name}")
    async def static(name: str) -> Response:
        path = STATIC_FILES.get(name)
        if path is None:
            return Response(status_code=404)
        return FileResponse(path, headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=86400"})

    for module in PAGES:
        router.include_router(module.routes(portal))

    @router.get("/app/{anything:path}")
    @page
    async def not_found(visit: Annotated[Visit, Depends(portal.visit)]) -> Response:
        return visit.failure(404)

    return portal, router


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("portal", settings, database_url)
    portal, router = build_portal(settings, PortalSettings(), app.database)
    app.router.include_router(router)
    app.on_stop.append(portal.close)
    return app


# It owns no domain data and keeps none about members: it consumes nothing, MemberErased included.
service = ServiceDefinition(name="portal", migrations=Path(__file__).parent / "migrations", build=build)
