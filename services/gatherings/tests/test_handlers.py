"""The gatherings service's use cases, on an in-memory repository: milliseconds, no NATS, no PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gatherings.commands import ChangeGathering, CreateGathering, Register
from gatherings.config import GatheringsSettings
from gatherings.domain import ACTIVE, CONFIRMED, ERASED_KIND, WAITLISTED, Gathering, MemberFacts, Registration
from gatherings.handlers import GatheringsHandlers
from gatherings.repository import GatheringSearch
from passerelle.contracts import RegistrationPromoted, RegistrationReminderDue
from passerelle.errors import Conflict, Forbidden, InvalidField
from passerelle.identity import Identity
from passerelle.unit_of_work import InMemoryUnitOfWork

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
STARTS = NOW + timedelta(days=7)


def member(sub: str, *roles: str) -> Identity:
    return Identity(sub=sub, roles=frozenset(roles or {"member"}))


FATIMA, YOUSSEF, HASSAN, LEILA = (member(name) for name in ("fatima", "youssef", "hassan", "leila"))


class InMemoryGatherings:
    """The repository's protocol over dicts; what a unit of work did not commit is still visible,
    which the use cases never rely on."""

    def __init__(self) -> None:
        self.gatherings: dict[str, Gathering] = {}
        self.saved: dict[str, Registration] = {}
        self.order: dict[str, int] = {}
        self.positions = itertools.count(1)
        self.parents: dict[str, str | None] = {"tafraout": "souss", "souss": None}
        self.managers: set[tuple[str, str]] = set()
        self.facts: dict[str, MemberFacts] = {}
        self.feeds: dict[str, str] = {}

    async def gathering(self, gathering_id: str, *, for_update: bool = False) -> Gathering | None:
        return self.gatherings.get(gathering_id)

    async def save_gathering(self, gathering: Gathering) -> None:
        self.gatherings[gathering.gathering_id] = gathering

    async def search(self, wanted: GatheringSearch, limit: int, offset: int) -> tuple[list[Gathering], int]:
        found = [g for g in self.gatherings.values() if g.status in wanted.statuses]
        return found[offset : offset + limit], len(found)

    def _of(self, gathering_id: str) -> list[Registration]:
        found = [r for r in self.saved.values() if r.gathering_id == gathering_id]
        return sorted(found, key=lambda r: self.order[r.registration_id])

    async def registration(self, registration_id: str) -> Registration | None:
        return self.saved.get(registration_id)

    async def registrations(self, gathering_id: str) -> list[Registration]:
        return self._of(gathering_id)

    async def active_registration(self, gathering_id: str, member_id: str) -> Registration | None:
        return next(
            (r for r in self._of(gathering_id) if r.member_id == member_id and r.status in ACTIVE), None
        )

    async def by_code(self, gathering_id: str, code: str) -> Registration | None:
        return next((r for r in self._of(gathering_id) if r.code == code), None)

    async def holding_places(self, gathering_id: str, pool: str | None) -> int:
        return sum(
            r.status in ("confirmed", "attended") and pool in (None, r.attendance)
            for r in self._of(gathering_id)
        )

    async def first_waiting(self, gathering_id: str, pool: str | None) -> Registration | None:
        waiting = (
            r for r in self._of(gathering_id) if r.status == WAITLISTED and pool in (None, r.attendance)
        )
        return next(waiting, None)

    async def waiting_before(self, registration: Registration) -> int:
        mine = self.order[registration.registration_id]
        waiting = [r for r in self._of(registration.gathering_id) if r.status == WAITLISTED]
        return sum(self.order[r.registration_id] < mine for r in waiting)

    async def save_registration(self, registration: Registration) -> None:
        self.order.setdefault(registration.registration_id, next(self.positions))
        self.saved[registration.registration_id] = registration

    async def registrations_of(self, member_id: str) -> list[tuple[Registration, Gathering]]:
        mine = [r for r in self.saved.values() if r.member_id == member_id and r.status in ACTIVE]
        return [(r, self.gatherings[r.gathering_id]) for r in mine]

    async def due_reminders(
        self, now: datetime, ahead: timedelta, limit: int
    ) -> list[tuple[Registration, Gathering]]:
        due = []
        for registration in self.saved.values():
            gathering = self.gatherings[registration.gathering_id]
            if (
                gathering.status == "published"
                and registration.status == CONFIRMED
                and now < gathering.starts_at <= now + ahead
                and registration.reminded_for != gathering.starts_at
            ):
                due.append((registration, gathering))
        return due[:limit]

    async def remember_territory(self, territory_id: str, parent_id: str | None) -> None:
        self.parents[territory_id] = parent_id

    async def territory_known(self, territory_id: str) -> bool:
        return territory_id in self.parents

    async def lineage(self, territory_id: str) -> list[str]:
        chain: list[str] = []
        current: str | None = territory_id
        while current is not None:
            chain.append(current)
            current = self.parents.get(current)
        return chain

    async def name_manager(self, territory_id: str, sub: str, role: str) -> None:
        self.managers.add((territory_id, sub))

    async def remove_manager(self, territory_id: str, sub: str, role: str) -> None:
        self.managers.discard((territory_id, sub))

    async def manages_any(self, sub: str, territory_ids: Collection[str]) -> bool:
        return any((territory_id, sub) in self.managers for territory_id in territory_ids)

    async def member(self, member_id: str) -> MemberFacts | None:
        return self.facts.get(member_id)

    async def members(self, member_ids: Collection[str]) -> dict[str, MemberFacts]:
        return {m: self.facts[m] for m in member_ids if m in self.facts}

    async def remember_member(self, facts: MemberFacts, as_of: datetime) -> None:
        self.facts[facts.member_id] = facts

    async def forget_member(self, member_id: str) -> list[Registration]:
        self.facts[member_id] = MemberFacts(member_id, ERASED_KIND, "", [])
        removed = [r for r in self.saved.values() if r.member_id == member_id]
        for registration in removed:
            del self.saved[registration.registration_id]
        return removed

    async def feed_token(self, member_id: str) -> str:
        return self.feeds.setdefault(member_id, f"token-of-{member_id}")

    async def feed_member(self, token: str) -> str | None:
        return next((m for m, t in self.feeds.items() if t == token), None)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def uow() -> InMemoryUnitOfWork[InMemoryGatherings]:
    return InMemoryUnitOfWork(InMemoryGatherings())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def handlers(uow: InMemoryUnitOfWork[InMemoryGatherings], clock: Clock) -> GatheringsHandlers:
    return GatheringsHandlers(lambda: uow, GatheringsSettings(reminder_hours=24), clock)


async def published(handlers: GatheringsHandlers, **overrides: Any) -> Gathering:
    fields: dict[str, Any] = {
        "territory_id": "tafraout",
        "kind": "information_session",
        "format": "hybrid",
        "title": "Investir au pays",
        "starts_at": STARTS,
        "ends_at": STARTS + timedelta(hours=2),
        "time_zone": "Africa/Casablanca",
        "venue": {"name": "Maison des jeunes", "city": "Tafraout", "country": "MA"},
        "online_url": "https://meet.example.org/tafraout",
        "capacity": 1,
        **overrides,
    }
    created = await handlers.create(FATIMA, CreateGathering(**fields))
    return await handlers.publish(FATIMA, created.gathering_id)


def kinds(uow: InMemoryUnitOfWork[InMemoryGatherings]) -> list[str]:
    return [type(event).__name__ for event in uow.published]


async def test_the_first_registrant_has_the_place_and_the_next_waits_in_order(
    handlers: GatheringsHandlers, uow: InMemoryUnitOfWork[InMemoryGatherings]
) -> None:
    gathering = await published(handlers)
    first = await handlers.register(YOUSSEF, gathering.gathering_id, Register())
    second = await handlers.register(HASSAN, gathering.gathering_id, Register())
    third = await handlers.register(LEILA, gathering.gathering_id, Register(attendance="online"))
    assert [r.registration.status for r in (first, second, third)] == [CONFIRMED, WAITLISTED, WAITLISTED]
    assert (first.position, second.position, third.position) == (None, 1, 2)
    assert kinds(uow)[1:] == ["RegistrationConfirmed", "RegistrationWaitlisted", "RegistrationWaitlisted"]
    with pytest.raises(Conflict):
        await handlers.register(YOUSSEF, gathering.gathering_id, Register())


async def test_a_withdrawal_promotes_the_first_waiting_once_and_a_repeated_one_changes_nothing(
    handlers: GatheringsHandlers, uow: InMemoryUnitOfWork[InMemoryGatherings]
) -> None:
    gathering = await published(handlers)
    first = await handlers.register(YOUSSEF, gathering.gathering_id, Register())
    await handlers.register(HASSAN, gathering.gathering_id, Register())
    await handlers.register(LEILA, gathering.gathering_id, Register())
    withdrawn = first.registration.registration_id
    with pytest.raises(Forbidden):
        await handlers.cancel_registration(HASSAN, gathering.gathering_id, withdrawn)
    await handlers.cancel_registration(YOUSSEF, gathering.gathering_id, withdrawn)
    await handlers.cancel_registration(YOUSSEF, gathering.gathering_id, withdrawn)
    promoted = [e for e in uow.published if isinstance(e, RegistrationPromoted)]
    assert [e.member_id for e in promoted] == ["hassan"]
    assert kinds(uow).count("RegistrationCancelled") == 1


async def test_online_places_counted_apart_go_to_those_waiting_online(
    handlers: GatheringsHandlers, uow: InMemoryUnitOfWork[InMemoryGatherings]
) -> None:
    gathering = await published(handlers, capacity=1, online_capacity=1)
    online = await handlers.register(YOUSSEF, gathering.gathering_id, Register(attendance="online"))
    in_person = await handlers.register(HASSAN, gathering.gathering_id, Register())
    waiting = await handlers.register(LEILA, gathering.gathering_id, Register(attendance="online"))
    assert [r.registration.status for r in (online, in_person, waiting)] == [CONFIRMED, CONFIRMED, WAITLISTED]
    await handlers.change(FATIMA, gathering.gathering_id, ChangeGathering(online_capacity=2))
    assert [e.member_id for e in uow.published if isinstance(e, RegistrationPromoted)] == ["leila"]


async def test_the_online_link_is_for_confirmed_registrants_and_those_who_act(
    handlers: GatheringsHandlers,
) -> None:
    gathering = await published(handlers)
    await handlers.register(YOUSSEF, gathering.gathering_id, Register())
    await handlers.register(HASSAN, gathering.gathering_id, Register())
    seen = {
        who.sub: (await handlers.read(who, gathering.gathering_id)).sees_online_url
        for who in (FATIMA, YOUSSEF, HASSAN, LEILA, member("ops", "operator"))
    }
    assert seen == {"fatima": True, "youssef": True, "hassan": False, "leila": False, "ops": True}


async def test_a_manager_of_a_territory_above_acts_on_the_gathering_and_a_member_does_not(
    handlers: GatheringsHandlers, uow: InMemoryUnitOfWork[InMemoryGatherings]
) -> None:
    gathering = await published(handlers)
    with pytest.raises(Forbidden):
        await handlers.cancel(LEILA, gathering.gathering_id, "no")
    await uow.repository.name_manager("souss", "amina", "territory_manager")
    cancelled = await handlers.cancel(member("amina"), gathering.gathering_id, "Storm warning")
    assert cancelled.status == "cancelled"


async def test_a_wrong_check_in_code_is_refused_and_a_right_one_counts_once(
    handlers: GatheringsHandlers, uow: InMemoryUnitOfWork[InMemoryGatherings]
) -> None:
    gathering = await published(handlers)
    registered = await handlers.register(YOUSSEF, gathering.gathering_id, Register())
    with pytest.raises(InvalidField, match="code"):
        await handlers.check_in(FATIMA, gathering.gathering_id, "NOPE42")
    for _ in range(2):
        await handlers.check_in(FATIMA, gathering.gathering_id, registered.registration.code)
    assert uow.repository.gatherings[gathering.gathering_id].attended == 1
    assert kinds(uow).count("AttendanceRecorded") == 1


async def test_a_reminder_is_announced_once_within_the_delay_and_again_when_the_gathering_moves(
    handlers: GatheringsHandlers, uow: InMemoryUnitOfWork[InMemoryGatherings], clock: Clock
) -> None:
    gathering = await published(handlers)
    await handlers.register(YOUSSEF, gathering.gathering_id, Register())
    clock.now = STARTS - timedelta(hours=25)
    assert await handlers.remind() == 0
    clock.now = STARTS - timedelta(hours=23)
    assert (await handlers.remind(), await handlers.remind()) == (1, 0)
    later = STARTS + timedelta(hours=2)
    await handlers.change(
        FATIMA, gathering.gathering_id, ChangeGathering(starts_at=later, ends_at=later + timedelta(hours=1))
    )
    assert await handlers.remind() == 0  # the new start is more than 24 hours away
    clock.now = later - timedelta(hours=23)
    assert await handlers.remind() == 1
    reminders = [e for e in uow.published if isinstance(e, RegistrationReminderDue)]
    assert [e.starts_at for e in reminders] == [STARTS, later]


async def test_an_erased_members_registrations_go_their_place_goes_on_and_attendance_stays(
    handlers: GatheringsHandlers, uow: InMemoryUnitOfWork[InMemoryGatherings]
) -> None:
    gathering = await published(handlers, capacity=2)
    youssef = await handlers.register(YOUSSEF, gathering.gathering_id, Register())
    await handlers.check_in(FATIMA, gathering.gathering_id, youssef.registration.code)
    hassan = await handlers.register(HASSAN, gathering.gathering_id, Register())
    await handlers.register(LEILA, gathering.gathering_id, Register())
    async with uow:
        await handlers.forget_member("hassan", uow)
        await uow.commit()
    assert hassan.registration.registration_id not in uow.repository.saved
    assert [e.member_id for e in uow.published if isinstance(e, RegistrationPromoted)] == ["leila"]
    async with uow:
        await handlers.forget_member("youssef", uow)
        await uow.commit()
    assert uow.repository.gatherings[gathering.gathering_id].attended == 1
    with pytest.raises(Forbidden):
        await handlers.register(YOUSSEF, gathering.gathering_id, Register())


async def test_an_association_is_organised_by_its_managers(
    handlers: GatheringsHandlers, uow: InMemoryUnitOfWork[InMemoryGatherings]
) -> None:
    await uow.repository.remember_member(
        MemberFacts("assoc", "association", "Tafraout Avenir", ["fatima"]), NOW
    )
    created = await handlers.create(
        FATIMA,
        CreateGathering(
            territory_id="tafraout",
            organiser_member_id="assoc",
            kind="forum",
            format="online",
            title="Forum",
            starts_at=STARTS,
            ends_at=STARTS + timedelta(hours=1),
            time_zone="Europe/Brussels",
            online_url="https://meet.example.org/forum",
        ),
    )
    assert created.organiser_member_id == "assoc"
    await handlers.publish(FATIMA, created.gathering_id)
    with pytest.raises(Forbidden):
        await handlers.create(YOUSSEF, replace_organiser(created, "assoc"))


def replace_organiser(gathering: Gathering, organiser: str) -> CreateGathering:
    return CreateGathering(
        territory_id=gathering.territory_id,
        organiser_member_id=organiser,
        kind="forum",
        format="online",
        title=gathering.title,
        starts_at=gathering.starts_at,
        ends_at=gathering.ends_at,
        time_zone=gathering.time_zone,
        online_url=gathering.online_url,
    )
