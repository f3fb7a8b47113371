"""Use cases of the gatherings service: one unit of work each; they raise passerelle.errors and know
no HTTP and no messaging."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from passerelle.contracts import (
    AttendanceRecorded,
    GatheringCancelled,
    GatheringClosed,
    GatheringScheduled,
    GatheringUpdated,
    MemberProfile,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationReminderDue,
    RegistrationWaitlisted,
)
from passerelle.errors import Conflict, Forbidden, IllegalTransition, InvalidField, NotFound
from passerelle.identity import ERASED_IDENTITY, Identity, grantee_fault
from passerelle.unit_of_work import UnitOfWork

from . import domain
from .commands import ChangeGathering, CloseGathering, CreateGathering, Register
from .config import GatheringsSettings
from .domain import (
    ATTENDED,
    CONFIRMED,
    DRAFT,
    HOLDING_A_PLACE,
    PUBLISHED,
    WITHDRAWN,
    Gathering,
    MemberFacts,
    Registration,
)
from .repository import GatheringSearch, GatheringsRepository

GatheringsUnitOfWork = UnitOfWork[GatheringsRepository]
Clock = Callable[[], datetime]
MAY_NOT_ACT = "only the gathering's organisers, a manager of its territory or above, or an operator act on it"
REMINDERS_PER_ROUND = 200


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class GatheringView:
    """A gathering as one caller sees it: whether they may act on it, their own registration, and
    how many hold and await a place."""

    gathering: Gathering
    may_act: bool
    mine: Registration | None
    confirmed: int
    waitlisted: int

    @property
    def sees_online_url(self) -> bool:
        return self.may_act or (self.mine is not None and self.mine.status in HOLDING_A_PLACE)


@dataclass(frozen=True)
class Registered:
    registration: Registration
    position: int | None  # on the waitlist: 1 is the next to get a place


class GatheringsHandlers:
    def __init__(
        self, units: Callable[[], GatheringsUnitOfWork], settings: GatheringsSettings, clock: Clock = _now
    ) -> None:
        self.units = units
        self.settings = settings
        self.clock = clock

    # Gatherings

    async def create(self, identity: Identity, command: CreateGathering) -> Gathering:
        async with self.units() as uow:
            repository = uow.repository
            actor = await _actor(repository, identity)
            if not await repository.territory_known(command.territory_id):
                raise InvalidField("territory_id", f"territory {command.territory_id} does not exist")
            organiser = command.organiser_member_id or actor.sub
            await _authorize_organiser(repository, actor, organiser, command.territory_id)
            for index, member_id in enumerate(command.co_organiser_member_ids):
                await _check_grantee(repository, f"co_organiser_member_ids.{index}", member_id)
            gathering = domain.create(organiser, command, self.clock())
            await repository.save_gathering(gathering)
            await uow.commit()
        return gathering

    async def read(self, identity: Identity, gathering_id: str) -> GatheringView:
        async with self.units() as uow:
            repository = uow.repository
            gathering = await _load(repository, gathering_id)
            reader = await _reader(repository, identity)
            may_act = reader is not None and await _may_act(repository, reader, gathering)
            if gathering.status == DRAFT and not may_act:
                raise Forbidden("a draft is visible only to those who may act on it")
            registrations = await repository.registrations(gathering_id)
            mine = next(
                (r for r in registrations if reader and r.member_id == reader.sub and r.status != WITHDRAWN),
                None,
            )
            return GatheringView(
                gathering,
                may_act,
                mine,
                confirmed=sum(r.status in HOLDING_A_PLACE for r in registrations),
                waitlisted=sum(r.status == domain.WAITLISTED for r in registrations),
            )

    async def search(self, wanted: GatheringSearch, limit: int, offset: int) -> tuple[list[Gathering], int]:
        """Published, cancelled and closed gatherings, soonest first; a territory includes those under it."""
        async with self.units() as uow:
            repository = uow.repository
            if wanted.territory_id and not await repository.territory_known(wanted.territory_id):
                raise InvalidField("territory_id", f"territory {wanted.territory_id} does not exist")
            return await repository.search(wanted, limit, offset)

    async def change(self, identity: Identity, gathering_id: str, command: ChangeGathering) -> Gathering:
        """A draft changes freely; a published gathering tells what changed (GatheringUpdated), and
        places it gains go to those waiting."""
        async with self.units() as uow:
            repository = uow.repository
            before = await _load_for_action(repository, identity, gathering_id)
            after, changed = before.changed(command)
            if not changed:
                return before
            if "co_organiser_member_ids" in changed:
                for index, member_id in enumerate(after.co_organiser_member_ids):
                    await _check_grantee(repository, f"co_organiser_member_ids.{index}", member_id)
            await repository.save_gathering(after)
            if after.status == PUBLISHED:
                uow.record(GatheringUpdated(**after.snapshot(), changed=changed))
                await _fill_places(uow, after)
            await uow.commit()
        return after

    async def publish(self, identity: Identity, gathering_id: str) -> Gathering:
        async with self.units() as uow:
            gathering = await _load_for_action(uow.repository, identity, gathering_id)
            gathering = gathering.publish(self.clock())
            await uow.repository.save_gathering(gathering)
            uow.record(GatheringScheduled(**gathering.snapshot()))
            await uow.commit()
        return gathering

    async def cancel(self, identity: Identity, gathering_id: str, reason: str) -> Gathering:
        async with self.units() as uow:
            gathering = await _load_for_action(uow.repository, identity, gathering_id)
            gathering = gathering.cancel(reason)
            await uow.repository.save_gathering(gathering)
            uow.record(GatheringCancelled(gathering_id=gathering_id, reason=reason))
            await uow.commit()
        return gathering

    async def close(self, identity: Identity, gathering_id: str, report: CloseGathering) -> Gathering:
        async with self.units() as uow:
            gathering = await _load_for_action(uow.repository, identity, gathering_id)
            gathering = gathering.close(report, self.clock())
            await uow.repository.save_gathering(gathering)
            uow.record(
                GatheringClosed(
                    gathering_id=gathering_id,
                    registered=gathering.attended,
                    walk_ins=gathering.walk_ins,
                    attendance=gathering.attended + gathering.walk_ins,
                    summary=gathering.summary,
                    outcomes=gathering.outcomes,
                )
            )
            await uow.commit()
        return gathering

    # Registrations

    async def register(self, identity: Identity, gathering_id: str, command: Register) -> Registered:
        """A place while places remain (and nobody waits for one), else the waitlist. The gathering's
        row is locked meanwhile: concurrent registrations count its places one at a time."""
        async with self.units() as uow:
            repository = uow.repository
            actor = await _actor(repository, identity)
            member_id = command.member_id or actor.sub
            await _authorize_for_member(repository, actor, member_id)
            gathering = await _load(repository, gathering_id, for_update=True)
            gathering.check_registration_open(self.clock())
            attendance = gathering.attendance_of(command.attendance)
            if await repository.active_registration(gathering_id, member_id) is not None:
                raise Conflict(f"member {member_id} is already registered for this gathering")
            pool = gathering.pool(attendance)
            place = gathering.has_place(pool, await repository.holding_places(gathering_id, pool))
            place = place and await repository.first_waiting(gathering_id, pool) is None
            registration = domain.register(gathering, member_id, attendance, place=place, now=self.clock())
            await repository.save_registration(registration)
            facts = _registration_facts(registration)
            position = None
            if place:
                uow.record(RegistrationConfirmed(**facts))
            else:
                position = await repository.waiting_before(registration) + 1
                uow.record(RegistrationWaitlisted(**facts, position=position))
            await uow.commit()
        return Registered(registration, position)

    async def cancel_registration(self, identity: Identity, gathering_id: str, registration_id: str) -> None:
        """Withdraw a registration; a place it held goes to the first waiting, once: a registration
        already withdrawn (a retried request) changes nothing."""
        async with self.units() as uow:
            repository = uow.repository
            actor = await _actor(repository, identity)
            gathering = await _load(repository, gathering_id, for_update=True)
            registration = await repository.registration(registration_id)
            if registration is None or registration.gathering_id != gathering_id:
                raise NotFound("registration", registration_id)
            if not await _may_act_for_member(
                repository, actor, registration.member_id
            ) and not await _may_act(repository, actor, gathering):
                raise Forbidden(
                    "only the registrant, who acts for them, or the organisers withdraw a registration"
                )
            if registration.status == WITHDRAWN:
                return
            if gathering.status != PUBLISHED:
                raise IllegalTransition(f"this gathering is {gathering.status}: its registrations stay")
            withdrawn = registration.withdrawn()
            await repository.save_registration(withdrawn)
            uow.record(RegistrationCancelled(**_registration_facts(withdrawn), was=registration.status))
            await _fill_places(uow, gathering)
            await uow.commit()

    async def check_in(self, identity: Identity, gathering_id: str, code: str) -> Registration:
        """An organiser records who came, by the code of their registration."""
        async with self.units() as uow:
            repository = uow.repository
            gathering = await _load_for_action(repository, identity, gathering_id)
            if gathering.status != PUBLISHED:
                raise IllegalTransition(
                    f"check-in is for published gatherings; this one is {gathering.status}"
                )
            registration = await repository.by_code(gathering_id, code)
            if registration is None:
                raise InvalidField("code", "no registration to this gathering has this code")
            if registration.status == ATTENDED:
                return registration
            if registration.status != CONFIRMED:
                raise IllegalTransition(
                    f"this registration is {registration.status}: count the person as a walk-in"
                )
            attended = replace(registration, status=ATTENDED)
            await repository.save_registration(attended)
            await repository.save_gathering(replace(gathering, attended=gathering.attended + 1))
            uow.record(AttendanceRecorded(**_registration_facts(attended)))
            await uow.commit()
        return attended

    async def registrations(
        self, identity: Identity, gathering_id: str
    ) -> list[tuple[Registration, MemberFacts | None]]:
        """Every registration, in order, with the member's name: for those who may act."""
        async with self.units() as uow:
            repository = uow.repository
            await _load_for_action(repository, identity, gathering_id, for_update=False)
            registrations = await repository.registrations(gathering_id)
            members = await repository.members({r.member_id for r in registrations})
            return [(r, members.get(r.member_id)) for r in registrations]

    async def registrations_of(
        self, identity: Identity, member_id: str
    ) -> list[tuple[Registration, Gathering]]:
        async with self.units() as uow:
            repository = uow.repository
            actor = await _actor(repository, identity)
            if not await _may_act_for_member(repository, actor, member_id):
                raise Forbidden(f"you do not act for member {member_id}")
            return await repository.registrations_of(member_id)

    # Calendars

    async def feed_token(self, identity: Identity, member_id: str) -> str:
        """The member's private calendar link, made on first use."""
        async with self.units() as uow:
            repository = uow.repository
            actor = await _actor(repository, identity)
            await _authorize_for_member(repository, actor, member_id)
            token = await repository.feed_token(member_id)
            await uow.commit()
        return token

    async def feed(self, token: str) -> list[tuple[Registration, Gathering]]:
        async with self.units() as uow:
            member_id = await uow.repository.feed_member(token)
            if member_id is None:
                raise NotFound("calendar", "of this link")
            return await uow.repository.registrations_of(member_id)

    # Reminders

    async def remind(self) -> int:
        """Announce the reminders due now (RegistrationReminderDue), once per registration and start
        time; returns how many. Replicas share the work: each skips the rows another holds."""
        async with self.units() as uow:
            ahead = timedelta(hours=self.settings.reminder_hours)
            due = await uow.repository.due_reminders(self.clock(), ahead, REMINDERS_PER_ROUND)
            for registration, gathering in due:
                await uow.repository.save_registration(
                    replace(registration, reminded_for=gathering.starts_at)
                )
                uow.record(
                    RegistrationReminderDue(
                        **_registration_facts(registration), starts_at=gathering.starts_at
                    )
                )
            await uow.commit()
        return len(due)

    # What gatherings learns from the other services

    async def remember_member(
        self, profile: MemberProfile, as_of: datetime, uow: GatheringsUnitOfWork
    ) -> None:
        facts = MemberFacts(profile.member_id, profile.kind, profile.display_name, list(profile.managers))
        await uow.repository.remember_member(facts, as_of=as_of)

    async def remember_territory(
        self, territory_id: str, parent_id: str | None, uow: GatheringsUnitOfWork
    ) -> None:
        await uow.repository.remember_territory(territory_id, parent_id)

    async def manager_named(self, territory_id: str, sub: str, role: str, uow: GatheringsUnitOfWork) -> None:
        await uow.repository.name_manager(territory_id, sub, role)

    async def manager_removed(
        self, territory_id: str, sub: str, role: str, uow: GatheringsUnitOfWork
    ) -> None:
        await uow.repository.remove_manager(territory_id, sub, role)

    async def forget_member(self, member_id: str, uow: GatheringsUnitOfWork) -> None:
        """An erased member's registrations go (CONTRACT.md 4.1); the places they held go to those
        waiting; the attendance counts of gatherings stay. The consumer commits."""
        repository = uow.repository
        removed = await repository.forget_member(member_id)
        for gathering_id in sorted({r.gathering_id for r in removed if r.status == CONFIRMED}):
            gathering = await _load(repository, gathering_id, for_update=True)
            if gathering.status == PUBLISHED:
                await _fill_places(uow, gathering)


async def _fill_places(uow: GatheringsUnitOfWork, gathering: Gathering) -> None:
    """Give free places to those waiting, first come first served, one promotion per place."""
    repository = uow.repository
    pools = [None] if gathering.online_capacity is None else ["in_person", "online"]
    for pool in pools:
        while gathering.has_place(pool, await repository.holding_places(gathering.gathering_id, pool)):
            waiting = await repository.first_waiting(gathering.gathering_id, pool)
            if waiting is None:
                break
            promoted = replace(waiting, status=CONFIRMED)
            await repository.save_registration(promoted)
            uow.record(RegistrationPromoted(**_registration_facts(promoted)))


def _registration_facts(registration: Registration) -> dict[str, str]:
    return {
        "registration_id": registration.registration_id,
        "gathering_id": registration.gathering_id,
        "member_id": registration.member_id,
        "attendance": registration.attendance,
    }


async def _load(
    repository: GatheringsRepository, gathering_id: str, *, for_update: bool = False
) -> Gathering:
    gathering = await repository.gathering(gathering_id, for_update=for_update)
    if gathering is None:
        raise NotFound("gathering", gathering_id)
    return gathering


async def _load_for_action(
    repository: GatheringsRepository, identity: Identity, gathering_id: str, *, for_update: bool = True
) -> Gathering:
    actor = await _actor(repository, identity)
    gathering = await _load(repository, gathering_id, for_update=for_update)
    if not await _may_act(repository, actor, gathering):
        raise Forbidden(MAY_NOT_ACT)
    return gathering


async def _reader(repository: GatheringsRepository, identity: Identity) -> Identity | None:
    """An erased identity's token, valid until it expires, reads as nobody's and acts on nothing."""
    member = await repository.member(identity.sub)
    return None if member is not None and member.erased else identity


async def _actor(repository: GatheringsRepository, identity: Identity) -> Identity:
    actor = await _reader(repository, identity)
    if actor is None:
        raise Forbidden(ERASED_IDENTITY)
    return actor


async def _was_erased(repository: GatheringsRepository, member_id: str) -> bool:
    member = await repository.member(member_id)
    return member is not None and member.erased


async def _check_grantee(repository: GatheringsRepository, field: str, sub: str) -> None:
    fault = await grantee_fault(sub, lambda member_id: _was_erased(repository, member_id))
    if fault is not None:
        raise InvalidField(field, f"{sub!r} cannot be named here: {fault}")


async def _may_act_for_member(repository: GatheringsRepository, actor: Identity, member_id: str) -> bool:
    """One acts for oneself and for the associations and local actors one manages; operators for all."""
    if actor.is_operator or actor.sub == member_id:
        return True
    member = await repository.member(member_id)
    return member is not None and member.may_act_for(actor.sub)


async def _authorize_for_member(repository: GatheringsRepository, actor: Identity, member_id: str) -> None:
    if member_id != actor.sub:
        await _check_grantee(repository, "member_id", member_id)
    if not await _may_act_for_member(repository, actor, member_id):
        raise Forbidden(f"you do not act for member {member_id}")


async def _authorize_organiser(
    repository: GatheringsRepository, actor: Identity, organiser: str, territory_id: str
) -> None:
    """A member organises for themselves or for a member they manage; a manager of the territory
    (or above) and an operator name any organiser."""
    if organiser != actor.sub:
        await _check_grantee(repository, "organiser_member_id", organiser)
    if await _may_act_for_member(repository, actor, organiser):
        return
    if not await repository.manages_any(actor.sub, await repository.lineage(territory_id)):
        raise Forbidden(f"you do not act for member {organiser}")


async def _may_act(repository: GatheringsRepository, actor: Identity, gathering: Gathering) -> bool:
    """Organisers (and who manages an organising association), managers of the territory or of one
    above it, and operators."""
    if actor.is_operator or actor.sub in gathering.organisers:
        return True
    organisers = await repository.members(gathering.organisers)
    if any(member.may_act_for(actor.sub) for member in organisers.values()):
        return True
    return await repository.manages_any(actor.sub, await repository.lineage(gathering.territory_id))
