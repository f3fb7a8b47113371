"""Wiring of the matching service."""

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
from passerelle.messaging.unit_of_work import no_repository
from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.settings import PlatformSettings

from .api import build_router
from .config import MatchingSettings
from .handlers import MatchingHandlers
from .subscribers import register_subscribers


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("matching", settings, database_url)
    handlers = MatchingHandlers(app.units(no_repository), MatchingSettings(), app.taxonomy)
    app.on_start.append(handlers.warm_up)
    app.router.include_router(build_router(handlers))
    register_subscribers(app.consumers, handlers)
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
    ),
)
