"""What participatory financing tells (contract 4.8): a pledger, that their pledge was released,
is still to be paid, lapsed or arrived; the project's team and its pledgers, how a campaign ended,
that it was extended, and the team's updates. Each once (by its cause event), in the reader's
language, with amounts written the way the reader writes them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from passerelle.contracts import (
    CampaignExtended,
    CampaignFailed,
    CampaignSucceeded,
    CloudEvent,
    PledgeCollected,
    PledgeCollectionReminded,
    PledgeLapsed,
    PledgeReleased,
    ProjectUpdatePosted,
)
from passerelle.messaging.consumers import EventConsumers

from .handlers import NotificationsHandlers, Unit
from .notifier import Notice

FINANCING_EVENTS = (
    PledgeReleased,
    PledgeCollectionReminded,
    PledgeLapsed,
    PledgeCollected,
    CampaignSucceeded,
    CampaignFailed,
    CampaignExtended,
    ProjectUpdatePosted,
)
# How each language groups thousands, marks decimals and places the currency.
_NUMBERS = {"fr": ("\u202f", ",", "{amount} {currency}"), "ar": (".", ",", "{amount} {currency}")}
_ENGLISH = (",", ".", "{currency} {amount}")


def money(amount: str, currency: str, language: str) -> str:
    """`1250.5`, EUR: `1 250,50 EUR` in French, `EUR 1,250.50` in English."""
    grouping, decimals, layout = _NUMBERS.get(language, _ENGLISH)
    whole, cents = f"{Decimal(amount):,.2f}".split(".")
    return layout.format(amount=f"{whole.replace(',', grouping)}{decimals}{cents}", currency=currency)


Amounts = dict[str, tuple[str, str]]  # name -> (decimal string, currency), written per language


async def tell(
    handlers: NotificationsHandlers,
    uow: Unit,
    event_id: str,
    kind: str,
    project_id: str,
    members: list[str],
    amounts: Amounts,
    **plain: str,
) -> None:
    """Tell each member once (a member not known yet is told when their profile comes)."""
    project, _ = await handlers._project(uow.repository, project_id)

    def values(language: str) -> dict[str, str]:
        written = {name: money(amount, currency, language) for name, (amount, currency) in amounts.items()}
        return {"project": project.title, **plain, **written}

    facts = {"project_id": project_id, **plain, **{name: amount for name, (amount, _) in amounts.items()}}
    notice = Notice(event_id, kind, values, facts)
    await handlers._tell_each(uow, list(dict.fromkeys(members)), notice, wait_for_unknown=True)


async def tell_pledger(
    handlers: NotificationsHandlers, uow: Unit, event: CloudEvent[Any], kind: str, **plain: str
) -> None:
    data = event.data
    if data.member_id is not None:  # null: the pledger was erased
        amounts = {"amount": (data.amount, data.currency)}
        if isinstance(data, PledgeCollected):
            amounts["collected"] = (data.collected_amount, data.currency)
        await tell(handlers, uow, event.id, kind, data.project_id, [data.member_id], amounts, **plain)


def register_financing_notices(consumers: EventConsumers, handlers: NotificationsHandlers) -> None:
    @consumers.on(PledgeReleased)
    async def on_pledge_released(event: CloudEvent[PledgeReleased], uow: Unit) -> None:
        """Tell the pledger they owe nothing: the campaign failed or was cancelled."""
        await tell_pledger(handlers, uow, event, "pledge_released")

    @consumers.on(PledgeCollectionReminded)
    async def on_pledge_reminded(event: CloudEvent[PledgeCollectionReminded], uow: Unit) -> None:
        """Remind the pledger of the transfer to make, with its reference."""
        data = event.data
        due = data.due_at.date().isoformat()
        await tell_pledger(handlers, uow, event, "pledge_reminder", reference=data.reference or "", due=due)

    @consumers.on(PledgeLapsed)
    async def on_pledge_lapsed(event: CloudEvent[PledgeLapsed], uow: Unit) -> None:
        """Tell the pledger the collection window ended without their transfer."""
        await tell_pledger(handlers, uow, event, "pledge_lapsed")

    @consumers.on(PledgeCollected)
    async def on_pledge_collected(event: CloudEvent[PledgeCollected], uow: Unit) -> None:
        """Tell the pledger their money arrived (an offline gift was recorded by the team itself)."""
        if not event.data.offline:
            await tell_pledger(handlers, uow, event, "pledge_collected")

    @consumers.on(CampaignSucceeded)
    async def on_campaign_succeeded(event: CloudEvent[CampaignSucceeded], uow: Unit) -> None:
        """Tell the team and every pledger: the collection starts."""
        data = event.data
        project, _ = await handlers._project(uow.repository, data.project_id)
        members = [project.owner_member_id, *data.pledger_member_ids]
        amounts = {"total": (data.pledged_total, data.currency)}
        due = data.collection_ends_at.date().isoformat()
        await tell(handlers, uow, event.id, "campaign_succeeded", data.project_id, members, amounts, due=due)

    @consumers.on(CampaignFailed)
    async def on_campaign_failed(event: CloudEvent[CampaignFailed], uow: Unit) -> None:
        """Tell the team (each pledger hears of their released pledge)."""
        data = event.data
        project, _ = await handlers._project(uow.repository, data.project_id)
        amounts = {"total": (data.pledged_total, data.currency), "threshold": (data.threshold, data.currency)}
        owner = [project.owner_member_id]
        await tell(handlers, uow, event.id, "campaign_failed", data.project_id, owner, amounts)

    @consumers.on(CampaignExtended)
    async def on_campaign_extended(event: CloudEvent[CampaignExtended], uow: Unit) -> None:
        """Tell the pledgers the campaign now closes later."""
        data = event.data
        until, pledgers = data.closes_at.date().isoformat(), list(data.pledger_member_ids)
        await tell(handlers, uow, event.id, "campaign_extended", data.project_id, pledgers, {}, until=until)

    @consumers.on(ProjectUpdatePosted)
    async def on_update_posted(event: CloudEvent[ProjectUpdatePosted], uow: Unit) -> None:
        """Tell those who gave what the team has to say."""
        data = event.data
        pledgers = list(data.pledger_member_ids)
        await tell(handlers, uow, event.id, "project_update", data.project_id, pledgers, {}, title=data.title)
