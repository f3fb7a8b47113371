"""Events the matching service consumes: thin translations to handlers."""

from passerelle.contracts import (
    CloudEvent,
    MemberErased,
    MemberProfileUpdated,
    MemberRegistered,
    ProjectClosed,
    ProjectPublished,
    ProjectUpdated,
    SkillOffered,
    SkillOfferUpdated,
    SkillOfferWithdrawn,
    TerritoryManagerNamed,
    TerritoryManagerRemoved,
    TerritoryRegistered,
)
from passerelle.messaging.consumers import EventConsumers
from passerelle.messaging.unit_of_work import SessionUnitOfWork

from .handlers import MatchingHandlers


def register_subscribers(consumers: EventConsumers, handlers: MatchingHandlers) -> None:
    @consumers.on(MemberRegistered)
    async def on_member_registered(event: CloudEvent[MemberRegistered], uow: SessionUnitOfWork) -> None:
        """Learn a member's languages, bonds, sectors and time zone; match their waiting offers."""
        await handlers.remember_member(event, uow)  # type: ignore[arg-type]

    @consumers.on(MemberProfileUpdated)
    async def on_member_profile_updated(
        event: CloudEvent[MemberProfileUpdated], uow: SessionUnitOfWork
    ) -> None:
        """Follow a member's profile: their offers' matches are ranked again."""
        await handlers.remember_member(event, uow)  # type: ignore[arg-type]

    @consumers.on(MemberErased)
    async def on_member_erased(event: CloudEvent[MemberErased], uow: SessionUnitOfWork) -> None:
        """Forget the member and withdraw their matches."""
        await handlers.erase_member(event.data.member_id, uow)

    @consumers.on(SkillOffered)
    async def on_skill_offered(event: CloudEvent[SkillOffered], uow: SessionUnitOfWork) -> None:
        """Match a new offer against the open needs."""
        await handlers.offer_skill(event, uow)

    @consumers.on(SkillOfferUpdated)
    async def on_skill_offer_updated(event: CloudEvent[SkillOfferUpdated], uow: SessionUnitOfWork) -> None:
        """Follow a changed offer: new proposals, and withdrawal of matches it no longer fits."""
        await handlers.offer_skill(event, uow)  # type: ignore[arg-type]

    @consumers.on(SkillOfferWithdrawn)
    async def on_skill_offer_withdrawn(
        event: CloudEvent[SkillOfferWithdrawn], uow: SessionUnitOfWork
    ) -> None:
        """Withdraw the offer and its matches."""
        await handlers.withdraw_offer(event.data.offer_id, event.data.member_id, uow)

    @consumers.on(TerritoryRegistered)
    async def on_territory_registered(event: CloudEvent[TerritoryRegistered], uow: SessionUnitOfWork) -> None:
        """Learn where a territory sits, for bonds to the territories above a project's."""
        data = event.data
        await handlers.remember_territory(data.territory_id, data.parent_id, data.country, uow)

    @consumers.on(TerritoryManagerNamed)
    async def on_territory_manager_named(
        event: CloudEvent[TerritoryManagerNamed], uow: SessionUnitOfWork
    ) -> None:
        """Learn who may confirm matches for the territory's projects."""
        await handlers.name_territory_manager(event.data.territory_id, event.data.sub, event.data.role, uow)

    @consumers.on(TerritoryManagerRemoved)
    async def on_territory_manager_removed(
        event: CloudEvent[TerritoryManagerRemoved], uow: SessionUnitOfWork
    ) -> None:
        """Forget a territory manager."""
        await handlers.remove_territory_manager(event.data.territory_id, event.data.sub, event.data.role, uow)

    @consumers.on(ProjectPublished)
    async def on_project_published(event: CloudEvent[ProjectPublished], uow: SessionUnitOfWork) -> None:
        """Match a new project's needs against the offers."""
        await handlers.remember_project(event, uow)  # type: ignore[arg-type]

    @consumers.on(ProjectUpdated)
    async def on_project_updated(event: CloudEvent[ProjectUpdated], uow: SessionUnitOfWork) -> None:
        """Follow a project's needs: new ones are matched, removed ones withdrawn."""
        await handlers.remember_project(event, uow)  # type: ignore[arg-type]

    @consumers.on(ProjectClosed)
    async def on_project_closed(event: CloudEvent[ProjectClosed], uow: SessionUnitOfWork) -> None:
        """Close the project's needs and withdraw their matches."""
        await handlers.close_project(event.data.project_id, uow)
