"""Wiring of the projects service."""

from pathlib import Path

from passerelle.contracts import MemberErased, MemberProfileUpdated, MemberRegistered
from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.settings import PlatformSettings

from .api import build_router
from .handlers import ProjectsHandlers
from .repository import ProjectsRepository
from .subscribers import register_subscribers


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("projects", settings, database_url)
    handlers = ProjectsHandlers(app.units(ProjectsRepository), app.taxonomy)
    app.consumers.units = app.units(ProjectsRepository)
    app.router.include_router(build_router(handlers))
    register_subscribers(app.consumers, handlers)
    return app


service = ServiceDefinition(
    name="projects",
    migrations=Path(__file__).parent / "migrations",
    build=build,
    consumes=(MemberRegistered, MemberProfileUpdated, MemberErased),
)
