"""What the ideas service's events tell: a manager's answer reaches the idea's author and each of
its supporters, once each, in their language and through their digests; a plan's new phase is news
of its territory."""

from __future__ import annotations

from passerelle.contracts import CloudEvent, IdeaAnswered, PlanPhaseStarted
from passerelle.messaging.consumers import EventConsumers

from .handlers import NotificationsHandlers, Unit
from .notifier import Notice
from .texts import phrases

ANSWER_LENGTH = 300  # of the answer quoted in the message; the whole of it is on the idea's page


async def tell_answer(handlers: NotificationsHandlers, event: CloudEvent[IdeaAnswered], uow: Unit) -> None:
    """Those not known yet are told when their profile comes; one of them keeps nobody waiting."""
    data = event.data
    territory = await uow.repository.territory_name(data.territory_id) or ""
    answer = (
        data.answer
        if len(data.answer) <= ANSWER_LENGTH
        else data.answer[: ANSWER_LENGTH - 3].rstrip() + "..."
    )

    def values(language: str) -> dict[str, str]:
        status = phrases(language)["idea_answered"]["statuses"][data.status]
        return {"idea": data.title, "territory": territory, "status": status, "answer": answer}

    facts = {"idea_id": data.idea_id, "territory_id": data.territory_id, "status": data.status}
    recipients = list(dict.fromkeys([data.author_member_id, *data.supporter_member_ids]))
    notice = Notice(event.id, "idea_answered", values, facts)
    await handlers._tell_each(uow, recipients, notice, wait_for_unknown=True)


async def tell_phase(handlers: NotificationsHandlers, event: CloudEvent[PlanPhaseStarted], uow: Unit) -> None:
    data = event.data
    territory = await uow.repository.territory_name(data.territory_id) or ""

    def values(language: str) -> dict[str, str]:
        phase = phrases(language)["plan_phase_started"]["phases"][data.phase]
        return {
            "plan": data.title,
            "territory": territory,
            "phase": phase,
            "starts_on": data.starts_on.isoformat(),
            "ends_on": data.ends_on.isoformat(),
        }

    facts = {"plan_id": data.plan_id, "territory_id": data.territory_id, "phase": data.phase}
    await handlers.tell_territory_news(
        uow, data.territory_id, Notice(event.id, "plan_phase_started", values, facts)
    )


def register_idea_notices(consumers: EventConsumers, handlers: NotificationsHandlers) -> None:
    @consumers.on(IdeaAnswered)
    async def on_idea_answered(event: CloudEvent[IdeaAnswered], uow: Unit) -> None:
        """Tell the idea's author and supporters what the managers answered."""
        await tell_answer(handlers, event, uow)

    @consumers.on(PlanPhaseStarted)
    async def on_plan_phase_started(event: CloudEvent[PlanPhaseStarted], uow: Unit) -> None:
        """Tell the territory's news readers that its plan entered a phase."""
        await tell_phase(handlers, event, uow)
