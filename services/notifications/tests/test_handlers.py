"""The use cases in milliseconds: the handlers on an in-memory repository and unit of work."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
from notifications.commands import DeliveryFilters, SetPreferences
from notifications.handlers import NotificationsHandlers
from notifications.orm import (
    ContactRow,
    FanOutRow,
    MessageRow,
    NotificationRow,
    PreferencesRow,
    ProjectRow,
    TerritoryRow,
    WaitingRow,
)
from notifications.preferences import Preferences
from notifications.repository import NotificationsRepository
from notifications.webhooks import allowed_networks
from passerelle.contracts import (
    CloudEvent,
    EventData,
    FundingGoalReached,
    MatchProposed,
    MemberRegistered,
    NotificationDelivered,
    NotificationFailed,
    PledgeMade,
    ProjectPublished,
    TerritoryRegistered,
    envelope,
)
from passerelle.errors import Forbidden, InvalidField, NotFound, NotYetKnown
from passerelle.identity import Identity
from passerelle.taxonomy import load_taxonomy
from passerelle.unit_of_work import InMemoryUnitOfWork
from sqlalchemy.exc import DataError, DBAPIError

TAXONOMY = load_taxonomy()


class InMemoryNotificationsRepository:
    """The answers of NotificationsRepository to what the handlers ask, kept in dicts."""

    def __init__(self) -> None:
        self.contacts: dict[str, ContactRow] = {}
        self.preferences_rows: dict[str, PreferencesRow] = {}
        self.territories: dict[str, TerritoryRow] = {}
        self.projects: dict[str, ProjectRow] = {}
        self.pledges: dict[str, tuple[str, str | None, Decimal]] = {}
        self.waiting: dict[tuple[str, str], WaitingRow] = {}
        self.notifications: dict[str, NotificationRow] = {}
        self.messages: dict[str, MessageRow] = {}
        self.fan_outs: dict[tuple[str, str], FanOutRow] = {}
        self.locked: list[str] = []

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        kept = {name: copy.copy(value) for name, value in vars(self).items()}
        try:
            yield
        except BaseException:
            vars(self).update(kept)
            raise

    async def upsert_contact(self, member_id: str, values: dict[str, Any], as_of: datetime) -> None:
        known = self.contacts.get(member_id)
        if known is None:
            self.contacts[member_id] = ContactRow(member_id=member_id, as_of=as_of, erased=False, **values)
        elif known.as_of < as_of and not known.erased:
            for key, value in values.items():
                setattr(known, key, value)
            known.as_of = as_of

    async def contact(self, member_id: str) -> ContactRow | None:
        return self.contacts.get(member_id)

    async def member_and_project(
        self, member_id: str, project_id: str
    ) -> tuple[ContactRow | None, PreferencesRow | None, ProjectRow | None, str | None]:
        project = self.projects.get(project_id)
        territory = self.territories.get(project.territory_id) if project else None
        return (
            self.contacts.get(member_id),
            self.preferences_rows.get(member_id),
            project,
            territory.name if territory else None,
        )

    async def lock_member(self, member_id: str) -> None:
        self.locked.append(member_id)

    async def lock_members(self, member_ids: Iterable[str]) -> None:
        for member_id in sorted(set(member_ids)):
            await self.lock_member(member_id)

    async def erased_among(self, member_ids: list[str]) -> set[str]:
        return {sub for sub in member_ids if sub in self.contacts and self.contacts[sub].erased}

    async def wait_for_profile(self, values: dict[str, Any]) -> bool:
        key = (values["cause_event_id"], values["member_id"])
        if key in self.waiting:
            return False
        self.waiting[key] = WaitingRow(**values, created_at=datetime.now(UTC))
        return True

    async def take_waiting(self, member_id: str) -> list[WaitingRow]:
        taken = [row for key, row in self.waiting.items() if key[1] == member_id]
        self.waiting = {key: row for key, row in self.waiting.items() if key[1] != member_id}
        return taken

    async def erase(self, member_id: str, tombstone_as_of: datetime) -> list[str]:
        emails = [
            m.message_id for m in self.messages.values() if m.member_id == member_id and m.channel == "email"
        ]
        self.messages = {k: m for k, m in self.messages.items() if m.member_id != member_id}
        self.notifications = {k: n for k, n in self.notifications.items() if n.member_id != member_id}
        self.preferences_rows.pop(member_id, None)
        for contact in self.contacts.values():
            contact.managers = [sub for sub in contact.managers if sub != member_id]
        self.pledges = {k: (p, None if m == member_id else m, a) for k, (p, m, a) in self.pledges.items()}
        self.contacts[member_id] = ContactRow(
            member_id=member_id,
            display_name=None,
            email=None,
            locale="en",
            time_zone="UTC",
            attachments=[],
            managers=[],
            erased=True,
            as_of=tombstone_as_of,
        )
        return emails

    async def upsert_territory(self, territory_id: str, name: str, parent_id: str | None) -> None:
        self.territories[territory_id] = TerritoryRow(
            territory_id=territory_id, name=name, parent_id=parent_id
        )

    async def territory_name(self, territory_id: str) -> str | None:
        row = self.territories.get(territory_id)
        return row.name if row else None

    async def territory_and_ancestors(self, territory_id: str) -> list[str]:
        chain: list[str] = []
        current: str | None = territory_id
        while current is not None and current not in chain:
            chain.append(current)
            row = self.territories.get(current)
            current = row.parent_id if row else None
        return chain

    async def upsert_project(self, values: dict[str, Any], as_of: datetime) -> None:
        known = self.projects.get(values["project_id"])
        if known is None or known.as_of is None or known.as_of < as_of:
            self.projects[values["project_id"]] = ProjectRow(**values, as_of=as_of)

    async def project(self, project_id: str) -> ProjectRow | None:
        return self.projects.get(project_id)

    async def add_pledge(self, pledge_id: str, project_id: str, member_id: str, amount: Decimal) -> None:
        self.pledges.setdefault(pledge_id, (project_id, member_id, amount))

    async def pledged(self, project_id: str) -> tuple[Decimal, list[str]]:
        mine = [
            (member, amount) for project, member, amount in self.pledges.values() if project == project_id
        ]
        total = sum((amount for _, amount in mine), Decimal(0))
        return total, sorted({member for member, _ in mine if member is not None})

    async def add_fan_out(self, values: dict[str, Any]) -> None:
        self.fan_outs.setdefault(
            (values["cause_event_id"], values["kind"]), FanOutRow(**values, created_at=datetime.now(UTC))
        )

    async def next_fan_out(self) -> FanOutRow | None:
        return min(self.fan_outs.values(), key=lambda row: row.created_at, default=None)

    async def news_readers_after(
        self, territories: list[str], besides: list[str], after: str, limit: int, preference: str
    ) -> list[str]:
        readers = sorted(
            member_id
            for member_id, row in self.preferences_rows.items()
            if set(getattr(row, preference)) & set(territories)
            and member_id in self.contacts
            and set(self.contacts[member_id].attachments) & set(territories)
            and not self.contacts[member_id].erased
            and member_id > after
            and member_id not in besides
        )
        return readers[:limit]

    async def recipients(self, member_ids: list[str]) -> list[tuple[ContactRow, PreferencesRow]]:
        return [
            (self.contacts[member_id], self.preferences_rows[member_id])
            for member_id in sorted(member_ids)
            if not self.contacts[member_id].erased
        ]

    async def add_notifications_with_messages(
        self, notifications: list[dict[str, Any]], messages: list[dict[str, Any]]
    ) -> set[str]:
        added = {row["notification_id"] for row in notifications if await self.add_notification(row)}
        kept = {row["message_id"] for row in notifications if row["notification_id"] in added}
        for row in messages:
            if row["message_id"] in kept:
                self.messages[row["message_id"]] = MessageRow(**row, status="pending", attempts=0)
        return added

    async def advance_fan_out(self, fan_out: FanOutRow, after: str | None) -> None:
        if after is None:
            del self.fan_outs[(fan_out.cause_event_id, fan_out.kind)]
        else:
            fan_out.after = after

    async def preferences(self, member_id: str) -> PreferencesRow | None:
        return self.preferences_rows.get(member_id)

    async def locked_preferences(self, member_id: str) -> PreferencesRow | None:
        return self.preferences_rows.setdefault(
            member_id,
            PreferencesRow(
                member_id=member_id,
                channels={},
                digest="immediate",
                digest_hour=8,
                territory_news=[],
                opportunity_news=[],
            ),
        )

    async def add_notification(self, values: dict[str, Any]) -> bool:
        key = (values["cause_event_id"], values["member_id"], values["channel"])
        if any((n.cause_event_id, n.member_id, n.channel) == key for n in self.notifications.values()):
            return False
        self.notifications[values["notification_id"]] = NotificationRow(
            **values, created_at=datetime.now(UTC)
        )
        return True

    async def add_message(self, message: MessageRow) -> None:
        self.messages[message.message_id] = message

    async def attach(self, notification_id: str, message_id: str) -> None:
        self.notifications[notification_id].message_id = message_id

    async def collecting_digest(self, member_id: str, channel: str, now: datetime) -> MessageRow | None:
        gathering = [
            m
            for m in self.messages.values()
            if (m.member_id, m.channel, m.digest, m.status, m.attempts)
            == (member_id, channel, True, "pending", 0)
            and m.due_at > now
        ]
        return min(gathering, key=lambda m: m.due_at, default=None)

    async def send_digests_now(self, member_id: str, now: datetime) -> None:
        for message in self.messages.values():
            if message.member_id == member_id and message.digest and message.status == "pending":
                message.due_at = now

    async def inbox(
        self, member_id: str, *, unread: bool, limit: int, offset: int
    ) -> tuple[list[NotificationRow], int]:
        rows = [
            n
            for n in self.notifications.values()
            if n.member_id == member_id and n.channel == "inbox" and not (unread and n.read_at)
        ]
        return rows[offset : offset + limit], len(rows)

    async def notification(self, notification_id: str, *, for_update: bool = False) -> NotificationRow | None:
        return self.notifications.get(notification_id)

    async def mark_all_read(self, member_id: str, now: datetime) -> int:
        unread, _ = await self.inbox(member_id, unread=True, limit=10**6, offset=0)
        for notification in unread:
            notification.read_at = now
        return len(unread)

    async def deliveries(
        self, filters: DeliveryFilters, limit: int, offset: int
    ) -> tuple[list[tuple[NotificationRow, MessageRow | None]], int]:
        wanted = {key: value for key, value in asdict(filters).items() if value}
        rows = [
            (n, self.messages.get(n.message_id or ""))
            for n in self.notifications.values()
            if all(getattr(n, key) == value for key, value in wanted.items())
        ]
        return rows[offset : offset + limit], len(rows)


class Service:
    """The handlers on one in-memory repository; `consume` runs an event as its consumer would."""

    def __init__(self, news_chunk: int = 200) -> None:
        self.repository = InMemoryNotificationsRepository()
        self.uow = InMemoryUnitOfWork(cast(NotificationsRepository, self.repository))
        self.woken: list[str] = []  # the channels whose dispatcher was told of new work
        self.news_woken = 0
        self.forgotten: list[str] = []
        self.handlers = NotificationsHandlers(
            lambda: self.uow,
            TAXONOMY,
            allowed_networks([]),
            on_queued=self.wake,
            forget_emails=self.forgotten.extend,
            on_news=self.wake_news,
            news_chunk=news_chunk,
        )

    def wake(self, channel: str) -> None:
        self.woken.append(channel)

    def wake_news(self) -> None:
        self.news_woken += 1

    async def consume(self, handler: Any, data: EventData, *args: Any) -> CloudEvent[Any]:
        event = envelope(data)
        async with self.uow as uow:
            await handler(event, uow, *args)
            await uow.commit()
        return event

    def published(self, kind: type[EventData]) -> list[Any]:
        return [event for event in self.uow.published if isinstance(event, kind)]

    def told(self, member_id: str, channel: str = "inbox") -> list[Any]:
        rows = self.repository.notifications.values()
        return [row for row in rows if row.member_id == member_id and row.channel == channel]


def member(member_id: str, name: str, locale: str = "fr") -> MemberRegistered:
    return MemberRegistered(
        member_id=member_id,
        kind="person",
        display_name=name,
        email=f"{member_id}@example.org",
        locale=locale,
        country_of_residence="BE",
        time_zone="Europe/Brussels",
        languages=["fr"],
        attachments=[{"territory_id": "tafraout", "bond": "origin"}],
    )


PROJECT = ProjectPublished(
    project_id="p-health",
    territory_id="tafraout",
    owner_member_id="amina",
    title="Solar health post",
    summary="Power the health post of Tafraout with solar panels.",
    sector="energy",
    languages=["fr"],
    needs=[
        {
            "need_id": "n-solar",
            "skill": "energy.solar_pv_design",
            "min_level": 3,
            "mode": "remote",
            "count": 1,
        }
    ],
    funding={"goal_amount": "1000.00", "currency": "EUR"},
)


def pledge(pledge_id: str, member_id: str, amount: str) -> PledgeMade:
    return PledgeMade(
        pledge_id=pledge_id, project_id="p-health", member_id=member_id, amount=amount, currency="EUR"
    )


async def places(service: Service) -> None:
    territory = TerritoryRegistered(territory_id="tafraout", name="Tafraout", country="MA", level="commune")
    async with service.uow as uow:
        await service.handlers.remember_territory(territory, uow)
        await uow.commit()
    await service.consume(service.handlers.remember_project, PROJECT)


async def test_a_new_member_is_welcomed_in_the_inbox_and_by_email_in_their_language() -> None:
    service = Service()
    event = await service.consume(service.handlers.welcome, member("fatima", "Fatima"))

    [inbox] = service.told("fatima")
    assert inbox.language == "fr" and "Fatima" in inbox.title
    [delivered] = service.published(NotificationDelivered)
    assert delivered.member_id == "fatima" and delivered.cause_event_id == event.id
    [email] = service.told("fatima", "email")
    assert email.status == "pending" and email.message_id in service.repository.messages
    # The dispatcher hears of the e-mail once it is committed, and its webhook workers of nothing.
    assert service.woken == ["email"]


async def test_a_proposal_names_the_project_the_skill_and_why_and_waits_for_an_unknown_project() -> None:
    service = Service()
    await service.consume(service.handlers.welcome, member("fatima", "Fatima"))
    proposal = MatchProposed(
        match_id="m-1",
        project_id="p-health",
        need_id="n-solar",
        offer_id="o-1",
        member_id="fatima",
        score=0.9,
        reasons=["skill_exact"],
    )
    with pytest.raises(NotYetKnown):
        await service.consume(service.handlers.propose, proposal)

    await places(service)
    await service.consume(service.handlers.propose, proposal)
    [told] = [row for row in service.told("fatima") if row.kind == "match_proposed"]
    assert "Tafraout" in told.title and "Solar health post" in told.body
    assert "photovoltaïques" in told.body and "exactement la compétence" in told.body
    assert told.data == {"match_id": "m-1", "project_id": "p-health", "need_id": "n-solar"}


async def test_the_goal_reaches_the_owner_and_known_pledgers_and_a_late_one_when_their_profile_comes() -> (
    None
):
    service = Service()
    for known in (member("amina", "Amina", "en"), member("leila", "Leila")):
        await service.consume(service.handlers.welcome, known)
    await places(service)
    await service.consume(service.handlers.tell_owner_of_pledge, pledge("pl-1", "leila", "400.00"))
    await service.consume(service.handlers.tell_owner_of_pledge, pledge("pl-2", "sara", "600.00"))
    goal = FundingGoalReached(project_id="p-health", total="1000.00", currency="EUR")
    await service.consume(service.handlers.celebrate_goal, goal)

    for told in ("amina", "leila"):
        assert [row.kind for row in service.told(told)].count("funding_goal_reached") == 1
    assert service.told("sara") == [] and list(service.repository.waiting) != []
    await service.consume(service.handlers.welcome, member("sara", "Sara"))
    [late] = [row for row in service.told("sara") if row.kind == "funding_goal_reached"]
    assert late.title == "Solar health post est entièrement financé"  # in her language, now known
    assert service.repository.waiting == {}


async def test_a_recipient_whose_data_the_database_refuses_is_reported_failed_and_the_others_are_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = Service()
    for known in ("amina", "leila", "omar"):
        await service.consume(service.handlers.welcome, member(known, known.title()))
    await places(service)
    for n, pledger in enumerate(("leila", "omar")):
        await service.consume(service.handlers.tell_owner_of_pledge, pledge(f"pl-{n}", pledger, "500.00"))
    add = service.repository.add_notification

    async def refuse_leila(values: dict[str, Any]) -> bool:
        if values["member_id"] == "leila" and values["kind"] == "funding_goal_reached":
            raise DataError("INSERT INTO notifications ...", {}, Exception("value too long"))
        return await add(values)

    monkeypatch.setattr(service.repository, "add_notification", refuse_leila)
    cause = await service.consume(
        service.handlers.celebrate_goal,
        FundingGoalReached(project_id="p-health", total="1000.00", currency="EUR"),
    )

    for told in ("amina", "omar"):
        assert "funding_goal_reached" in [row.kind for row in service.told(told)]
    [failed] = service.published(NotificationFailed)
    assert failed.member_id == "leila" and failed.cause_event_id == cause.id and "DataError" in failed.error


async def test_a_deadlock_while_telling_one_recipient_retries_the_whole_event_instead_of_failing_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = Service()
    for known in ("amina", "leila"):
        await service.consume(service.handlers.welcome, member(known, known.title()))
    await places(service)
    await service.consume(service.handlers.tell_owner_of_pledge, pledge("pl-1", "leila", "1000.00"))

    async def deadlocked(member_id: str) -> None:
        raise DBAPIError("SELECT pg_advisory_xact_lock(...)", {}, Exception("deadlock detected"))

    monkeypatch.setattr(service.repository, "lock_member", deadlocked)
    with pytest.raises(DBAPIError):
        await service.consume(
            service.handlers.celebrate_goal,
            FundingGoalReached(project_id="p-health", total="1000.00", currency="EUR"),
        )
    assert service.published(NotificationFailed) == []


async def test_preferences_refuse_private_webhooks_and_erased_identities_and_keep_a_secret() -> None:
    service = Service()
    await service.consume(service.handlers.welcome, member("hana", "Hana"))
    hana = Identity("hana", frozenset({"member"}))

    private = Preferences(webhook_url="http://10.0.0.5/hook")
    with pytest.raises(InvalidField, match="webhook_url"):
        await service.handlers.set_preferences(hana, SetPreferences("hana", private))
    with pytest.raises(Forbidden):
        await service.handlers.set_preferences(
            Identity("omar", frozenset({"member"})), SetPreferences("hana", Preferences())
        )
    saved, time_zone = await service.handlers.set_preferences(
        hana, SetPreferences("hana", Preferences(digest="daily", webhook_url="https://ngo.example/hook"))
    )
    assert saved.webhook_secret and time_zone == "Europe/Brussels"
    again, _ = await service.handlers.preferences(hana, "hana")
    assert again.webhook_secret == saved.webhook_secret and again.digest == "daily"

    await service.consume(lambda event, uow: service.handlers.erase("hana", uow), member("x", "X"))
    with pytest.raises(Forbidden):
        await service.handlers.preferences(hana, "hana")
    operator = Identity("operator-1", frozenset({"operator"}))
    with pytest.raises(NotFound):
        await service.handlers.set_preferences(operator, SetPreferences("hana", Preferences()))


async def test_erasure_forgets_the_member_their_emails_and_what_waited_and_tells_them_nothing_more() -> None:
    service = Service()
    await service.consume(service.handlers.welcome, member("amina", "Amina"))
    await service.consume(service.handlers.welcome, member("claire", "Claire"))
    [email] = service.told("claire", "email")
    await places(service)
    await service.consume(service.handlers.tell_owner_of_pledge, pledge("pl-1", "ghost", "1000.00"))
    await service.consume(
        service.handlers.celebrate_goal,
        FundingGoalReached(project_id="p-health", total="1000.00", currency="EUR"),
    )
    assert [member_id for _, member_id in service.repository.waiting] == ["ghost"]

    await service.consume(lambda event, uow: service.handlers.erase("claire", uow), member("x", "X"))
    assert service.forgotten == [email.message_id]  # its .eml file goes once the erasure commits
    assert service.told("claire") == []
    assert [m for m in service.repository.messages.values() if m.member_id == "claire"] == []
    contact = service.repository.contacts["claire"]
    assert (contact.display_name, contact.email, contact.erased) == (None, None, True)
    await service.consume(lambda event, uow: service.handlers.erase("ghost", uow), member("x", "X"))
    assert service.repository.waiting == {}


async def test_territory_news_are_told_after_the_event_in_chunks_once_to_each_reader_but_its_author() -> None:
    service = Service(news_chunk=2)
    readers = ["hana", "karim", "leila", "nadia", "omar"]
    for known in ["amina", "said", *readers]:
        await service.consume(service.handlers.welcome, member(known, known.title()))
    for known in ["amina", *readers]:  # the author asked too; Said did not
        service.repository.preferences_rows[known] = PreferencesRow(
            member_id=known,
            channels={},
            digest="daily" if known == "nadia" else "immediate",
            digest_hour=8,
            webhook_url=None,
            webhook_secret=None,
            territory_news=["tafraout"],
            opportunity_news=[],
        )
    await places(service)
    published = envelope(PROJECT)
    async with service.uow as uow:
        await service.handlers.announce_project(published, uow)
        await uow.commit()
    assert service.news_woken == 1  # told after the event's commit, not in its transaction
    assert [row.kind for row in service.told("hana")] == ["welcome"]

    chunks = 0
    while await service.handlers.tell_news_chunk():
        chunks += 1
    assert chunks == 3  # five readers, two a transaction

    for reader in readers:
        [told] = [row for row in service.told(reader) if row.kind == "project_published"]
        assert told.title == "Un nouveau projet à Tafraout : Solar health post"
        [email] = [row for row in service.told(reader, "email") if row.kind == "project_published"]
        digest = service.repository.messages[email.message_id or ""].digest
        assert digest is (reader == "nadia")  # her e-mail waits for her daily digest
    for not_told in ("amina", "said"):
        assert "project_published" not in [row.kind for row in service.told(not_told)]
    delivered = [e for e in service.published(NotificationDelivered) if e.cause_event_id == published.id]
    assert sorted(e.member_id for e in delivered) == readers

    # The same event again (a redelivery the inbox did not catch): nobody is told twice.
    async with service.uow as uow:
        await service.handlers.announce_project(published, uow)
        await uow.commit()
    while await service.handlers.tell_news_chunk():
        pass
    for reader in readers:
        assert [row.kind for row in service.told(reader)].count("project_published") == 1


async def test_a_news_reader_whose_data_the_database_refuses_is_reported_failed_and_the_chunk_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = Service()
    readers = ["hana", "leila", "omar"]
    for known in ["amina", *readers]:
        await service.consume(service.handlers.welcome, member(known, known.title()))
        service.repository.preferences_rows[known] = PreferencesRow(
            member_id=known,
            channels={},
            digest="immediate",
            digest_hour=8,
            territory_news=["tafraout"],
            opportunity_news=[],
        )
    await places(service)
    add = service.repository.add_notification

    async def refuse_leila(values: dict[str, Any]) -> bool:
        if values["member_id"] == "leila" and values["kind"] == "project_published":
            raise DataError("INSERT INTO notifications ...", {}, Exception("value too long"))
        return await add(values)

    monkeypatch.setattr(service.repository, "add_notification", refuse_leila)
    cause = await service.consume(service.handlers.announce_project, PROJECT)
    while await service.handlers.tell_news_chunk():
        pass

    for told in ("hana", "omar"):
        assert [row.kind for row in service.told(told)].count("project_published") == 1
    [failed] = service.published(NotificationFailed)
    assert failed.member_id == "leila" and failed.cause_event_id == cause.id and "DataError" in failed.error
