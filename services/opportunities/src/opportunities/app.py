"""Wiring of the opportunities service."""

from pathlib import Path

from passerelle.contracts import MemberErased
from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.settings import PlatformSettings

from .api import build_router
from .config import OpportunitiesSettings
from .handlers import OpportunitiesHandlers
from .repository import SqlOpportunitiesRepository
from .subscribers import register_subscribers


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("opportunities", settings, database_url)
    units = app.units(SqlOpportunitiesRepository)
    handlers = OpportunitiesHandlers(units, OpportunitiesSettings())
    app.router.include_router(build_router(handlers))
    app.consumers.units = units  # consumed events reach the handlers with the same repository
    register_subscribers(app.consumers, handlers)
    return app


service = ServiceDefinition(
    name="opportunities",
    migrations=Path(__file__).parent / "migrations",
    build=build,
    consumes=(MemberErased,),  # what provisioning and its NATS user are made from
)
