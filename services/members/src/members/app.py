"""Wiring of the members service."""

from pathlib import Path

from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.settings import PlatformSettings

from .api import build_router
from .handlers import MembersHandlers
from .repository import MembersRepository


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("members", settings, database_url)
    app.router.include_router(
        build_router(MembersHandlers(app.units(MembersRepository), app.taxonomy), app.taxonomy)
    )
    return app


service = ServiceDefinition(name="members", migrations=Path(__file__).parent / "migrations", build=build)
