"""Events the gatherings service consumes: thin translations to handlers."""

from passerelle.contracts import (
    CloudEvent,
    MemberErased,
    MemberProfileUpdated,
    MemberRegistered,
    TerritoryManagerNamed,
    TerritoryManagerRemoved,
    TerritoryRegistered,
)
from passerelle.messaging.consumers import EventConsumers

from .handlers import GatheringsHandlers, GatheringsUnitOfWork

CONSUMES = (
    MemberRegistered,
    MemberProfileUpdated,
    MemberErased,
    TerritoryRegistered,
    TerritoryManagerNamed,
    TerritoryManagerRemoved,
)


def register_subscribers(consumers: EventConsumers, handlers: GatheringsHandlers) -> None:
    @consumers.on(MemberRegistered)
    async def on_member_registered(event: CloudEvent[MemberRegistered], uow: GatheringsUnitOfWork) -> None:
        """Learn a member's kind, name and who acts for them."""
        await handlers.remember_member(event.data, event.time, uow)

    @consumers.on(MemberProfileUpdated)
    async def on_member_profile_updated(
        event: CloudEvent[MemberProfileUpdated], uow: GatheringsUnitOfWork
    ) -> None:
        """Follow changes to a member's name and managers."""
        await handlers.remember_member(event.data, event.time, uow)

    @consumers.on(MemberErased)
    async def on_member_erased(event: CloudEvent[MemberErased], uow: GatheringsUnitOfWork) -> None:
        """Delete the member's registrations; their places go to those waiting."""
        await handlers.forget_member(event.data.member_id, uow)

    @consumers.on(TerritoryRegistered)
    async def on_territory_registered(
        event: CloudEvent[TerritoryRegistered], uow: GatheringsUnitOfWork
    ) -> None:
        """Learn the territory tree: a manager of a territory acts on the gatherings under it."""
        await handlers.remember_territory(event.data.territory_id, event.data.parent_id, uow)

    @consumers.on(TerritoryManagerNamed)
    async def on_manager_named(event: CloudEvent[TerritoryManagerNamed], uow: GatheringsUnitOfWork) -> None:
        data = event.data
        await handlers.manager_named(data.territory_id, data.sub, data.role, uow)

    @consumers.on(TerritoryManagerRemoved)
    async def on_manager_removed(
        event: CloudEvent[TerritoryManagerRemoved], uow: GatheringsUnitOfWork
    ) -> None:
        data = event.data
        await handlers.manager_removed(data.territory_id, data.sub, data.role, uow)
