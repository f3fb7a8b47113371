"""Wiring of the projects service."""

from pathlib import Path

from passerelle.contracts import MemberErased, MemberProfileUpdated, MemberRegistered
from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.settings import PlatformSettings

from .api import build_router
from .config import ProjectsSettings
from .financing.api import build_financing_router
from .financing.handlers import FinancingHandlers, FinancingRules, system_clock
from .financing.loops import FinancingLoop
from .financing.programmes import load_programmes
from .financing.repository import FinancingRepository
from .handlers import ProjectsHandlers
from .repository import ProjectsRepository
from .subscribers import register_subscribers


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("projects", settings, database_url)
    handlers = ProjectsHandlers(app.units(ProjectsRepository), app.taxonomy)
    app.consumers.units = app.units(ProjectsRepository)
    app.router.include_router(build_router(handlers))
    register_subscribers(app.consumers, handlers)
    add_financing(app, ProjectsSettings())
    return app


def add_financing(app: ServiceApp, config: ProjectsSettings) -> None:
    """Plans, campaigns, collections and co-funding, and the loop that closes campaigns when due."""
    units = app.units(FinancingRepository)
    rules = FinancingRules(
        load_programmes(config.programmes_file), config.collection_days, tuple(config.reminder_days)
    )
    financing = FinancingHandlers(units, rules, system_clock)
    app.router.include_router(build_financing_router(financing))
    loop = FinancingLoop(units, financing, config.financing_interval, config.financing_batch, system_clock)
    app.on_start.append(loop.start)
    app.on_stop.append(loop.stop)


service = ServiceDefinition(
    name="projects",
    migrations=Path(__file__).parent / "migrations",
    build=build,
    consumes=(MemberRegistered, MemberProfileUpdated, MemberErased),
)
