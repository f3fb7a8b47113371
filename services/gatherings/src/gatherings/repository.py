"""Loading and saving gatherings, registrations and the read models (territories, their managers,
members): the protocol the use cases see, and its SQLAlchemy implementation."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Protocol

from passerelle.persistence.database import FOREVER
from sqlalchemy import ColumnElement, Select, String, and_, delete, func, literal, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import (
    ACTIVE,
    CONFIRMED,
    ERASED_KIND,
    ERASED_ORGANISER,
    WAITLISTED,
    Gathering,
    MemberFacts,
    Registration,
)
from .orm import FeedRow, GatheringRow, MemberFactsRow, RegistrationRow, TerritoryManagerRow, TerritoryRow

_GATHERING_FIELDS = [f.name for f in fields(Gathering)]
_REGISTRATION_FIELDS = [f.name for f in fields(Registration)]


@dataclass(frozen=True)
class GatheringSearch:
    territory_id: str | None = None  # this territory and every one under it
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    kind: str | None = None
    format: str | None = None
    language: str | None = None
    statuses: Collection[str] = ("published", "cancelled", "closed")


class GatheringsRepository(Protocol):
    async def gathering(self, gathering_id: str, *, for_update: bool = False) -> Gathering | None: ...
    async def save_gathering(self, gathering: Gathering) -> None: ...
    async def search(
        self, wanted: GatheringSearch, limit: int, offset: int
    ) -> tuple[list[Gathering], int]: ...
    async def registration(self, registration_id: str) -> Registration | None: ...
    async def registrations(self, gathering_id: str) -> list[Registration]: ...
    async def active_registration(self, gathering_id: str, member_id: str) -> Registration | None: ...
    async def by_code(self, gathering_id: str, code: str) -> Registration | None: ...
    async def holding_places(self, gathering_id: str, pool: str | None) -> int: ...
    async def first_waiting(self, gathering_id: str, pool: str | None) -> Registration | None: ...
    async def waiting_before(self, registration: Registration) -> int: ...
    async def save_registration(self, registration: Registration) -> None: ...
    async def registrations_of(self, member_id: str) -> list[tuple[Registration, Gathering]]: ...
    async def due_reminders(
        self, now: datetime, ahead: timedelta, limit: int
    ) -> list[tuple[Registration, Gathering]]: ...
    async def remember_territory(self, territory_id: str, parent_id: str | None) -> None: ...
    async def territory_known(self, territory_id: str) -> bool: ...
    async def lineage(self, territory_id: str) -> list[str]: ...
    async def name_manager(self, territory_id: str, sub: str, role: str) -> None: ...
    async def remove_manager(self, territory_id: str, sub: str, role: str) -> None: ...
    async def manages_any(self, sub: str, territory_ids: Collection[str]) -> bool: ...
    async def member(self, member_id: str) -> MemberFacts | None: ...
    async def members(self, member_ids: Collection[str]) -> dict[str, MemberFacts]: ...
    async def remember_member(self, facts: MemberFacts, as_of: datetime) -> None: ...
    async def forget_member(self, member_id: str) -> list[Registration]: ...
    async def feed_token(self, member_id: str) -> str: ...
    async def feed_member(self, token: str) -> str | None: ...


def _gathering(row: GatheringRow) -> Gathering:
    return Gathering(**{name: getattr(row, name) for name in _GATHERING_FIELDS})


def _registration(row: RegistrationRow) -> Registration:
    return Registration(**{name: getattr(row, name) for name in _REGISTRATION_FIELDS})


def _in_pool(pool: str | None) -> ColumnElement[bool]:
    return true() if pool is None else RegistrationRow.attendance == pool


def descendants_query(territory_id: str) -> Select[tuple[str]]:
    """The territory and every territory under it."""
    tree = (
        select(TerritoryRow.territory_id).where(TerritoryRow.territory_id == territory_id).cte(recursive=True)
    )
    tree = tree.union_all(
        select(TerritoryRow.territory_id).where(TerritoryRow.parent_id == tree.c.territory_id)
    )
    return select(tree.c.territory_id)


class SqlGatheringsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Gatherings

    async def gathering(self, gathering_id: str, *, for_update: bool = False) -> Gathering | None:
        """`for_update` locks the row until the unit of work ends: registrations to one gathering
        wait for one another, so that its places are counted one at a time."""
        row = await self.session.get(GatheringRow, gathering_id, with_for_update=for_update)
        return _gathering(row) if row else None

    async def save_gathering(self, gathering: Gathering) -> None:
        await self.session.merge(GatheringRow(**asdict(gathering)))

    async def search(self, wanted: GatheringSearch, limit: int, offset: int) -> tuple[list[Gathering], int]:
        conditions: list[ColumnElement[bool]] = [GatheringRow.status.in_(list(wanted.statuses))]
        if wanted.territory_id:
            conditions.append(GatheringRow.territory_id.in_(descendants_query(wanted.territory_id)))
        if wanted.starts_from:
            conditions.append(GatheringRow.ends_at >= wanted.starts_from)
        if wanted.starts_before:
            conditions.append(GatheringRow.starts_at < wanted.starts_before)
        if wanted.kind:
            conditions.append(GatheringRow.kind == wanted.kind)
        if wanted.format:
            conditions.append(GatheringRow.format == wanted.format)
        if wanted.language:
            conditions.append(GatheringRow.languages.contains([wanted.language]))
        where = and_(true(), *conditions)
        total = await self.session.scalar(select(func.count()).select_from(GatheringRow).where(where))
        rows = await self.session.scalars(
            select(GatheringRow)
            .where(where)
            .order_by(GatheringRow.starts_at, GatheringRow.gathering_id)
            .limit(limit)
            .offset(offset)
        )
        return [_gathering(row) for row in rows], total or 0

    # Registrations

    async def registration(self, registration_id: str) -> Registration | None:
        row = await self.session.get(RegistrationRow, registration_id)
        return _registration(row) if row else None

    async def registrations(self, gathering_id: str) -> list[Registration]:
        query = select(RegistrationRow).where(RegistrationRow.gathering_id == gathering_id)
        return [
            _registration(row) for row in await self.session.scalars(query.order_by(RegistrationRow.position))
        ]

    async def active_registration(self, gathering_id: str, member_id: str) -> Registration | None:
        row = await self.session.scalar(
            select(RegistrationRow).where(
                RegistrationRow.gathering_id == gathering_id,
                RegistrationRow.member_id == member_id,
                RegistrationRow.status.in_(ACTIVE),
            )
        )
        return _registration(row) if row else None

    async def by_code(self, gathering_id: str, code: str) -> Registration | None:
        row = await self.session.scalar(
            select(RegistrationRow).where(
                RegistrationRow.gathering_id == gathering_id, RegistrationRow.code == code
            )
        )
        return _registration(row) if row else None

    async def holding_places(self, gathering_id: str, pool: str | None) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(RegistrationRow)
            .where(
                RegistrationRow.gathering_id == gathering_id,
                RegistrationRow.status.in_((CONFIRMED, "attended")),
                _in_pool(pool),
            )
        )
        return count or 0

    async def first_waiting(self, gathering_id: str, pool: str | None) -> Registration | None:
        row = await self.session.scalar(
            select(RegistrationRow)
            .where(
                RegistrationRow.gathering_id == gathering_id,
                RegistrationRow.status == WAITLISTED,
                _in_pool(pool),
            )
            .order_by(RegistrationRow.position)
            .limit(1)
        )
        return _registration(row) if row else None

    async def waiting_before(self, registration: Registration) -> int:
        """How many wait ahead of this registration in its gathering."""
        mine = select(RegistrationRow.position).where(
            RegistrationRow.registration_id == registration.registration_id
        )
        count = await self.session.scalar(
            select(func.count())
            .select_from(RegistrationRow)
            .where(
                RegistrationRow.gathering_id == registration.gathering_id,
                RegistrationRow.status == WAITLISTED,
                RegistrationRow.position < mine.scalar_subquery(),
            )
        )
        return count or 0

    async def save_registration(self, registration: Registration) -> None:
        await self.session.merge(RegistrationRow(**asdict(registration)))
        await self.session.flush()  # its position is given by the database, in order

    async def registrations_of(self, member_id: str) -> list[tuple[Registration, Gathering]]:
        """The member's registrations that hold or await a place, with their gatherings, soonest first."""
        query = (
            select(RegistrationRow, GatheringRow)
            .join(GatheringRow, GatheringRow.gathering_id == RegistrationRow.gathering_id)
            .where(RegistrationRow.member_id == member_id, RegistrationRow.status.in_(ACTIVE))
            .order_by(GatheringRow.starts_at)
        )
        return [(_registration(r), _gathering(g)) for r, g in await self.session.execute(query)]

    async def due_reminders(
        self, now: datetime, ahead: timedelta, limit: int
    ) -> list[tuple[Registration, Gathering]]:
        """Confirmed registrations of published gatherings starting within `ahead` of `now` whose
        members were not reminded of this start time; locked, skipping those another process holds."""
        query = (
            select(RegistrationRow, GatheringRow)
            .join(GatheringRow, GatheringRow.gathering_id == RegistrationRow.gathering_id)
            .where(
                GatheringRow.status == "published",
                RegistrationRow.status == CONFIRMED,
                GatheringRow.starts_at > now,
                GatheringRow.starts_at <= now + ahead,
                or_(
                    RegistrationRow.reminded_for.is_(None),
                    RegistrationRow.reminded_for != GatheringRow.starts_at,
                ),
            )
            .order_by(GatheringRow.starts_at, RegistrationRow.position)
            .limit(limit)
            .with_for_update(of=RegistrationRow, skip_locked=True)
        )
        return [(_registration(r), _gathering(g)) for r, g in await self.session.execute(query)]

    # Territories and their managers

    async def remember_territory(self, territory_id: str, parent_id: str | None) -> None:
        statement = insert(TerritoryRow).values(territory_id=territory_id, parent_id=parent_id)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[TerritoryRow.territory_id], set_={"parent_id": parent_id}
            )
        )

    async def territory_known(self, territory_id: str) -> bool:
        return await self.session.get(TerritoryRow, territory_id) is not None

    async def lineage(self, territory_id: str) -> list[str]:
        """The territory and every territory above it."""
        chain = (
            select(TerritoryRow.territory_id, TerritoryRow.parent_id)
            .where(TerritoryRow.territory_id == territory_id)
            .cte(recursive=True)
        )
        chain = chain.union_all(
            select(TerritoryRow.territory_id, TerritoryRow.parent_id).where(
                TerritoryRow.territory_id == chain.c.parent_id
            )
        )
        return list(await self.session.scalars(select(chain.c.territory_id)))

    async def name_manager(self, territory_id: str, sub: str, role: str) -> None:
        statement = insert(TerritoryManagerRow).values(territory_id=territory_id, sub=sub, role=role)
        await self.session.execute(statement.on_conflict_do_nothing())

    async def remove_manager(self, territory_id: str, sub: str, role: str) -> None:
        await self.session.execute(
            delete(TerritoryManagerRow).where(
                TerritoryManagerRow.territory_id == territory_id,
                TerritoryManagerRow.sub == sub,
                TerritoryManagerRow.role == role,
            )
        )

    async def manages_any(self, sub: str, territory_ids: Collection[str]) -> bool:
        query = select(TerritoryManagerRow.sub).where(
            TerritoryManagerRow.sub == sub, TerritoryManagerRow.territory_id.in_(list(territory_ids))
        )
        return await self.session.scalar(query.limit(1)) is not None

    # Members

    async def member(self, member_id: str) -> MemberFacts | None:
        return (await self.members([member_id])).get(member_id)

    async def members(self, member_ids: Collection[str]) -> dict[str, MemberFacts]:
        rows = await self.session.scalars(
            select(MemberFactsRow).where(MemberFactsRow.member_id.in_(list(member_ids)))
        )
        return {
            row.member_id: MemberFacts(row.member_id, row.kind, row.display_name, row.managers)
            for row in rows
        }

    async def remember_member(self, facts: MemberFacts, as_of: datetime) -> None:
        """Keep the newest facts whatever order the events arrive in; an erasure is final."""
        statement = insert(MemberFactsRow).values(**asdict(facts), as_of=as_of)
        statement = statement.on_conflict_do_update(
            index_elements=[MemberFactsRow.member_id],
            set_={
                "kind": statement.excluded.kind,
                "display_name": statement.excluded.display_name,
                "managers": statement.excluded.managers,
                "as_of": as_of,
            },
            where=MemberFactsRow.as_of < statement.excluded.as_of,
        )
        await self.session.execute(statement)

    async def forget_member(self, member_id: str) -> list[Registration]:
        """Delete the member's registrations, calendar link and name; the gatherings they organised
        stay, organised by the erased marker. Returns the registrations that were deleted."""
        await self.remember_member(MemberFacts(member_id, ERASED_KIND, "", []), as_of=FOREVER)
        removed = await self.session.scalars(
            delete(RegistrationRow).where(RegistrationRow.member_id == member_id).returning(RegistrationRow)
        )
        registrations = [_registration(row) for row in removed]
        await self.session.execute(delete(FeedRow).where(FeedRow.member_id == member_id))
        await self.session.execute(
            update(GatheringRow)
            .where(GatheringRow.organiser_member_id == member_id)
            .values(organiser_member_id=ERASED_ORGANISER)
        )
        await self.session.execute(
            update(GatheringRow)
            .where(GatheringRow.co_organiser_member_ids.contains([member_id]))
            .values(
                co_organiser_member_ids=GatheringRow.co_organiser_member_ids.op("-")(
                    literal(member_id, String())
                )
            )
        )
        await self.session.execute(
            update(MemberFactsRow)
            .where(MemberFactsRow.managers.contains([member_id]))
            .values(managers=MemberFactsRow.managers.op("-")(literal(member_id, String())))
        )
        await self.session.execute(delete(TerritoryManagerRow).where(TerritoryManagerRow.sub == member_id))
        return registrations

    # Calendar feeds

    async def feed_token(self, member_id: str) -> str:
        statement = insert(FeedRow).values(member_id=member_id, token=secrets.token_urlsafe(32))
        await self.session.execute(statement.on_conflict_do_nothing())
        token = await self.session.scalar(select(FeedRow.token).where(FeedRow.member_id == member_id))
        assert token is not None
        return token

    async def feed_member(self, token: str) -> str | None:
        return await self.session.scalar(select(FeedRow.member_id).where(FeedRow.token == token))
