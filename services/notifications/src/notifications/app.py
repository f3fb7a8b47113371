"""Wiring of the notifications service."""

from pathlib import Path

from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.runtime.settings import PlatformSettings

from .api import build_router
from .handlers import NotificationsHandlers
from .subscribers import register_subscribers


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("notifications", settings, database_url)
    handlers = NotificationsHandlers(app.database)
    app.router.include_router(build_router(handlers))
    register_subscribers(app.consumers, handlers)
    return app


service = ServiceDefinition(
    name="notifications", migrations=Path(__file__).parent / "migrations", build=build
)
