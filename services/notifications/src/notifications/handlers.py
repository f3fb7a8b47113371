"""Use cases of the notifications service: what each event tells to whom, and the members' own calls."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import structlog
from passerelle.contracts import (
    ERASED_OWNER,
    CloudEvent,
    FundingGoalReached,
    MatchAccepted,
    MatchConfirmed,
    MatchProposed,
    MatchWithdrawn,
    MemberProfile,
    MemberRegistered,
    NotificationDelivered,
    NotificationFailed,
    PledgeMade,
    ProjectSnapshot,
    TerritoryRegistered,
)
from passerelle.errors import Forbidden, NotFound, NotYetKnown
from passerelle.identity import Identity
from passerelle.messaging.unit_of_work import SessionUnitOfWork, Units
from passerelle.persistence.database import FOREVER
from passerelle.reasons import explain
from passerelle.taxonomy import Taxonomy
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError

from .digests import next_digest_at
from .orm import ContactRow, MessageRow, NotificationRow, ProjectRow, WaitingRow
from .preferences import Preferences
from .repository import NotificationsRepository
from .texts import FALLBACK, language_of, languages, plain_error, render, someone, withdrawn_because

log = structlog.get_logger(__name__)

WAITING = Counter(
    "passerelle_notifications_waiting_for_profile_total",
    "Things to tell kept until the member's profile comes",
    ["outcome"],  # waiting | told | erased | expired
)
UNTOLD = Counter(
    "passerelle_notifications_untold_total",
    "Recipients of a multi-recipient event that could not be told (NotificationFailed)",
    ["kind"],
)
TITLE_LENGTH = 300  # the notifications.title column

MatchTransition = MatchAccepted | MatchConfirmed | MatchWithdrawn
Values = Callable[[str], dict[str, str]]  # the message's values, in a language


class NotificationsHandlers:
    def __init__(
        self,
        units: Units,
        taxonomy: Taxonomy,
        on_queued: Callable[[], None],
        forget_emails: Callable[[list[str]], None],
    ) -> None:
        self.units = units
        self.taxonomy = taxonomy
        self.on_queued = on_queued  # wakes the dispatcher
        self.forget_emails = forget_emails  # deletes the copies of sent e-mails

    # Read models

    async def remember_contact(self, event: CloudEvent[MemberProfile], uow: SessionUnitOfWork) -> None:
        """Keep how to address the member, then tell them what waited for their profile."""
        data = event.data
        if not _is_member(data.member_id):
            log.warning("notifications.not_a_member", member_id=data.member_id, event_id=event.id)
            return
        repository = NotificationsRepository(uow.session)
        await repository.lock_member(data.member_id)
        named = list(dict.fromkeys(data.managers))
        erased = await repository.erased_among(named)  # an erased person manages nothing any more
        values = {
            "display_name": data.display_name,
            "email": str(data.email),
            "locale": data.locale,
            "time_zone": data.time_zone,
            "attachments": sorted({attachment.territory_id for attachment in data.attachments}),
            "managers": [sub for sub in named if sub not in erased],
        }
        await repository.upsert_contact(data.member_id, values, event.time)
        await self._tell_what_waited(uow, data.member_id)

    async def welcome(self, event: CloudEvent[MemberRegistered], uow: SessionUnitOfWork) -> None:
        await self.remember_contact(event, uow)  # type: ignore[arg-type]
        await self._tell(uow, event.id, "welcome", event.data.member_id, lambda _: {}, {})

    async def erase(self, member_id: str, uow: SessionUnitOfWork) -> None:
        repository = NotificationsRepository(uow.session)
        await repository.lock_member(member_id)
        dropped = await repository.take_waiting(member_id)
        if dropped:  # never to be told: they left before their profile came
            WAITING.labels("erased").inc(len(dropped))
            log.info("notifications.waiting_dropped", member_id=member_id, count=len(dropped))
        emails = await repository.erase(member_id, FOREVER)
        uow.on_commit(lambda: self.forget_emails(emails))

    async def remember_territory(self, data: TerritoryRegistered, uow: SessionUnitOfWork) -> None:
        await NotificationsRepository(uow.session).upsert_territory(
            data.territory_id, data.name, data.parent_id
        )

    async def remember_project(self, event: CloudEvent[ProjectSnapshot], uow: SessionUnitOfWork) -> None:
        data = event.data
        values = {
            "project_id": data.project_id,
            "title": data.title,
            "territory_id": data.territory_id,
            "owner_member_id": data.owner_member_id,
            "needs": {need.need_id: need.skill for need in data.needs},
        }
        await NotificationsRepository(uow.session).upsert_project(values, event.time)

    # What each event tells, and to whom

    async def announce_project(self, event: CloudEvent[ProjectSnapshot], uow: SessionUnitOfWork) -> None:
        """News of a published project, to members attached to its territory who asked for it."""
        await self.remember_project(event, uow)
        repository = NotificationsRepository(uow.session)
        data = event.data
        chain = await repository.territory_and_ancestors(data.territory_id)
        territory = await repository.territory_name(data.territory_id) or ""
        summary = data.summary if len(data.summary) <= 300 else data.summary[:297].rstrip() + "..."
        values = {"project": data.title, "territory": territory, "summary": summary}
        facts = {"project_id": data.project_id, "territory_id": data.territory_id}
        readers = [
            member_id
            for member_id in await repository.news_readers(chain)
            if member_id != data.owner_member_id
        ]
        await self._tell_each(uow, event.id, "project_published", readers, lambda _: values, facts)

    async def propose(self, event: CloudEvent[MatchProposed], uow: SessionUnitOfWork) -> None:
        data = event.data
        if await self._gone(uow, data.member_id):
            return
        project, territory = await self._project(uow, data.project_id)
        skill = project.needs.get(data.need_id, "")

        def values(language: str) -> dict[str, str]:
            return {
                "project": project.title,
                "territory": territory,
                "skill": self._skill(skill, language),
                "reasons": explain(data.reasons, language),
            }

        await self._tell(uow, event.id, "match_proposed", data.member_id, values, _match_facts(data))

    async def tell_owner_of_acceptance(
        self, event: CloudEvent[MatchTransition], uow: SessionUnitOfWork
    ) -> None:
        data = event.data
        project, _ = await self._project(uow, data.project_id)
        member = await NotificationsRepository(uow.session).contact(data.member_id)

        def values(language: str) -> dict[str, str]:
            return {
                "member": _name(member) or someone(language),
                "project": project.title,
                "skill": self._skill(project.needs.get(data.need_id, ""), language),
            }

        await self._tell(uow, event.id, "match_accepted", project.owner_member_id, values, _match_facts(data))

    async def tell_member_of_transition(
        self, event: CloudEvent[MatchTransition], uow: SessionUnitOfWork, kind: str
    ) -> None:
        """A confirmed match, or one withdrawn (kindly, saying why)."""
        data = event.data
        if data.reason == "member_erased" or await self._gone(uow, data.member_id):
            return
        project, territory = await self._project(uow, data.project_id)

        def values(language: str) -> dict[str, str]:
            return {
                "project": project.title,
                "territory": territory,
                "skill": self._skill(project.needs.get(data.need_id, ""), language),
                "why": withdrawn_because(data.reason, language),
            }

        await self._tell(uow, event.id, kind, data.member_id, values, _match_facts(data))

    async def tell_owner_of_pledge(self, event: CloudEvent[PledgeMade], uow: SessionUnitOfWork) -> None:
        data = event.data
        repository = NotificationsRepository(uow.session)
        await repository.add_pledge(data.pledge_id, data.project_id, data.member_id, Decimal(data.amount))
        project, _ = await self._project(uow, data.project_id)
        pledger = await repository.contact(data.member_id)

        def values(language: str) -> dict[str, str]:
            return {
                "member": _name(pledger) or someone(language),
                "project": project.title,
                "amount": data.amount,
                "currency": data.currency,
            }

        facts = {"project_id": data.project_id, "pledge_id": data.pledge_id, "amount": data.amount}
        await self._tell(uow, event.id, "pledge_made", project.owner_member_id, values, facts)

    async def celebrate_goal(self, event: CloudEvent[FundingGoalReached], uow: SessionUnitOfWork) -> None:
        """The owner and every pledger hear that the goal is reached: those known at once, the others
        when their profile comes (one unknown pledger does not keep the rest waiting)."""
        data = event.data
        project, _ = await self._project(uow, data.project_id)
        known, pledgers = await NotificationsRepository(uow.session).pledged(data.project_id)
        if known < Decimal(data.total):  # the pledges reaching the goal are still on their way
            raise NotYetKnown(f"heard of {known} of the {data.total} pledged to {data.project_id}")
        values = {"project": project.title, "total": data.total, "currency": data.currency}
        facts = {"project_id": data.project_id, "total": data.total, "currency": data.currency}
        recipients = list(dict.fromkeys([project.owner_member_id, *pledgers]))
        await self._tell_each(
            uow, event.id, "funding_goal_reached", recipients, lambda _: values, facts, wait_for_unknown=True
        )

    async def _tell_each(
        self,
        uow: SessionUnitOfWork,
        cause_id: str,
        kind: str,
        member_ids: list[str],
        values: Values,
        facts: dict[str, Any],
        *,
        wait_for_unknown: bool = False,
    ) -> None:
        """Tell several members, each on their own: one who cannot be told (a bad value, a row the
        database refuses) is logged, counted and reported as NotificationFailed, and the others are
        told all the same. With `wait_for_unknown`, a member not known yet is told when their
        profile comes, instead of holding the event for everyone."""
        repository = NotificationsRepository(uow.session)
        member_ids = [member_id for member_id in member_ids if _is_member(member_id)]
        await repository.lock_members(member_ids)  # all at once, before anything can wait on another lock
        for member_id in member_ids:

            async def tell(member_id: str = member_id) -> None:
                if not wait_for_unknown or await self._known_or_waiting(
                    repository, cause_id, kind, member_id, values, facts
                ):
                    await self._tell(uow, cause_id, kind, member_id, values, facts)

            await self._alone(uow, cause_id, kind, member_id, tell)

    async def _alone(
        self,
        uow: SessionUnitOfWork,
        cause_id: str,
        kind: str,
        member_id: str,
        tell: Callable[[], Awaitable[None]],
    ) -> None:
        """Run `tell` for one recipient in a savepoint: if it fails, only what it did is undone, and
        the failure is logged, counted and reported as NotificationFailed."""
        recorded = len(uow.recorded)
        try:
            async with uow.session.begin_nested():
                await tell()
        except (DataError, IntegrityError, ValueError, ValidationError) as error:
            # What this recipient's own data can cause is theirs alone; anything else (a deadlock, a
            # timeout, the database away, a profile not known yet) escapes, and the event is retried.
            del uow.recorded[recorded:]  # what was recorded for them was rolled back with them
            UNTOLD.labels(kind).inc()
            log.exception("notifications.untold", member_id=member_id, kind=kind, cause_event_id=cause_id)
            uow.record(
                NotificationFailed(
                    notification_id=str(uuid.uuid4()),
                    member_id=member_id,
                    channel="inbox",
                    kind=kind,
                    cause_event_id=cause_id,
                    error=plain_error(f"{type(error).__name__}: {error}"),
                )
            )

    async def _known_or_waiting(
        self,
        repository: NotificationsRepository,
        cause_id: str,
        kind: str,
        member_id: str,
        values: Values,
        facts: dict[str, Any],
    ) -> bool:
        """True when the member is known (tell them now); otherwise what to tell them waits for their
        profile (in every language, theirs being unknown) and False."""
        # Their lock is held (`_tell_each`): their profile, arriving meanwhile, sees what waits.
        if await repository.contact(member_id) is not None:
            return True
        waiting = {
            "cause_event_id": cause_id,
            "member_id": member_id,
            "kind": kind,
            "values": {language: values(language) for language in sorted(languages())},
            "facts": facts,
        }
        if await repository.wait_for_profile(waiting):
            WAITING.labels("waiting").inc()
            log.info(
                "notifications.waiting_for_profile", member_id=member_id, kind=kind, cause_event_id=cause_id
            )
        return False

    async def _tell_what_waited(self, uow: SessionUnitOfWork, member_id: str) -> None:
        """The member's profile came: tell them what waited for it (their lock is held)."""
        repository = NotificationsRepository(uow.session)
        contact = await repository.contact(member_id)
        if contact is None or contact.erased:
            return
        for waiting in await repository.take_waiting(member_id):

            async def tell(waiting: WaitingRow = waiting) -> None:
                def values(language: str) -> dict[str, str]:
                    return waiting.values.get(language) or waiting.values[FALLBACK]

                await self._tell(uow, waiting.cause_event_id, waiting.kind, member_id, values, waiting.facts)
                WAITING.labels("told").inc()
                log.info("notifications.told_what_waited", member_id=member_id, kind=waiting.kind)

            await self._alone(uow, waiting.cause_event_id, waiting.kind, member_id, tell)

    async def _tell(
        self,
        uow: SessionUnitOfWork,
        cause_id: str,
        kind: str,
        member_id: str,
        values: Values,
        facts: dict[str, Any],
    ) -> None:
        """Tell one member, once per channel whatever the redeliveries: always in the inbox, and by
        e-mail and webhook as their preferences say, at once or in their next digest."""
        if not _is_member(member_id):  # a project whose owner was erased: nobody to tell
            return
        repository = NotificationsRepository(uow.session)
        contact = await repository.contact(member_id)
        if contact is None:
            raise NotYetKnown(f"waiting for the profile of member {member_id}")
        if contact.erased:
            return
        preferences = Preferences.of(await repository.preferences(member_id))
        language = language_of(contact.locale)
        text = render(kind, language, {"name": contact.display_name or "", **values(language)})
        now = datetime.now(UTC)
        queued = False
        for channel in preferences.channels_for(kind):
            if channel == "email" and not contact.email:
                continue
            if channel == "webhook" and not preferences.webhook_url:
                continue
            notification_id = str(uuid.uuid4())
            added = await repository.add_notification(
                {
                    "notification_id": notification_id,
                    "member_id": member_id,
                    "channel": channel,
                    "kind": kind,
                    "language": text.language,
                    "title": text.title[:TITLE_LENGTH],
                    "body": text.body,
                    "data": facts,
                    "cause_event_id": cause_id,
                    "status": "delivered" if channel == "inbox" else "pending",
                    "delivered_at": now if channel == "inbox" else None,
                }
            )
            if not added:
                continue
            if channel == "inbox":
                uow.record(
                    NotificationDelivered(
                        notification_id=notification_id,
                        member_id=member_id,
                        channel="inbox",
                        kind=kind,
                        cause_event_id=cause_id,
                    )
                )
            else:
                message = await self._message_for(repository, contact, preferences, channel, now)
                await repository.attach(notification_id, message.message_id)
                queued = True
        if queued:
            uow.on_commit(self.on_queued)

    async def _message_for(
        self,
        repository: NotificationsRepository,
        contact: ContactRow,
        preferences: Preferences,
        channel: str,
        now: datetime,
    ) -> MessageRow:
        """The e-mail or webhook call that will carry a notification: its own, or the digest gathering."""
        digest = preferences.digest != "immediate"
        if digest:
            # One digest at a time per member: concurrent events wait here instead of each starting one.
            await repository.lock_member(contact.member_id)
            gathering = await repository.collecting_digest(contact.member_id, channel, now)
            if gathering is not None:
                return gathering
        message = MessageRow(
            message_id=str(uuid.uuid4()),
            member_id=contact.member_id,
            channel=channel,
            digest=digest,
            status="pending",
            attempts=0,
            due_at=(
                next_digest_at(now, contact.time_zone, preferences.digest_hour, preferences.digest)
                if digest
                else now
            ),
        )
        repository.session.add(message)
        await repository.session.flush()
        return message

    async def _gone(self, uow: SessionUnitOfWork, member_id: str) -> bool:
        contact = await NotificationsRepository(uow.session).contact(member_id)
        return contact is not None and contact.erased

    async def _project(self, uow: SessionUnitOfWork, project_id: str) -> tuple[ProjectRow, str]:
        repository = NotificationsRepository(uow.session)
        project = await repository.project(project_id)
        if project is None:
            raise NotYetKnown(f"waiting for project {project_id}")
        return project, await repository.territory_name(project.territory_id) or ""

    def _skill(self, code: str, language: str) -> str:
        skill = self.taxonomy.get(code)
        return skill.label(language) if skill else code

    # The members' own calls

    async def authorize(
        self, repository: NotificationsRepository, identity: Identity, member_id: str
    ) -> None:
        """A member reads and sets their own notifications; an association's managers its; operators all."""
        await self._actor(repository, identity)
        if identity.is_operator:
            return
        refused = Forbidden("you may read and change only your own notifications")
        if identity.sub == member_id:
            return
        contact = await repository.contact(member_id)
        if contact is None or contact.erased or identity.sub not in contact.managers:
            raise refused

    async def _actor(self, repository: NotificationsRepository, identity: Identity) -> None:
        """Every member's call goes through here: an erased identity keeps no right, whatever a token
        or a late profile of an association still says (the marker `erased` is refused as an identity
        before any call)."""
        if await repository.erased_among([identity.sub]):
            raise Forbidden("an erased member's identity keeps no right")

    async def inbox(
        self, identity: Identity, member_id: str, *, unread: bool, limit: int, offset: int
    ) -> tuple[list[NotificationRow], int]:
        async with self.units() as uow:
            repository = NotificationsRepository(uow.session)
            await self.authorize(repository, identity, member_id)
            return await repository.inbox(member_id, unread=unread, limit=limit, offset=offset)

    async def mark_read(self, identity: Identity, notification_id: str) -> NotificationRow:
        async with self.units() as uow:
            repository = NotificationsRepository(uow.session)
            notification = await repository.notification(notification_id, for_update=True)
            if notification is None or notification.channel != "inbox":
                raise NotFound("notification", notification_id)
            await self.authorize(repository, identity, notification.member_id)
            if notification.read_at is None:
                notification.read_at = datetime.now(UTC)
            await uow.commit()
            return notification

    async def mark_all_read(self, identity: Identity, member_id: str) -> int:
        async with self.units() as uow:
            repository = NotificationsRepository(uow.session)
            await self.authorize(repository, identity, member_id)
            marked = await repository.mark_all_read(member_id, datetime.now(UTC))
            await uow.commit()
            return marked

    async def preferences(self, identity: Identity, member_id: str) -> tuple[Preferences, str]:
        async with self.units() as uow:
            repository = NotificationsRepository(uow.session)
            await self.authorize(repository, identity, member_id)
            return Preferences.of(await repository.preferences(member_id)), await self._time_zone(
                repository, member_id
            )

    async def set_preferences(
        self, identity: Identity, member_id: str, wanted: Preferences, rotate_secret: bool
    ) -> tuple[Preferences, str]:
        async with self.units() as uow:
            repository = NotificationsRepository(uow.session)
            await self.authorize(repository, identity, member_id)
            await repository.lock_member(member_id)  # as erase does: it cannot commit in between
            contact = await repository.contact(member_id)
            if contact is not None and contact.erased:
                raise NotFound("member", member_id)
            row = await repository.locked_preferences(member_id)
            if row is None:
                raise NotFound("member", member_id)
            previous = Preferences.of(row)
            saved = wanted.with_secret(previous, rotate_secret)
            saved.write(row)
            row.updated_at = datetime.now(UTC)
            if previous.digest != "immediate" and saved.digest == "immediate":
                await repository.send_digests_now(member_id, datetime.now(UTC))
                uow.on_commit(self.on_queued)
            await uow.commit()
            return saved, await self._time_zone(repository, member_id)

    async def _time_zone(self, repository: NotificationsRepository, member_id: str) -> str:
        contact = await repository.contact(member_id)
        return contact.time_zone if contact else "UTC"

    async def deliveries(
        self, identity: Identity, filters: dict[str, str | None], limit: int, offset: int
    ) -> tuple[list[tuple[NotificationRow, MessageRow | None]], int]:
        async with self.units() as uow:
            repository = NotificationsRepository(uow.session)
            await self._actor(repository, identity)
            if not identity.is_operator:
                raise Forbidden("the delivery log is for operators")
            return await repository.deliveries(filters, limit, offset)


def _is_member(member_id: str) -> bool:
    """`erased` stands for an erased project owner: never a member, whoever claims the name."""
    return member_id != ERASED_OWNER


def _name(contact: ContactRow | None) -> str | None:
    return contact.display_name if contact is not None and not contact.erased else None


def _match_facts(data: Any) -> dict[str, Any]:
    return {"match_id": data.match_id, "project_id": data.project_id, "need_id": data.need_id}
