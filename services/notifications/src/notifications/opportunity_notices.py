"""What the opportunities service's events tell, and to whom: a new open opportunity is news for the
members attached to its territory who asked for opportunity news; an interest reaches the promoter,
an introduction both, a decline the member (kindly, never why), an expiry close its promoter."""

from __future__ import annotations

from typing import TypeVar

from passerelle.contracts import (
    CloudEvent,
    InterestDeclined,
    InterestExpressed,
    IntroductionMade,
    OpportunityExpiring,
    OpportunityPublished,
    OpportunitySnapshot,
    OpportunityUpdated,
)
from passerelle.messaging.consumers import EventConsumers

from .handlers import NotificationsHandlers, Unit, _name
from .notifier import Notice
from .orm import ContactRow
from .texts import phrases, someone

Snapshot = TypeVar("Snapshot", bound=OpportunitySnapshot)
OPPORTUNITY_EVENTS = (
    OpportunityPublished,
    OpportunityUpdated,
    InterestExpressed,
    IntroductionMade,
    InterestDeclined,
    OpportunityExpiring,
)


def register_opportunity_notices(consumers: EventConsumers, handlers: NotificationsHandlers) -> None:
    @consumers.on(OpportunityPublished)
    async def on_opportunity_published(event: CloudEvent[OpportunityPublished], uow: Unit) -> None:
        """Tell members attached to the territory who asked for its opportunities."""
        await announce_opportunity(handlers, event, uow)

    @consumers.on(OpportunityUpdated)
    async def on_opportunity_updated(event: CloudEvent[OpportunityUpdated], uow: Unit) -> None:
        """Follow its title, promoter and support needs, for the matches proposed on them."""
        await remember_opportunity(event, uow)

    @consumers.on(InterestExpressed)
    async def on_interest_expressed(event: CloudEvent[InterestExpressed], uow: Unit) -> None:
        """Tell the promoter who is interested, and as what."""
        await tell_promoter_of_interest(handlers, event, uow)

    @consumers.on(IntroductionMade)
    async def on_introduction_made(event: CloudEvent[IntroductionMade], uow: Unit) -> None:
        """Tell both that they are introduced."""
        await tell_both_of_introduction(handlers, event, uow)

    @consumers.on(InterestDeclined)
    async def on_interest_declined(event: CloudEvent[InterestDeclined], uow: Unit) -> None:
        """Tell the member, kindly."""
        await tell_member_of_decline(handlers, event, uow)

    @consumers.on(OpportunityExpiring)
    async def on_opportunity_expiring(event: CloudEvent[OpportunityExpiring], uow: Unit) -> None:
        """Remind the promoter, who may renew."""
        await remind_promoter(handlers, event, uow)


async def remember_opportunity(event: CloudEvent[Snapshot], uow: Unit) -> None:
    """Matching proposes advisers for its support needs as for a project's needs, under its id: the
    matches' messages find its title, territory and promoter where they find a project's."""
    data = event.data
    values = {
        "project_id": data.opportunity_id,
        "title": data.title,
        "territory_id": data.territory_id,
        "owner_member_id": data.promoter_member_id,
        "needs": {need.need_id: need.skill for need in data.support_needs},
    }
    await uow.repository.upsert_project(values, event.time)


async def announce_opportunity(
    handlers: NotificationsHandlers, event: CloudEvent[OpportunityPublished], uow: Unit
) -> None:
    """News, in chunks as a project's, to those who listed the territory in `opportunity_news`."""
    await remember_opportunity(event, uow)
    data = event.data
    summary = data.summary if len(data.summary) <= 300 else data.summary[:297].rstrip() + "..."
    values = {
        "opportunity": data.title,
        "territory": await uow.repository.territory_name(data.territory_id) or "",
        "summary": summary,
    }
    facts = {"opportunity_id": data.opportunity_id, "territory_id": data.territory_id}
    notice = Notice(event.id, "opportunity_published", lambda _: values, facts)
    await handlers.tell_territory_news(
        uow, data.territory_id, notice, besides=[data.promoter_member_id], preference="opportunity_news"
    )


async def tell_promoter_of_interest(
    handlers: NotificationsHandlers, event: CloudEvent[InterestExpressed], uow: Unit
) -> None:
    data = event.data
    member = await uow.repository.contact(data.member_id)

    def values(language: str) -> dict[str, str]:
        return {
            "member": _name(member) or someone(language),
            "opportunity": data.title,
            "role": phrases(language)["interest_roles"].get(data.role, data.role),
        }

    facts = {"opportunity_id": data.opportunity_id, "interest_id": data.interest_id}
    await _tell(handlers, uow, data.promoter_member_id, Notice(event.id, "interest_expressed", values, facts))


async def tell_both_of_introduction(
    handlers: NotificationsHandlers, event: CloudEvent[IntroductionMade], uow: Unit
) -> None:
    data, repository = event.data, uow.repository
    facts = {"opportunity_id": data.opportunity_id, "interest_id": data.interest_id}
    pair = (data.promoter_member_id, data.member_id)
    await repository.lock_members(pair)
    for reader, other_id in (pair, pair[::-1]):
        other = await repository.contact(other_id)

        def values(language: str, other: ContactRow | None = other) -> dict[str, str]:
            return {"other": _name(other) or someone(language), "opportunity": data.title or ""}

        await _tell(handlers, uow, reader, Notice(event.id, "introduction_made", values, facts))


async def tell_member_of_decline(
    handlers: NotificationsHandlers, event: CloudEvent[InterestDeclined], uow: Unit
) -> None:
    data = event.data
    values = {"opportunity": data.title}
    facts = {"opportunity_id": data.opportunity_id, "interest_id": data.interest_id}
    notice = Notice(event.id, "interest_declined", lambda _: values, facts)
    await _tell(handlers, uow, data.member_id, notice)


async def remind_promoter(
    handlers: NotificationsHandlers, event: CloudEvent[OpportunityExpiring], uow: Unit
) -> None:
    data = event.data
    values = {"opportunity": data.title, "expires_on": data.expires_on.isoformat()}
    facts = {"opportunity_id": data.opportunity_id, "expires_on": data.expires_on.isoformat()}
    notice = Notice(event.id, "opportunity_expiring", lambda _: values, facts)
    await _tell(handlers, uow, data.promoter_member_id, notice)


async def _tell(handlers: NotificationsHandlers, uow: Unit, member_id: str, notice: Notice) -> None:
    contact = await uow.repository.contact(member_id)
    await handlers._tell(uow, member_id, contact, notice)
