"""Events the projects service consumes: thin translations to handlers."""

from passerelle.contracts import CloudEvent, MemberErased, MemberProfileUpdated, MemberRegistered
from passerelle.messaging.consumers import EventConsumers

from .handlers import ProjectsHandlers, ProjectsUnitOfWork


def register_subscribers(consumers: EventConsumers, handlers: ProjectsHandlers) -> None:
    @consumers.on(MemberRegistered)
    async def on_member_registered(event: CloudEvent[MemberRegistered], uow: ProjectsUnitOfWork) -> None:
        """Learn who may act for a new member."""
        await handlers.remember_member(event.data, event.time, uow)

    @consumers.on(MemberProfileUpdated)
    async def on_member_profile_updated(
        event: CloudEvent[MemberProfileUpdated], uow: ProjectsUnitOfWork
    ) -> None:
        """Follow changes to a member's managers."""
        await handlers.remember_member(event.data, event.time, uow)

    @consumers.on(MemberErased)
    async def on_member_erased(event: CloudEvent[MemberErased], uow: ProjectsUnitOfWork) -> None:
        """Forget who acted for an erased member."""
        await handlers.forget_member(event.data.member_id, uow)
