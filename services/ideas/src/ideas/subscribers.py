"""Events the ideas service consumes: thin translations to handlers."""

from passerelle.contracts import (
    CloudEvent,
    MemberErased,
    MemberProfileUpdated,
    MemberRegistered,
    ProjectPublished,
    ProjectUpdated,
    TerritoryManagerNamed,
    TerritoryManagerRemoved,
    TerritoryRegistered,
)
from passerelle.messaging.consumers import EventConsumers

from .handlers import IdeasHandlers, IdeasUnitOfWork


def register_subscribers(consumers: EventConsumers, handlers: IdeasHandlers) -> None:
    @consumers.on(MemberRegistered)
    async def on_member_registered(event: CloudEvent[MemberRegistered], uow: IdeasUnitOfWork) -> None:
        """Learn a member's bonds to places, residence and managers."""
        await handlers.remember_member(event.data, event.time, uow)

    @consumers.on(MemberProfileUpdated)
    async def on_member_profile_updated(
        event: CloudEvent[MemberProfileUpdated], uow: IdeasUnitOfWork
    ) -> None:
        """Follow changes to a member's bonds, residence and managers."""
        await handlers.remember_member(event.data, event.time, uow)

    @consumers.on(MemberErased)
    async def on_member_erased(event: CloudEvent[MemberErased], uow: IdeasUnitOfWork) -> None:
        """Unlink the member from what they wrote, supported and reported; their support stays counted."""
        await handlers.forget_member(event.data.member_id, uow)

    @consumers.on(TerritoryRegistered)
    async def on_territory_registered(event: CloudEvent[TerritoryRegistered], uow: IdeasUnitOfWork) -> None:
        """Learn the territory tree and each territory's country."""
        await handlers.remember_territory(event.data, uow)

    @consumers.on(TerritoryManagerNamed)
    async def on_territory_manager_named(
        event: CloudEvent[TerritoryManagerNamed], uow: IdeasUnitOfWork
    ) -> None:
        """Learn who manages plans and ideas of a territory and those under it."""
        data = event.data
        await handlers.remember_role(data.territory_id, data.sub, data.role, True, event.time, uow)

    @consumers.on(TerritoryManagerRemoved)
    async def on_territory_manager_removed(
        event: CloudEvent[TerritoryManagerRemoved], uow: IdeasUnitOfWork
    ) -> None:
        data = event.data
        await handlers.remember_role(data.territory_id, data.sub, data.role, False, event.time, uow)

    @consumers.on(ProjectPublished)
    async def on_project_published(event: CloudEvent[ProjectPublished], uow: IdeasUnitOfWork) -> None:
        """Promote the ideas the project grew from."""
        await handlers.promote(event.data.project_id, event.data.source_idea_ids or [], uow)

    @consumers.on(ProjectUpdated)
    async def on_project_updated(event: CloudEvent[ProjectUpdated], uow: IdeasUnitOfWork) -> None:
        """Promote the ideas a project names since it changed."""
        await handlers.promote(event.data.project_id, event.data.source_idea_ids or [], uow)
