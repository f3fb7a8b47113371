"""Events the notifications service consumes: thin translations to handlers."""

from passerelle.contracts import (
    CloudEvent,
    MatchProposed,
    MemberErased,
    MemberProfileUpdated,
    MemberRegistered,
    ProjectPublished,
    TerritoryRegistered,
)
from passerelle.messaging.consumers import EventConsumers
from passerelle.persistence.database import UnitOfWork

from .handlers import NotificationsHandlers


def register_subscribers(consumers: EventConsumers, handlers: NotificationsHandlers) -> None:
    @consumers.on(MemberRegistered)
    async def on_member_registered(event: CloudEvent[MemberRegistered], uow: UnitOfWork) -> None:
        """Learn how to address a new member."""
        await handlers.remember_contact(event, uow)  # type: ignore[arg-type]

    @consumers.on(MemberProfileUpdated)
    async def on_member_profile_updated(event: CloudEvent[MemberProfileUpdated], uow: UnitOfWork) -> None:
        """Follow changes to a member's name, e-mail and locale."""
        await handlers.remember_contact(event, uow)  # type: ignore[arg-type]

    @consumers.on(MemberErased)
    async def on_member_erased(event: CloudEvent[MemberErased], uow: UnitOfWork) -> None:
        """Delete the member's contact data and messages; send them nothing more."""
        await handlers.erase(event.data.member_id, uow)

    @consumers.on(TerritoryRegistered)
    async def on_territory_registered(event: CloudEvent[TerritoryRegistered], uow: UnitOfWork) -> None:
        """Learn a territory's name, for messages."""
        await handlers.remember_territory(event.data, uow)

    @consumers.on(ProjectPublished)
    async def on_project_published(event: CloudEvent[ProjectPublished], uow: UnitOfWork) -> None:
        """Learn a project's title and owner, for messages."""
        await handlers.remember_project(event.data, uow)

    @consumers.on(MatchProposed)
    async def on_match_proposed(event: CloudEvent[MatchProposed], uow: UnitOfWork) -> None:
        """Tell the member which project, where, and why they fit."""
        await handlers.tell_member_of_match(event, uow)
