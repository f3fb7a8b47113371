"""Wiring of the opportunities service."""

from datetime import UTC, datetime
from pathlib import Path

from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.settings import PlatformSettings

from .api import build_router
from .config import OpportunitiesSettings
from .expiry import ExpiryWatch
from .handlers import OpportunitiesHandlers
from .programmes import load_catalogue
from .repository import SqlOpportunitiesRepository
from .subscribers import CONSUMED, register_subscribers


def _now() -> datetime:
    return datetime.now(UTC)


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("opportunities", settings, database_url)
    config = OpportunitiesSettings()
    units = app.units(SqlOpportunitiesRepository)
    catalogue = load_catalogue(config.programmes_file)
    handlers = OpportunitiesHandlers(units, config, app.taxonomy, catalogue, clock=_now)
    app.router.include_router(build_router(handlers))
    app.consumers.units = units  # consumed events reach the handlers with the same repository
    register_subscribers(app.consumers, handlers)
    watch = ExpiryWatch(handlers, config.expiry_interval)
    app.on_start.append(watch.start)
    app.on_stop.append(watch.stop)
    return app


service = ServiceDefinition(
    name="opportunities",
    migrations=Path(__file__).parent / "migrations",
    build=build,
    consumes=CONSUMED,  # what provisioning and its NATS user are made from
)
