"""What conversations and the deadlines of matches tell: a new message to the thread's other
participants (a burst of one thread gathered in one e-mail), and reminders of an answer awaited.

A pass and an expiry are MatchWithdrawn, told by the handlers' kind notice of a withdrawal, whose
reasons `passed` and `expired` are phrased in the catalogues without the project's private reason."""

from __future__ import annotations

from passerelle.contracts import CloudEvent, MatchReminded, MessagePosted
from passerelle.messaging.consumers import EventConsumers

from .handlers import NotificationsHandlers, Unit, _name
from .notifier import Notice
from .texts import a_conversation, someone


class ConversationNotices:
    def __init__(self, handlers: NotificationsHandlers, burst_seconds: float) -> None:
        self.handlers = handlers
        self.burst_seconds = burst_seconds

    async def tell_of_message(self, event: CloudEvent[MessagePosted], uow: Unit) -> None:
        """ "Fatima wrote about Solar-powered health post", to every other participant, once per
        message; never the body, which the event does not carry."""
        data = event.data
        author = await uow.repository.contact(data.author_member_id)

        def values(language: str) -> dict[str, str]:
            return {
                "author": _name(author) or someone(language),
                "about": data.title or a_conversation(language),
            }

        readers = [m for m in dict.fromkeys(data.participant_member_ids) if m != data.author_member_id]
        facts = {"thread_id": data.thread_id, "message_id": data.message_id}
        notice = Notice(event.id, "message_posted", values, facts, "thread_id", self.burst_seconds)
        await self.handlers._tell_each(uow, readers, notice, wait_for_unknown=True)

    async def remind(self, event: CloudEvent[MatchReminded], uow: Unit) -> None:
        """The member, of a proposal awaiting their answer; the project, of an accepted match to confirm."""
        data, repository, handlers = event.data, uow.repository, self.handlers
        project, _ = await handlers._project(repository, data.project_id)
        skill = project.needs.get(data.need_id, "")
        member = await repository.contact(data.member_id)

        def values(language: str) -> dict[str, str]:
            return {
                "project": project.title,
                "skill": handlers._skill(skill, language),
                "member": _name(member) or someone(language),
                "answer_by": data.answer_by.date().isoformat(),
            }

        facts = {"match_id": data.match_id, "project_id": data.project_id, "need_id": data.need_id}
        if data.reminded == "member":
            notice = Notice(event.id, "match_reminder", values, facts)
            await handlers._tell(uow, data.member_id, member, notice)
        else:
            await handlers._tell_owner(
                uow, project, Notice(event.id, "match_confirm_reminder", values, facts)
            )


def register_conversation_notices(consumers: EventConsumers, notices: ConversationNotices) -> None:
    @consumers.on(MessagePosted)
    async def on_message_posted(event: CloudEvent[MessagePosted], uow: Unit) -> None:
        """Tell the thread's other participants that someone wrote."""
        await notices.tell_of_message(event, uow)

    @consumers.on(MatchReminded)
    async def on_match_reminded(event: CloudEvent[MatchReminded], uow: Unit) -> None:
        """Remind the member, or the project, of the answer awaited."""
        await notices.remind(event, uow)
