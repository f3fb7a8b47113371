"""Wiring of the matching service."""

import gc
from pathlib import Path

from passerelle.contracts import (
    MemberErased,
    MemberProfileUpdated,
    MemberRegistered,
    ProjectClosed,
    ProjectPublished,
    ProjectUpdated,
    SkillOffered,
    SkillOfferUpdated,
    SkillOfferWithdrawn,
    TerritoryManagerNamed,
    TerritoryManagerRemoved,
    TerritoryRegistered,
)
from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.settings import PlatformSettings

from .api import build_router
from .config import MatchingSettings
from .deadlines import Deadlines
from .engine import MatchingEngine
from .handlers import MatchingHandlers
from .opportunity_needs import OPPORTUNITY_EVENTS, register_opportunity_needs
from .repository import MatchingRepository
from .subscribers import register_subscribers


def freeze_heap() -> None:
    """Once the index is built: a million long-lived objects the cyclic collector would otherwise walk
    again at every full collection (pauses of a tenth of a second at the 99th percentile). A setting
    of the whole process, so made here."""
    gc.collect()
    gc.freeze()


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("matching", settings, database_url)
    units = app.units(MatchingRepository)
    config = MatchingSettings()
    engine = MatchingEngine(units, app.taxonomy, config, after_build=freeze_heap)
    handlers = MatchingHandlers(units, engine)
    deadlines = Deadlines(units, engine, config)
    app.consumers.units = units
    app.on_start.append(engine.warm_up)
    app.on_start.append(deadlines.start)
    app.on_stop.append(deadlines.stop)
    app.router.include_router(build_router(handlers, config.answer_days))
    register_subscribers(app.consumers, handlers)
    register_opportunity_needs(app.consumers, handlers)
    return app


service = ServiceDefinition(
    name="matching",
    migrations=Path(__file__).parent / "migrations",
    build=build,
    consumes=(
        MemberRegistered,
        MemberProfileUpdated,
        MemberErased,
        SkillOffered,
        SkillOfferUpdated,
        SkillOfferWithdrawn,
        TerritoryRegistered,
        TerritoryManagerNamed,
        TerritoryManagerRemoved,
        ProjectPublished,
        ProjectUpdated,
        ProjectClosed,
        *OPPORTUNITY_EVENTS,
    ),
)
