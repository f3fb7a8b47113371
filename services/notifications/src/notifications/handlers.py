"""Use cases of the notifications service: what each event tells, and to whom; and the members' own
calls (inbox, preferences, the delivery log). How one notification reaches a member's channels and
digests is notifier.py's."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeGuard, TypeVar

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
    NotificationFailed,
    PledgeMade,
    ProjectSnapshot,
    TerritoryRegistered,
)
from passerelle.errors import Forbidden, InvalidField, NotFound, NotYetKnown
from passerelle.identity import Identity
from passerelle.persistence.database import FOREVER
from passerelle.reasons import explain
from passerelle.taxonomy import Taxonomy
from passerelle.unit_of_work import UnitOfWork
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError

from .commands import DeliveryFilters, SetPreferences
from .notifier import Notice, Told, Values, notify, notify_all, notify_with
from .orm import ContactRow, MessageRow, NotificationRow, ProjectRow
from .preferences import SENT_CHANNELS, Preferences
from .repository import NotificationsRepository
from .texts import FALLBACK, languages, plain_error, someone, withdrawn_because
from .webhooks import Network, TargetRefused, check_url

log = structlog.get_logger(__name__)

NEWS_CHUNK = 200  # members told of one news per transaction: well within any ack wait

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

MatchTransition = MatchAccepted | MatchConfirmed | MatchWithdrawn
# Events are generic in their data: a handler of any profile (registered or updated), snapshot
# (published or updated) or transition takes each kind as it is.
Profile = TypeVar("Profile", bound=MemberProfile)
Snapshot = TypeVar("Snapshot", bound=ProjectSnapshot)
Transition = TypeVar("Transition", MatchAccepted, MatchConfirmed, MatchWithdrawn)
Unit = UnitOfWork[NotificationsRepository]


class NotificationsHandlers:
    def __init__(
        self,
        units: Callable[[], Unit],
        taxonomy: Taxonomy,
        webhook_networks: list[Network],
        on_queued: Callable[[str], None],
        forget_emails: Callable[[list[str]], None],
        *,
        on_news: Callable[[], None] = lambda: None,
        news_chunk: int = NEWS_CHUNK,
    ) -> None:
        self.units = units
        self.taxonomy = taxonomy
        self.webhook_networks = webhook_networks  # non-public networks webhooks may reach anyway
        # Wakes the dispatcher's workers of a channel (one callback per channel: once per commit).
        self.on_queued = {channel: functools.partial(on_queued, channel) for channel in SENT_CHANNELS}
        self.forget_emails = forget_emails  # deletes the copies of sent e-mails
        self.on_news = on_news  # wakes what tells news in chunks (it also looks every so often)
        self.news_chunk = news_chunk  # members told of one news per transaction

    # Read models

    async def remember_contact(self, event: CloudEvent[Profile], uow: Unit) -> ContactRow | None:
        """Keep how to address the member, then tell them what waited for their profile; returns
        their contact as it now is."""
        data, repository = event.data, uow.repository
        if not _is_member(data.member_id):
            log.warning("notifications.not_a_member", member_id=data.member_id, event_id=event.id)
            return None
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
        contact = await repository.contact(data.member_id)
        if contact is not None and not contact.erased:
            await self._tell_what_waited(uow, contact)
        return contact

    async def welcome(self, event: CloudEvent[MemberRegistered], uow: Unit) -> None:
        contact = await self.remember_contact(event, uow)
        await self._tell(uow, event.data.member_id, contact, Notice(event.id, "welcome", lambda _: {}, {}))

    async def erase(self, member_id: str, uow: Unit) -> None:
        repository = uow.repository
        await repository.lock_member(member_id)
        dropped = await repository.take_waiting(member_id)
        if dropped:  # never to be told: they left before their profile came
            WAITING.labels("erased").inc(len(dropped))
            log.info("notifications.waiting_dropped", member_id=member_id, count=len(dropped))
        emails = await repository.erase(member_id, FOREVER)
        uow.on_commit(lambda: self.forget_emails(emails))

    async def remember_territory(self, data: TerritoryRegistered, uow: Unit) -> None:
        await uow.repository.upsert_territory(data.territory_id, data.name, data.parent_id)

    async def remember_project(self, event: CloudEvent[Snapshot], uow: Unit) -> None:
        data = event.data
        values = {
            "project_id": data.project_id,
            "title": data.title,
            "territory_id": data.territory_id,
            "owner_member_id": data.owner_member_id,
            "needs": {need.need_id: need.skill for need in data.needs},
        }
        await uow.repository.upsert_project(values, event.time)

    # What each event tells, and to whom

    async def announce_project(self, event: CloudEvent[Snapshot], uow: Unit) -> None:
        """News of a published project, to members attached to its territory who asked for it."""
        await self.remember_project(event, uow)
        data, repository = event.data, uow.repository
        territory = await repository.territory_name(data.territory_id) or ""
        summary = data.summary if len(data.summary) <= 300 else data.summary[:297].rstrip() + "..."
        values = {"project": data.title, "territory": territory, "summary": summary}
        facts = {"project_id": data.project_id, "territory_id": data.territory_id}
        notice = Notice(event.id, "project_published", lambda _: values, facts)
        await self.tell_territory_news(uow, data.territory_id, notice, besides=[data.owner_member_id])

    async def propose(self, event: CloudEvent[MatchProposed], uow: Unit) -> None:
        """The platform's main flow: one read (the member, their preferences, the project) and one
        write (the inbox message and the e-mail), whatever the member's channels."""
        data = event.data
        contact, preferences, project, territory_name = await uow.repository.member_and_project(
            data.member_id, data.project_id
        )
        if contact is not None and contact.erased:
            return
        if project is None:
            raise NotYetKnown(f"waiting for project {data.project_id}")
        territory = territory_name or ""
        skill = project.needs.get(data.need_id, "")

        def values(language: str) -> dict[str, str]:
            return {
                "project": project.title,
                "territory": territory,
                "skill": self._skill(skill, language),
                "reasons": explain(data.reasons, language),
            }

        notice = Notice(event.id, "match_proposed", values, _match_facts(data))
        if _to_tell(contact, data.member_id):
            self._record(uow, await notify_with(uow.repository, contact, preferences, notice))

    async def tell_owner_of_acceptance(self, event: CloudEvent[Transition], uow: Unit) -> None:
        data, repository = event.data, uow.repository
        project, _ = await self._project(repository, data.project_id)
        member = await repository.contact(data.member_id)

        def values(language: str) -> dict[str, str]:
            return {
                "member": _name(member) or someone(language),
                "project": project.title,
                "skill": self._skill(project.needs.get(data.need_id, ""), language),
            }

        notice = Notice(event.id, "match_accepted", values, _match_facts(data))
        await self._tell_owner(uow, project, notice)

    async def tell_member_of_transition(self, event: CloudEvent[Transition], uow: Unit, kind: str) -> None:
        """A confirmed match, or one withdrawn (kindly, saying why)."""
        data = event.data
        if data.reason == "member_erased":
            return
        contact = await uow.repository.contact(data.member_id)
        if contact is not None and contact.erased:
            return
        project, territory = await self._project(uow.repository, data.project_id)

        def values(language: str) -> dict[str, str]:
            return {
                "project": project.title,
                "territory": territory,
                "skill": self._skill(project.needs.get(data.need_id, ""), language),
                "why": withdrawn_because(data.reason, language),
            }

        await self._tell(uow, data.member_id, contact, Notice(event.id, kind, values, _match_facts(data)))

    async def tell_owner_of_pledge(self, event: CloudEvent[PledgeMade], uow: Unit) -> None:
        data, repository = event.data, uow.repository
        await repository.add_pledge(data.pledge_id, data.project_id, data.member_id, Decimal(data.amount))
        project, _ = await self._project(repository, data.project_id)
        pledger = await repository.contact(data.member_id)

        def values(language: str) -> dict[str, str]:
            return {
                "member": _name(pledger) or someone(language),
                "project": project.title,
                "amount": data.amount,
                "currency": data.currency,
            }

        facts = {"project_id": data.project_id, "pledge_id": data.pledge_id, "amount": data.amount}
        await self._tell_owner(uow, project, Notice(event.id, "pledge_made", values, facts))

    async def celebrate_goal(self, event: CloudEvent[FundingGoalReached], uow: Unit) -> None:
        """The owner and every pledger hear that the goal is reached: those known at once, the others
        when their profile comes (one unknown pledger does not keep the rest waiting)."""
        data, repository = event.data, uow.repository
        project, _ = await self._project(repository, data.project_id)
        known, pledgers = await repository.pledged(data.project_id)
        if known < Decimal(data.total):  # the pledges reaching the goal are still on their way
            raise NotYetKnown(f"heard of {known} of the {data.total} pledged to {data.project_id}")
        values = {"project": project.title, "total": data.total, "currency": data.currency}
        facts = {"project_id": data.project_id, "total": data.total, "currency": data.currency}
        recipients = list(dict.fromkeys([project.owner_member_id, *pledgers]))
        notice = Notice(event.id, "funding_goal_reached", lambda _: values, facts)
        await self._tell_each(uow, recipients, notice, wait_for_unknown=True)

    # Telling: a territory's news readers, one member, several, what waited

    async def tell_territory_news(
        self,
        uow: Unit,
        territory_id: str,
        notice: Notice,
        *,
        besides: Iterable[str] = (),
        preference: str = "territory_news",
    ) -> None:
        """News of a territory, to the members attached to it or to a territory above it who asked
        for news of one of them (in `preference`), but `besides` (its author): kept with this unit of
        work, then told after its commit by `tell_news_chunk`, a bounded chunk of members per
        transaction, so that no transaction grows with the audience, whatever its size."""
        chain = await uow.repository.territory_and_ancestors(territory_id)
        await uow.repository.add_fan_out(
            {
                "cause_event_id": notice.cause_id,
                "kind": notice.kind,
                "values": {language: notice.values(language) for language in sorted(languages())},
                "facts": notice.facts,
                "territories": chain,
                "besides": sorted(set(besides)),
                "after": "",
                "preference": preference,
            }
        )
        uow.on_commit(self.on_news)

    async def tell_news_chunk(self) -> bool:
        """Tell the next chunk of members of the oldest news still being told, in one transaction
        (set-based: a few statements for the whole chunk); False when no news is left to tell.

        Idempotent per cause, member and channel: a chunk that a crash rolled back is told again."""
        async with self.units() as uow:
            repository = uow.repository
            news = await repository.next_fan_out()
            if news is None:
                return False
            readers = await repository.news_readers_after(
                news.territories, news.besides, news.after, self.news_chunk, news.preference
            )
            await repository.lock_members(readers)  # before reading them: an erasure is seen, or waits
            recipients = await repository.recipients(readers)
            notice = Notice(news.cause_event_id, news.kind, _in_language(news.values), news.facts)
            try:
                async with repository.savepoint():
                    told = await notify_all(repository, recipients, notice)
            except (DataError, IntegrityError, ValueError, ValidationError):
                # Some recipient's own data: each is told alone, so that only theirs fails.
                log.warning("notifications.news_one_by_one", kind=news.kind, cause=news.cause_event_id)
                for contact, _ in recipients:
                    tell = functools.partial(notify, repository, contact, notice)
                    await self._alone(uow, contact.member_id, notice, tell)
            else:
                self._record(uow, told)
            done = len(readers) < self.news_chunk
            await repository.advance_fan_out(news, None if done else readers[-1])
            await uow.commit()
        return True

    async def _tell_owner(self, uow: Unit, project: ProjectRow, notice: Notice) -> None:
        owner = project.owner_member_id
        await self._tell(uow, owner, await uow.repository.contact(owner), notice)

    async def _tell(self, uow: Unit, member_id: str, contact: ContactRow | None, notice: Notice) -> None:
        """Tell one member, whose contact was read (None: not known yet, the event waits for it)."""
        if _to_tell(contact, member_id):
            self._record(uow, await notify(uow.repository, contact, notice))

    async def _tell_each(
        self, uow: Unit, member_ids: list[str], notice: Notice, *, wait_for_unknown: bool = False
    ) -> None:
        """Tell several members, each on their own: one whose own data cannot be stored or rendered is
        logged, counted and reported as NotificationFailed, and the others are told all the same.
        With `wait_for_unknown`, a member not known yet is told when their profile comes, instead of
        holding the event for everyone."""
        repository = uow.repository
        member_ids = [member_id for member_id in member_ids if _is_member(member_id)]
        await repository.lock_members(member_ids)  # all at once, before anything can wait on another lock
        for member_id in member_ids:

            async def tell(member_id: str = member_id) -> Told:
                contact = await repository.contact(member_id)
                if contact is None and wait_for_unknown:
                    await self._wait_for_profile(repository, member_id, notice)
                    return Told()
                if contact is None:
                    raise NotYetKnown(f"waiting for the profile of member {member_id}")
                return Told() if contact.erased else await notify(repository, contact, notice)

            await self._alone(uow, member_id, notice, tell)

    async def _tell_what_waited(self, uow: Unit, contact: ContactRow) -> None:
        """The member's profile came: tell them what waited for it (their lock is held)."""
        repository = uow.repository
        for waiting in await repository.take_waiting(contact.member_id):
            notice = Notice(waiting.cause_event_id, waiting.kind, _in_language(waiting.values), waiting.facts)

            async def tell(notice: Notice = notice) -> Told:
                told = await notify(repository, contact, notice)
                WAITING.labels("told").inc()
                log.info("notifications.told_what_waited", member_id=contact.member_id, kind=notice.kind)
                return told

            await self._alone(uow, contact.member_id, notice, tell)

    async def _alone(
        self, uow: Unit, member_id: str, notice: Notice, tell: Callable[[], Awaitable[Told]]
    ) -> None:
        """Run `tell` for one recipient in a savepoint: if their own data fails it, only what it did
        is undone, and the failure is logged, counted and reported as NotificationFailed."""
        try:
            async with uow.repository.savepoint():
                told = await tell()
        except (DataError, IntegrityError, ValueError, ValidationError) as error:
            # What this recipient's own data can cause is theirs alone; anything else (a deadlock, a
            # timeout, the database away, a profile not known yet) escapes, and the event is retried.
            UNTOLD.labels(notice.kind).inc()
            log.exception(
                "notifications.untold", member_id=member_id, kind=notice.kind, cause_event_id=notice.cause_id
            )
            uow.record(
                NotificationFailed(
                    notification_id=str(uuid.uuid4()),
                    member_id=member_id,
                    channel="inbox",
                    kind=notice.kind,
                    cause_event_id=notice.cause_id,
                    error=plain_error(f"{type(error).__name__}: {error}"),
                )
            )
            return
        self._record(uow, told)

    async def _wait_for_profile(
        self, repository: NotificationsRepository, member_id: str, notice: Notice
    ) -> None:
        """What to tell a member not known yet waits for their profile, in every language (theirs is
        not known either); their lock is held, so a profile arriving meanwhile sees it."""
        waiting = {
            "cause_event_id": notice.cause_id,
            "member_id": member_id,
            "kind": notice.kind,
            "values": {language: notice.values(language) for language in sorted(languages())},
            "facts": notice.facts,
        }
        if await repository.wait_for_profile(waiting):
            WAITING.labels("waiting").inc()
            log.info(
                "notifications.waiting_for_profile",
                member_id=member_id,
                kind=notice.kind,
                cause_event_id=notice.cause_id,
            )

    def _record(self, uow: Unit, told: Told) -> None:
        for event in told.events:
            uow.record(event)
        for channel in sorted(told.queued):
            uow.on_commit(self.on_queued[channel])

    async def _project(self, repository: NotificationsRepository, project_id: str) -> tuple[ProjectRow, str]:
        project = await repository.project(project_id)
        if project is None:
            raise NotYetKnown(f"waiting for project {project_id}")
        return project, await repository.territory_name(project.territory_id) or ""

    def _skill(self, code: str, language: str) -> str:
        skill = self.taxonomy.get(code)
        return skill.label(language) if skill else code

    # The members' own calls

    async def inbox(
        self, identity: Identity, member_id: str, *, unread: bool, limit: int, offset: int
    ) -> tuple[list[NotificationRow], int]:
        async with self.units() as uow:
            await self._authorize(uow.repository, identity, member_id)
            return await uow.repository.inbox(member_id, unread=unread, limit=limit, offset=offset)

    async def mark_read(self, identity: Identity, notification_id: str) -> NotificationRow:
        async with self.units() as uow:
            notification = await uow.repository.notification(notification_id, for_update=True)
            if notification is None or notification.channel != "inbox":
                raise NotFound("notification", notification_id)
            await self._authorize(uow.repository, identity, notification.member_id)
            if notification.read_at is None:
                notification.read_at = datetime.now(UTC)
            await uow.commit()
            return notification

    async def mark_all_read(self, identity: Identity, member_id: str) -> int:
        async with self.units() as uow:
            await self._authorize(uow.repository, identity, member_id)
            marked = await uow.repository.mark_all_read(member_id, datetime.now(UTC))
            await uow.commit()
            return marked

    async def preferences(self, identity: Identity, member_id: str) -> tuple[Preferences, str]:
        async with self.units() as uow:
            repository = uow.repository
            await self._authorize(repository, identity, member_id)
            saved = Preferences.of(await repository.preferences(member_id))
            return saved, await self._time_zone(repository, member_id)

    async def set_preferences(self, identity: Identity, change: SetPreferences) -> tuple[Preferences, str]:
        member_id, wanted = change.member_id, change.wanted
        if wanted.webhook_url is not None:
            try:
                check_url(wanted.webhook_url, self.webhook_networks)
            except TargetRefused as error:
                raise InvalidField("webhook_url", str(error)) from error
        async with self.units() as uow:
            repository = uow.repository
            await self._authorize(repository, identity, member_id)
            await repository.lock_member(member_id)  # as erase does: it cannot commit in between
            contact = await repository.contact(member_id)
            if contact is not None and contact.erased:
                raise NotFound("member", member_id)
            row = await repository.locked_preferences(member_id)
            if row is None:
                raise NotFound("member", member_id)
            previous = Preferences.of(row)
            now = datetime.now(UTC)
            saved = wanted.with_secret(previous, change.rotate_secret, now)
            saved.write(row)
            row.updated_at = now
            if previous.digest != "immediate" and saved.digest == "immediate":
                await repository.send_digests_now(member_id, datetime.now(UTC))
                for wake in self.on_queued.values():
                    uow.on_commit(wake)
            await uow.commit()
            return saved, contact.time_zone if contact else "UTC"

    async def deliveries(
        self, identity: Identity, filters: DeliveryFilters, limit: int, offset: int
    ) -> tuple[list[tuple[NotificationRow, MessageRow | None]], int]:
        async with self.units() as uow:
            await self._actor(uow.repository, identity)
            if not identity.is_operator:
                raise Forbidden("the delivery log is for operators")
            return await uow.repository.deliveries(filters, limit, offset)

    async def _actor(self, repository: NotificationsRepository, identity: Identity) -> None:
        """Every member's call goes through here: an erased identity keeps no right, whatever a token
        or a late profile of an association still says (the marker `erased` is refused as an identity
        before any call)."""
        if await repository.erased_among([identity.sub]):
            raise Forbidden("an erased member's identity keeps no right")

    async def _authorize(
        self, repository: NotificationsRepository, identity: Identity, member_id: str
    ) -> None:
        """A member reads and sets their own notifications; an association's managers its; operators all."""
        await self._actor(repository, identity)
        if identity.is_operator or identity.sub == member_id:
            return
        contact = await repository.contact(member_id)
        if contact is None or contact.erased or identity.sub not in contact.managers:
            raise Forbidden("you may read and change only your own notifications")

    async def _time_zone(self, repository: NotificationsRepository, member_id: str) -> str:
        contact = await repository.contact(member_id)
        return contact.time_zone if contact else "UTC"


def _is_member(member_id: str) -> bool:
    """`erased` stands for an erased project owner: never a member, whoever claims the name."""
    return member_id != ERASED_OWNER


def _to_tell(contact: ContactRow | None, member_id: str) -> TypeGuard[ContactRow]:
    """Whether to tell a member whose contact was read: not when erased, nor when the member is an
    erased project owner's marker; None (not known yet) makes the event wait for their profile."""
    if not _is_member(member_id):  # a project whose owner was erased: nobody to tell
        return False
    if contact is None:
        raise NotYetKnown(f"waiting for the profile of member {member_id}")
    return not contact.erased


def _in_language(values: dict[str, dict[str, str]]) -> Values:
    """Values kept in every language: the member's, or the fallback."""
    return lambda language: values.get(language) or values[FALLBACK]


def _name(contact: ContactRow | None) -> str | None:
    return contact.display_name if contact is not None and not contact.erased else None


def _match_facts(data: MatchProposed | MatchTransition) -> dict[str, Any]:
    return {"match_id": data.match_id, "project_id": data.project_id, "need_id": data.need_id}
