"""Events the conversations service consumes: thin translations to handlers."""

from passerelle.contracts import (
    CloudEvent,
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
from passerelle.messaging.consumers import EventConsumers
from passerelle.messaging.unit_of_work import SqlUnitOfWork

from .handlers import ConversationsHandlers
from .repository import SqlConversationsRepository

Unit = SqlUnitOfWork[SqlConversationsRepository]


def register_subscribers(consumers: EventConsumers, handlers: ConversationsHandlers) -> None:
    @consumers.on(MemberRegistered)
    async def on_member_registered(event: CloudEvent[MemberRegistered], uow: Unit) -> None:
        """Learn a member's name and who manages them (an association's managers act for it)."""
        data = event.data
        await handlers.remember_member(data.member_id, data.display_name, data.managers, event.time, uow)

    @consumers.on(MemberProfileUpdated)
    async def on_member_profile_updated(event: CloudEvent[MemberProfileUpdated], uow: Unit) -> None:
        """Follow a member's name and managers."""
        data = event.data
        await handlers.remember_member(data.member_id, data.display_name, data.managers, event.time, uow)

    @consumers.on(MemberErased)
    async def on_member_erased(event: CloudEvent[MemberErased], uow: Unit) -> None:
        """Remove the member's name and message bodies; the threads stay for the other side."""
        await handlers.forget_member(event.data.member_id, uow)

    @consumers.on(ProjectPublished)
    async def on_project_published(event: CloudEvent[ProjectPublished], uow: Unit) -> None:
        """Learn a project's owner and title; open the threads that waited for it."""
        data = event.data
        await handlers.remember_project(data.project_id, data.owner_member_id, data.title, event.time, uow)

    @consumers.on(ProjectUpdated)
    async def on_project_updated(event: CloudEvent[ProjectUpdated], uow: Unit) -> None:
        """Follow a project's owner and title."""
        data = event.data
        await handlers.remember_project(data.project_id, data.owner_member_id, data.title, event.time, uow)

    @consumers.on(OpportunityPublished)
    async def on_opportunity_published(event: CloudEvent[OpportunityPublished], uow: Unit) -> None:
        """Learn an opportunity's promoter and title: matching proposes helpers for its support needs."""
        data = event.data
        await handlers.remember_opportunity(
            data.opportunity_id, data.promoter_member_id, data.title, event.time, uow
        )

    @consumers.on(OpportunityUpdated)
    async def on_opportunity_updated(event: CloudEvent[OpportunityUpdated], uow: Unit) -> None:
        """Follow an opportunity's promoter (`erased` once erased) and title."""
        data = event.data
        await handlers.remember_opportunity(
            data.opportunity_id, data.promoter_member_id, data.title, event.time, uow
        )

    @consumers.on(MatchConfirmed)
    async def on_match_confirmed(event: CloudEvent[MatchConfirmed], uow: Unit) -> None:
        """Open the thread between the member and the owner of the project (or opportunity)."""
        data = event.data
        await handlers.open_for_match(data.match_id, data.project_id, data.member_id, uow)

    @consumers.on(IntroductionMade)
    async def on_introduction_made(event: CloudEvent[IntroductionMade], uow: Unit) -> None:
        """Open the thread between the member and the opportunity's promoter."""
        data = event.data
        await handlers.open_for_introduction(
            data.interest_id, data.promoter_member_id, data.member_id, data.role, uow
        )
