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
from passerelle.messaging.unit_of_work import SqlUnitOfWork

from .handlers import MatchingHandlers
from .repository import MatchingRepository

Unit = SqlUnitOfWork[MatchingRepository]


def register_subscribers(consumers: EventConsumers, handlers: MatchingHandlers) -> None:
    @consumers.on(MemberRegistered)
    async def on_member_registered(event: CloudEvent[MemberRegistered], uow: Unit) -> None:
        """Learn a member's languages, bonds, sectors and time zone; match their waiting offers."""
        await handlers.remember_member(event.data, event.time, uow)

    @consumers.on(MemberProfileUpdated)
    async def on_member_profile_updated(event: CloudEvent[MemberProfileUpdated], uow: Unit) -> None:
        """Follow a member's profile: their offers' matches are ranked again."""
        await handlers.remember_member(event.data, event.time, uow)

    @consumers.on(MemberErased)
    async def on_member_erased(event: CloudEvent[MemberErased], uow: Unit) -> None:
        """Forget the member and withdraw their matches."""
        await handlers.erase_member(event.data.member_id, uow)

    @consumers.on(SkillOffered)
    async def on_skill_offered(event: CloudEvent[SkillOffered], uow: Unit) -> None:
        """Match a new offer against the open needs."""
        await handlers.offer_skill(event.data, event.time, uow)

    @consumers.on(SkillOfferUpdated)
    async def on_skill_offer_updated(event: CloudEvent[SkillOfferUpdated], uow: Unit) -> None:
        """Follow a changed offer: new proposals, and withdrawal of matches it no longer fits."""
        await handlers.offer_skill(event.data, event.time, uow)

    @consumers.on(SkillOfferWithdrawn)
    async def on_skill_offer_withdrawn(event: CloudEvent[SkillOfferWithdrawn], uow: Unit) -> None:
        """Withdraw the offer and its matches."""
        await handlers.withdraw_offer(event.data.offer_id, event.data.member_id, uow)

    @consumers.on(TerritoryRegistered)
    async def on_territory_registered(event: CloudEvent[TerritoryRegistered], uow: Unit) -> None:
        """Learn where a territory sits, for bonds to the territories above a project's."""
        data = event.data
        await handlers.remember_territory(data.territory_id, data.parent_id, data.country, uow)

    @consumers.on(TerritoryManagerNamed)
    async def on_territory_manager_named(event: CloudEvent[TerritoryManagerNamed], uow: Unit) -> None:
        """Learn who may confirm matches for the territory's projects."""
        await handlers.name_territory_manager(event.data.territory_id, event.data.sub, event.data.role, uow)

    @consumers.on(TerritoryManagerRemoved)
    async def on_territory_manager_removed(event: CloudEvent[TerritoryManagerRemoved], uow: Unit) -> None:
        """Forget a territory manager."""
        await handlers.remove_territory_manager(event.data.territory_id, event.data.sub, event.data.role, uow)

    @consumers.on(ProjectPublished)
    async def on_project_published(event: CloudEvent[ProjectPublished], uow: Unit) -> None:
        """Match a new project's needs against the offers."""
        await handlers.remember_project(event.data, event.time, uow)

    @consumers.on(ProjectUpdated)
    async def on_project_updated(event: CloudEvent[ProjectUpdated], uow: Unit) -> None:
        """Follow a project's needs: new ones are matched, removed ones withdrawn."""
        await handlers.remember_project(event.data, event.time, uow)

    @consumers.on(ProjectClosed)
    async def on_project_closed(event: CloudEvent[ProjectClosed], uow: Unit) -> None:
        """Close the project's needs and withdraw their matches."""
        await handlers.close_project(event.data.project_id, uow)
