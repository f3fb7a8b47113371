"""Wiring of the gatherings service."""

from pathlib import Path

from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.settings import PlatformSettings

from .api import build_router
from .config import GatheringsSettings
from .handlers import GatheringsHandlers
from .reminders import Reminders
from .repository import SqlGatheringsRepository
from .subscribers import CONSUMES, register_subscribers


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("gatherings", settings, database_url)
    config = GatheringsSettings()
    units = app.units(SqlGatheringsRepository)
    handlers = GatheringsHandlers(units, config)
    app.router.include_router(build_router(handlers, config))
    app.consumers.units = units  # consumed events reach the handlers with the same repository
    register_subscribers(app.consumers, handlers)
    reminders = Reminders(handlers.remind, config.reminder_interval)
    app.on_start.append(reminders.start)
    app.on_stop.append(reminders.stop)
    return app


service = ServiceDefinition(
    name="gatherings",
    migrations=Path(__file__).parent / "migrations",
    build=build,
    consumes=CONSUMES,  # what provisioning and its NATS user are made from
)
