"""Events the opportunities service consumes: thin translations to handlers."""

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

from .handlers import OpportunitiesHandlers, OpportunitiesUnitOfWork

CONSUMED = (
    MemberRegistered,
    MemberProfileUpdated,
    MemberErased,
    TerritoryRegistered,
    TerritoryManagerNamed,
    TerritoryManagerRemoved,
)


def register_subscribers(consumers: EventConsumers, handlers: OpportunitiesHandlers) -> None:
    @consumers.on(MemberRegistered)
    async def on_member_registered(event: CloudEvent[MemberRegistered], uow: OpportunitiesUnitOfWork) -> None:
        """Learn who may act for a new member, and their card."""
        await handlers.remember_member(event.data, event.time, uow)

    @consumers.on(MemberProfileUpdated)
    async def on_member_profile_updated(
        event: CloudEvent[MemberProfileUpdated], uow: OpportunitiesUnitOfWork
    ) -> None:
        """Follow a member's managers and card."""
        await handlers.remember_member(event.data, event.time, uow)

    @consumers.on(MemberErased)
    async def on_member_erased(event: CloudEvent[MemberErased], uow: OpportunitiesUnitOfWork) -> None:
        """Erase the member's interests; close what they promoted."""
        await handlers.forget_member(event.data.member_id, uow)

    @consumers.on(TerritoryRegistered)
    async def on_territory_registered(
        event: CloudEvent[TerritoryRegistered], uow: OpportunitiesUnitOfWork
    ) -> None:
        """Learn where a territory sits: lists include the territories under the one asked for."""
        data = event.data
        await handlers.remember_territory(data.territory_id, data.name, data.country, data.parent_id, uow)

    @consumers.on(TerritoryManagerNamed)
    async def on_territory_manager_named(
        event: CloudEvent[TerritoryManagerNamed], uow: OpportunitiesUnitOfWork
    ) -> None:
        """Learn who reviews the territory's opportunities."""
        await handlers.name_manager(event.data.territory_id, event.data.sub, event.data.role, uow)

    @consumers.on(TerritoryManagerRemoved)
    async def on_territory_manager_removed(
        event: CloudEvent[TerritoryManagerRemoved], uow: OpportunitiesUnitOfWork
    ) -> None:
        """Forget a territory's manager."""
        await handlers.remove_manager(event.data.territory_id, event.data.sub, event.data.role, uow)
