"""Wiring of the notifications service."""

from pathlib import Path

from passerelle.contracts import (
    FundingGoalReached,
    MatchAccepted,
    MatchConfirmed,
    MatchProposed,
    MatchWithdrawn,
    MemberErased,
    MemberProfileUpdated,
    MemberRegistered,
    PledgeMade,
    ProjectPublished,
    ProjectUpdated,
    TerritoryRegistered,
)
from passerelle.messaging.unit_of_work import no_repository
from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.settings import PlatformSettings

from .api import build_router
from .dispatch import Dispatcher
from .handlers import NotificationsHandlers
from .mail import Mailer
from .subscribers import register_subscribers
from .webhooks import WebhookSender, allowed_networks


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("notifications", settings, database_url)
    allowed = allowed_networks(settings.webhook_allowed_networks)
    dispatcher = Dispatcher(
        app.units(no_repository),
        Mailer(settings),
        WebhookSender(allowed, settings.webhook_timeout),
        retry_delays=settings.delivery_retry_delays,
        interval=settings.dispatch_interval,
    )
    handlers = NotificationsHandlers(app.units(no_repository), app.taxonomy, on_queued=dispatcher.wake)
    app.router.include_router(build_router(handlers, allowed))
    register_subscribers(app.consumers, handlers)
    app.on_start.append(dispatcher.start)
    app.on_stop.append(dispatcher.stop)
    return app


service = ServiceDefinition(
    name="notifications",
    migrations=Path(__file__).parent / "migrations",
    build=build,
    consumes=(
        MemberRegistered,
        MemberProfileUpdated,
        MemberErased,
        TerritoryRegistered,
        ProjectPublished,
        ProjectUpdated,
        PledgeMade,
        FundingGoalReached,
        MatchProposed,
        MatchAccepted,
        MatchConfirmed,
        MatchWithdrawn,
    ),
)
