"""Events the gatherings service consumes: thin translations to handlers."""

from passerelle.contracts import CloudEvent, MemberErased
from passerelle.messaging.consumers import EventConsumers
from passerelle.messaging.unit_of_work import SqlUnitOfWork

from .handlers import GatheringsHandlers
from .repository import SqlGatheringsRepository


def register_subscribers(consumers: EventConsumers, handlers: GatheringsHandlers) -> None:
    @consumers.on(MemberErased)
    async def on_member_erased(
        event: CloudEvent[MemberErased], uow: SqlUnitOfWork[SqlGatheringsRepository]
    ) -> None:
        """Erase what the service holds on an erased member."""
        await handlers.forget_member(event.data.member_id, uow)
