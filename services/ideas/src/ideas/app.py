"""Wiring of the ideas service."""

import asyncio
import contextlib
from pathlib import Path

import structlog
from passerelle.contracts import (
    MemberErased,
    MemberProfileUpdated,
    MemberRegistered,
    ProjectPublished,
    ProjectUpdated,
    TerritoryManagerNamed,
    TerritoryManagerRemoved,
    TerritoryRegistered,
)
from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.settings import PlatformSettings

from .api import build_router
from .config import IdeasSettings
from .handlers import IdeasHandlers
from .repository import SqlIdeasRepository
from .subscribers import register_subscribers

log = structlog.get_logger(__name__)


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("ideas", settings, database_url)
    units = app.units(SqlIdeasRepository)
    config = IdeasSettings()
    handlers = IdeasHandlers(units, config, app.taxonomy.sectors)
    app.router.include_router(build_router(handlers))
    app.consumers.units = units  # consumed events reach the handlers with the same repository
    register_subscribers(app.consumers, handlers)
    tasks: list[asyncio.Task[None]] = []

    async def announce_phases() -> None:
        """A phase begins with its first day, not with a request: look for them now and then."""
        while True:
            try:
                await handlers.start_due_phases()
            except Exception as error:  # noqa: BLE001 - the loop must outlive a database outage
                log.warning("ideas.phases.retry", error=repr(error))
            await asyncio.sleep(config.phase_check_interval)

    async def start() -> None:
        tasks.append(asyncio.create_task(announce_phases(), name="ideas-phases"))

    async def stop() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        tasks.clear()

    app.on_start.append(start)
    app.on_stop.append(stop)
    return app


service = ServiceDefinition(
    name="ideas",
    migrations=Path(__file__).parent / "migrations",
    build=build,
    consumes=(  # what provisioning and its NATS user are made from
        MemberRegistered,
        MemberProfileUpdated,
        MemberErased,
        TerritoryRegistered,
        TerritoryManagerNamed,
        TerritoryManagerRemoved,
        ProjectPublished,
        ProjectUpdated,
    ),
)
