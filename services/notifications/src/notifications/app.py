"""Wiring of the notifications service."""

from pathlib import Path

from passerelle.contracts import (
    FundingGoalReached,
    IdeaAnswered,
    MatchAccepted,
    MatchConfirmed,
    MatchProposed,
    MatchReminded,
    MatchWithdrawn,
    MemberErased,
    MemberProfileUpdated,
    MemberRegistered,
    MessagePosted,
    PlanPhaseStarted,
    PledgeMade,
    ProjectPublished,
    ProjectUpdated,
    TerritoryRegistered,
)
from passerelle.periodic import Periodic
from passerelle.runtime.service import ServiceApp, ServiceDefinition
from passerelle.settings import PlatformSettings

from .api import build_router
from .config import NotificationsSettings
from .conversation_notices import ConversationNotices, register_conversation_notices
from .dispatch import Dispatcher
from .financing_notices import FINANCING_EVENTS
from .gathering_notices import CONSUMES as GATHERING_EVENTS
from .handlers import NotificationsHandlers
from .mail import Mailer
from .opportunity_notices import OPPORTUNITY_EVENTS
from .repository import NotificationsRepository, outside_transactions
from .subscribers import register_subscribers
from .webhooks import WebhookSender, allowed_networks


def build(settings: PlatformSettings, database_url: str) -> ServiceApp:
    app = ServiceApp("notifications", settings, database_url)
    config = NotificationsSettings.of(settings)
    units = app.units(NotificationsRepository)
    networks = allowed_networks(config.webhook_allowed_networks)
    mailer = Mailer(config, config.mail_dir or settings.data_dir / "mail")
    looks = outside_transactions(app.database.engine)
    dispatcher = Dispatcher(units, looks, mailer, WebhookSender(networks, config.webhook_timeout), config)

    async def tell_news_chunk() -> bool:
        async with looks() as repository:  # an empty look is one statement, no transaction
            if not await repository.news_to_tell():
                return False
        return await handlers.tell_news_chunk()

    news = Periodic(
        "notifications.news",
        tell_news_chunk,
        config.dispatch_interval,
        failed="notifications.news.retry",
        until_done=True,
    )
    handlers = NotificationsHandlers(
        units,
        app.taxonomy,
        networks,
        on_queued=dispatcher.wake,
        forget_emails=mailer.forget,
        on_news=news.wake,
        news_chunk=config.fan_out_chunk,
    )
    app.router.include_router(build_router(handlers))
    app.consumers.units = units
    register_subscribers(app.consumers, handlers)
    register_conversation_notices(app.consumers, ConversationNotices(handlers, config.message_burst_seconds))
    app.on_start.append(dispatcher.start)
    app.on_stop.append(dispatcher.stop)

    app.on_start.append(news.start)
    app.on_stop.append(news.stop)
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
        MessagePosted,
        MatchReminded,
        *FINANCING_EVENTS,
        *GATHERING_EVENTS,
        IdeaAnswered,
        PlanPhaseStarted,
        *OPPORTUNITY_EVENTS,
    ),
)
