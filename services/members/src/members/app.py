"""Wiring of the members service."""

from pathlib import Path

from passerelle.messaging.unit_of_work import no_repository
from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.settings import PlatformSettings

from .api import build_router
from .handlers import MembersHandlers


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("members", settings, database_url)
    app.router.include_router(
        build_router(MembersHandlers(app.units(no_repository), app.taxonomy), app.taxonomy)
    )
    return app


service = ServiceDefinition(name="members", migrations=Path(__file__).parent / "migrations", build=build)
