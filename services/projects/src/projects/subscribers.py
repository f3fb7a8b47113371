"""Events the projects service consumes: thin translations to handlers."""

from passerelle.contracts import CloudEvent, MemberErased, MemberProfileUpdated, MemberRegistered
from passerelle.messaging.consumers import EventConsumers
from passerelle.messaging.unit_of_work import SessionUnitOfWork

from .handlers import ProjectsHandlers


def register_subscribers(consumers: EventConsumers, handlers: ProjectsHandlers) -> None:
    @consumers.on(MemberRegistered)
    async def on_member_registered(event: CloudEvent[MemberRegistered], uow: SessionUnitOfWork) -> None:
        """Learn who may act for a new member."""
        await handlers.remember_member(event, uow)  # type: ignore[arg-type]

    @consumers.on(MemberProfileUpdated)
    async def on_member_profile_updated(
        event: CloudEvent[MemberProfileUpdated], uow: SessionUnitOfWork
    ) -> None:
        """Follow changes to a member's managers."""
        await handlers.remember_member(event, uow)  # type: ignore[arg-type]

    @consumers.on(MemberErased)
    async def on_member_erased(event: CloudEvent[MemberErased], uow: SessionUnitOfWork) -> None:
        """Forget who acted for an erased member."""
        await handlers.forget_member(event.data.member_id, uow)
