"""Wiring of the conversations service."""

from pathlib import Path

from passerelle.contracts import (
    IntroductionMade,
    MatchConfirmed,
    MemberErased,
    MemberProfileUpdated,
    MemberRegistered,
    OpportunityPublished,
    OpportunityUpdated,
    ProjectPublished,
    ProjectUpdated,
)
from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.settings import PlatformSettings

from .api import build_router
from .handlers import ConversationsHandlers
from .repository import SqlConversationsRepository
from .subscribers import register_subscribers


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("conversations", settings, database_url)
    units = app.units(SqlConversationsRepository)
    handlers = ConversationsHandlers(units)
    app.router.include_router(build_router(handlers))
    app.consumers.units = units  # consumed events reach the handlers with the same repository
    register_subscribers(app.consumers, handlers)
    return app


service = ServiceDefinition(
    name="conversations",
    migrations=Path(__file__).parent / "migrations",
    build=build,
    consumes=(  # what provisioning and its NATS user are made from
        MemberRegistered,
        MemberProfileUpdated,
        MemberErased,
        ProjectPublished,
        ProjectUpdated,
        OpportunityPublished,
        OpportunityUpdated,
        MatchConfirmed,
        IntroductionMade,
    ),
)
