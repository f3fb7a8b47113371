"""Events the notifications service consumes: thin translations to handlers."""

from passerelle.contracts import (
    CloudEvent,
    FundingGoalReached,
    MatchAccepted,
    MatchConfirmed,
    MatchProposed,
    MatchWithdrawn,
    MemberErased,
    MemberProfileUpdated,
    MemberRegistered,
    PledgeMade,
    ProjectPublished,
    ProjectUpdated,
    TerritoryRegistered,
)
from passerelle.messaging.consumers import EventConsumers

from .financing_notices import register_financing_notices
from .gathering_notices import forget_registrant, register_gathering_subscribers
from .handlers import NotificationsHandlers, Unit
from .idea_notices import register_idea_notices
from .opportunity_notices import register_opportunity_notices


def register_subscribers(consumers: EventConsumers, handlers: NotificationsHandlers) -> None:
    register_financing_notices(consumers, handlers)
    register_idea_notices(consumers, handlers)
    register_opportunity_notices(consumers, handlers)

    @consumers.on(MemberRegistered)
    async def on_member_registered(event: CloudEvent[MemberRegistered], uow: Unit) -> None:
        """Learn how to address a new member, and welcome them."""
        await handlers.welcome(event, uow)

    @consumers.on(MemberProfileUpdated)
    async def on_member_profile_updated(event: CloudEvent[MemberProfileUpdated], uow: Unit) -> None:
        """Follow changes to a member's name, e-mail, locale, time zone and territories."""
        await handlers.remember_contact(event, uow)

    @consumers.on(MemberErased)
    async def on_member_erased(event: CloudEvent[MemberErased], uow: Unit) -> None:
        """Delete the member's contact data, preferences and messages; send them nothing more."""
        await handlers.erase(event.data.member_id, uow)
        await forget_registrant(event.data.member_id, uow)

    @consumers.on(TerritoryRegistered)
    async def on_territory_registered(event: CloudEvent[TerritoryRegistered], uow: Unit) -> None:
        """Learn a territory's name and parent, for messages and territory news."""
        await handlers.remember_territory(event.data, uow)

    @consumers.on(ProjectPublished)
    async def on_project_published(event: CloudEvent[ProjectPublished], uow: Unit) -> None:
        """Tell members attached to the territory who asked for its news."""
        await handlers.announce_project(event, uow)

    @consumers.on(ProjectUpdated)
    async def on_project_updated(event: CloudEvent[ProjectUpdated], uow: Unit) -> None:
        """Follow a project's title, owner and needs, for messages."""
        await handlers.remember_project(event, uow)

    @consumers.on(PledgeMade)
    async def on_pledge_made(event: CloudEvent[PledgeMade], uow: Unit) -> None:
        """Tell the project owner, and remember the pledger for the goal's news."""
        await handlers.tell_owner_of_pledge(event, uow)

    @consumers.on(FundingGoalReached)
    async def on_funding_goal_reached(event: CloudEvent[FundingGoalReached], uow: Unit) -> None:
        """Tell the owner and every pledger."""
        await handlers.celebrate_goal(event, uow)

    @consumers.on(MatchProposed)
    async def on_match_proposed(event: CloudEvent[MatchProposed], uow: Unit) -> None:
        """Tell the member which project, where, and why they fit."""
        await handlers.propose(event, uow)

    @consumers.on(MatchAccepted)
    async def on_match_accepted(event: CloudEvent[MatchAccepted], uow: Unit) -> None:
        """Tell the project owner, who may now confirm."""
        await handlers.tell_owner_of_acceptance(event, uow)

    @consumers.on(MatchConfirmed)
    async def on_match_confirmed(event: CloudEvent[MatchConfirmed], uow: Unit) -> None:
        """Tell the member their help is confirmed."""
        await handlers.tell_member_of_transition(event, uow, "match_confirmed")

    @consumers.on(MatchWithdrawn)
    async def on_match_withdrawn(event: CloudEvent[MatchWithdrawn], uow: Unit) -> None:
        """Tell the member, kindly, that a proposal no longer stands, and why."""
        await handlers.tell_member_of_transition(event, uow, "match_withdrawn")

    register_gathering_subscribers(consumers, handlers)
