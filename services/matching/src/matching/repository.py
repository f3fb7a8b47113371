"""The matching service's rows: read models kept as the index holds them, and the matches.

`Repository` is what the use cases and the engine need of them; `MatchingRepository` keeps them in
PostgreSQL (tests use an in-memory fake).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime
from typing import Any, Protocol

from passerelle.contracts import ERASED_OWNER, MemberProfile, ProjectSnapshot, SkillOffered
from passerelle.persistence.database import FOREVER
from sqlalchemy import String, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import CLOSING, LIVE, Fit, Status
from .facts import (
    MemberFacts,
    OfferFacts,
    ProjectFacts,
    member_from_record,
    offer_from_record,
    project_from_row,
    reasons_json,
)
from .orm import (
    FilledNeedRow,
    MatchPassRow,
    MatchRow,
    MemberRow,
    OfferRow,
    ProjectRow,
    TerritoryManagerRow,
    TerritoryRow,
)

# What the index is built from: plain rows, JSON as text (parsed once per distinct value).
MEMBERS_QUERY = (
    "SELECT member_id, erased, languages::text, attachments::text, sectors::text, time_zone, "
    "managers::text, as_of FROM members"
)
OFFERS_QUERY = (
    "SELECT offer_id, member_id, skill, level, modes::text, languages::text, territory_ids::text, "
    "sectors::text, available_from, available_until, withdrawn, as_of FROM offers"
)
TOPS_QUERY = "SELECT need_id, offer_id, score, reasons::text FROM matches WHERE in_top"


class Repository(Protocol):
    """What matching's use cases and its engine read and write."""

    # Read models, as the index decides what is newest
    async def save_offer(self, offer: SkillOffered, as_of: datetime) -> None: ...
    async def withdraw_offer(self, offer_id: str, member_id: str) -> None: ...
    async def save_member(self, member: MemberProfile, as_of: datetime) -> None: ...
    async def erase_member(self, member_id: str) -> None: ...
    async def save_project(self, project: ProjectSnapshot, as_of: datetime) -> None: ...
    async def close_project(self, project_id: str) -> None: ...
    async def save_territory(self, territory_id: str, parent_id: str | None, country: str) -> None: ...
    async def name_territory_manager(self, territory_id: str, sub: str, role: str) -> None: ...
    async def remove_territory_manager(self, territory_id: str, sub: str, role: str) -> None: ...
    async def mark_filled(self, need_id: str) -> None: ...

    # What the index is built from: each id with its facts, None when withdrawn, erased or closed
    def territories(self) -> AsyncIterator[tuple[str, str | None, str]]: ...
    def members(self) -> AsyncIterator[tuple[str, MemberFacts | None]]: ...
    def offers(self) -> AsyncIterator[tuple[str, OfferFacts | None]]: ...
    def projects(self) -> AsyncIterator[tuple[str, ProjectFacts | None]]: ...
    def tops(self) -> AsyncIterator[tuple[str, str, Fit]]: ...
    async def filled_needs(self) -> list[str]: ...
    async def declined_pairs(self) -> list[tuple[str, str]]: ...

    # Matches
    async def match(self, match_id: str, *, for_update: bool = False) -> MatchRow | None: ...
    async def pair(self, need_id: str, offer_id: str) -> MatchRow | None: ...
    async def add_match(
        self, project_id: str, need_id: str, offer_id: str, member_id: str, fit: Fit, since: datetime
    ) -> MatchRow | None: ...
    async def live(self, statuses: Collection[str] = LIVE, **where: str) -> list[MatchRow]: ...
    async def confirmed_count(self, need_id: str) -> int: ...
    async def matches(
        self, *, member_id: str | None = None, project_id: str | None = None
    ) -> list[MatchRow]: ...

    # Deadlines and passes
    async def waiting_since(
        self, status: str, before: datetime, *, unreminded: bool, limit: int
    ) -> list[MatchRow]: ...
    async def save_pass(
        self, match_id: str, reason_code: str, note: str | None, by: str, at: datetime
    ) -> None: ...
    async def pass_of(self, match_id: str) -> MatchPassRow | None: ...
    async def erase_passes_of(self, member_id: str) -> None: ...

    # Who may act
    async def project(self, project_id: str) -> ProjectFacts | None: ...
    async def was_erased(self, member_id: str) -> bool: ...
    async def managers_of(self, member_id: str) -> list[str]: ...
    async def manages_territory(self, sub: str, territory_ids: Collection[str]) -> bool: ...


class MatchingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Read models: the index decides what is newest; these rows follow it.

    async def save_offer(self, offer: SkillOffered, as_of: datetime) -> None:
        values = {
            "offer_id": offer.offer_id,
            "member_id": offer.member_id,
            "skill": offer.skill,
            "level": offer.level,
            "modes": list(offer.modes),
            "languages": list(offer.languages),
            "territory_ids": list(offer.territory_ids),
            "sectors": list(offer.sectors),
            "available_from": offer.available_from,
            "available_until": offer.available_until,
            "withdrawn": False,
            "as_of": as_of,
        }
        await self._upsert(OfferRow, OfferRow.offer_id, values)

    async def withdraw_offer(self, offer_id: str, member_id: str) -> None:
        statement = insert(OfferRow).values(
            offer_id=offer_id, member_id=member_id, skill="", level=0, modes=[], withdrawn=True
        )
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=[OfferRow.offer_id], set_={"withdrawn": True})
        )

    async def save_member(self, member: MemberProfile, as_of: datetime) -> None:
        values = {
            "member_id": member.member_id,
            "languages": list(member.languages),
            "attachments": [a.model_dump() for a in member.attachments],
            "sectors": list(member.sectors),
            "time_zone": member.time_zone,
            "managers": list(member.managers),
            "as_of": as_of,
        }
        await self._upsert(MemberRow, MemberRow.member_id, values)

    async def erase_member(self, member_id: str) -> None:
        """Keep only the id, to refuse late events and the member's token; the offers go, the
        territory roles, the ownership of projects and the management of others too, and the
        reasons of the member's matches (they tell where the member is from and what they speak):
        the matches stay, withdrawn, as the record of what was proposed."""
        await self._upsert(
            MemberRow,
            MemberRow.member_id,
            {
                "member_id": member_id,
                "languages": [],
                "attachments": [],
                "sectors": [],
                "time_zone": None,
                "managers": [],
                "erased": True,
                "as_of": FOREVER,
            },
        )
        await self.session.execute(delete(OfferRow).where(OfferRow.member_id == member_id))
        await self.session.execute(update(MatchRow).where(MatchRow.member_id == member_id).values(reasons=[]))
        await self.session.execute(delete(TerritoryManagerRow).where(TerritoryManagerRow.sub == member_id))
        await self.session.execute(
            update(ProjectRow)
            .where(ProjectRow.owner_member_id == member_id)
            .values(owner_member_id=ERASED_OWNER)
        )
        await self.session.execute(
            update(MemberRow)
            .where(MemberRow.managers.contains([member_id]))
            .values(managers=MemberRow.managers.op("-")(literal(member_id, String())))
        )

    async def save_project(self, project: ProjectSnapshot, as_of: datetime) -> None:
        values = {
            "project_id": project.project_id,
            "territory_id": project.territory_id,
            "owner_member_id": project.owner_member_id,
            "title": project.title,
            "sector": project.sector,
            "languages": list(project.languages),
            "needs": [need.model_dump(mode="json") for need in project.needs],
            "closed": False,
            "as_of": as_of,
        }
        await self._upsert(ProjectRow, ProjectRow.project_id, values)

    async def close_project(self, project_id: str) -> None:
        await self.session.execute(
            update(ProjectRow).where(ProjectRow.project_id == project_id).values(closed=True)
        )
        statement = insert(ProjectRow).values(
            project_id=project_id,
            territory_id="",
            owner_member_id="",
            title="",
            sector="",
            closed=True,
            as_of=datetime.now(UTC),
        )
        await self.session.execute(statement.on_conflict_do_nothing())

    async def save_territory(self, territory_id: str, parent_id: str | None, country: str) -> None:
        await self._upsert(
            TerritoryRow,
            TerritoryRow.territory_id,
            {"territory_id": territory_id, "parent_id": parent_id, "country": country},
        )

    async def name_territory_manager(self, territory_id: str, sub: str, role: str) -> None:
        statement = insert(TerritoryManagerRow).values(territory_id=territory_id, sub=sub, role=role)
        await self.session.execute(statement.on_conflict_do_nothing())

    async def remove_territory_manager(self, territory_id: str, sub: str, role: str) -> None:
        await self.session.execute(
            delete(TerritoryManagerRow).where(
                TerritoryManagerRow.territory_id == territory_id,
                TerritoryManagerRow.sub == sub,
                TerritoryManagerRow.role == role,
            )
        )

    async def mark_filled(self, need_id: str) -> None:
        await self.session.execute(insert(FilledNeedRow).values(need_id=need_id).on_conflict_do_nothing())

    async def _upsert(self, table: Any, key: Any, values: dict[str, Any]) -> None:
        statement = insert(table).values(**values)
        update_values = {name: statement.excluded[name] for name in values if name != key.key}
        await self.session.execute(statement.on_conflict_do_update(index_elements=[key], set_=update_values))

    # What the index is built from at start

    async def territories(self) -> AsyncIterator[tuple[str, str | None, str]]:
        async for row in self._stream(TerritoryRow):
            yield row.territory_id, row.parent_id, row.country

    async def members(self) -> AsyncIterator[tuple[str, MemberFacts | None]]:
        async for record in self._records(MEMBERS_QUERY):
            yield record["member_id"], None if record["erased"] else member_from_record(record)

    async def offers(self) -> AsyncIterator[tuple[str, OfferFacts | None]]:
        async for record in self._records(OFFERS_QUERY):
            yield record["offer_id"], None if record["withdrawn"] else offer_from_record(record)

    async def projects(self) -> AsyncIterator[tuple[str, ProjectFacts | None]]:
        async for row in self._stream(ProjectRow):
            yield row.project_id, None if row.closed else project_from_row(row)

    async def tops(self) -> AsyncIterator[tuple[str, str, Fit]]:
        async for record in self._records(TOPS_QUERY):
            yield record["need_id"], record["offer_id"], Fit(record["score"], reasons_json(record["reasons"]))

    async def _records(self, query: str) -> AsyncIterator[Any]:
        """Rows straight from the driver, in batches: a million offers load in seconds, not minutes."""
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        async for record in driver.cursor(query, prefetch=20_000):
            yield record

    async def _stream(self, table: Any) -> AsyncIterator[Any]:
        result = await self.session.stream_scalars(select(table).execution_options(yield_per=10_000))
        async for row in result:
            yield row

    async def filled_needs(self) -> list[str]:
        return list(await self.session.scalars(select(FilledNeedRow.need_id)))

    async def declined_pairs(self) -> list[tuple[str, str]]:
        """Pairs never to be proposed again: declined by the member, passed on or expired."""
        closed = (MatchRow.status == Status.WITHDRAWN) & MatchRow.reason.in_(list(CLOSING))
        rows = await self.session.execute(
            select(MatchRow.need_id, MatchRow.offer_id).where((MatchRow.status == Status.DECLINED) | closed)
        )
        return [(need_id, offer_id) for need_id, offer_id in rows]

    # Matches

    async def match(self, match_id: str, *, for_update: bool = False) -> MatchRow | None:
        return await self.session.get(MatchRow, match_id, with_for_update=for_update)

    async def pair(self, need_id: str, offer_id: str) -> MatchRow | None:
        return await self.session.scalar(
            select(MatchRow)
            .where(MatchRow.need_id == need_id, MatchRow.offer_id == offer_id)
            .with_for_update()
        )

    async def add_match(
        self, project_id: str, need_id: str, offer_id: str, member_id: str, fit: Fit, since: datetime
    ) -> MatchRow | None:
        """A new match, proposed and waiting for its answer from `since`, in one statement; None when
        the pair already has one (which `pair` then reads)."""
        statement = (
            insert(MatchRow)
            .values(
                match_id=str(uuid.uuid4()),
                project_id=project_id,
                need_id=need_id,
                offer_id=offer_id,
                member_id=member_id,
                score=fit.score,
                reasons=list(fit.reasons),
                status=Status.PROPOSED,
                in_top=True,
                stage_since=since,
                reminded_at=None,
            )
            .on_conflict_do_nothing(constraint="one_match_per_need_and_offer")
            .returning(MatchRow)
        )
        return await self.session.scalar(statement)

    async def live(self, statuses: Collection[str] = LIVE, **where: str) -> list[MatchRow]:
        conditions = [getattr(MatchRow, name) == value for name, value in where.items()]
        query = select(MatchRow).where(*conditions, MatchRow.status.in_(list(statuses))).with_for_update()
        return list(await self.session.scalars(query.order_by(MatchRow.match_id)))

    async def confirmed_count(self, need_id: str) -> int:
        await self.session.flush()  # counting the match just confirmed
        query = (
            select(func.count())
            .select_from(MatchRow)
            .where(MatchRow.need_id == need_id, MatchRow.status == Status.CONFIRMED)
        )
        return await self.session.scalar(query) or 0

    async def matches(self, *, member_id: str | None = None, project_id: str | None = None) -> list[MatchRow]:
        query = select(MatchRow).order_by(MatchRow.score.desc(), MatchRow.created_at, MatchRow.match_id)
        if member_id:
            query = query.where(MatchRow.member_id == member_id)
        if project_id:
            query = query.where(MatchRow.project_id == project_id)
        return list(await self.session.scalars(query))

    # Deadlines and passes

    async def waiting_since(
        self, status: str, before: datetime, *, unreminded: bool, limit: int
    ) -> list[MatchRow]:
        """Matches in `status` since before `before` (not reminded yet, if asked), oldest first, locked;
        those another sweep holds are skipped, and it is that sweep's to end or remind them."""
        query = select(MatchRow).where(MatchRow.status == status, MatchRow.stage_since < before)
        if unreminded:
            query = query.where(MatchRow.reminded_at.is_(None))
        query = query.order_by(MatchRow.stage_since, MatchRow.match_id).limit(limit)
        return list(await self.session.scalars(query.with_for_update(skip_locked=True)))

    async def save_pass(
        self, match_id: str, reason_code: str, note: str | None, by: str, at: datetime
    ) -> None:
        self.session.add(
            MatchPassRow(match_id=match_id, reason_code=reason_code, note=note, passed_by=by, passed_at=at)
        )

    async def pass_of(self, match_id: str) -> MatchPassRow | None:
        return await self.session.get(MatchPassRow, match_id)

    async def erase_passes_of(self, member_id: str) -> None:
        """The notes of passes on the member's matches (they may speak of them) and the member as the
        one who passed go; the reason codes stay, for the project's record."""
        theirs = select(MatchRow.match_id).where(MatchRow.member_id == member_id)
        await self.session.execute(
            update(MatchPassRow).where(MatchPassRow.match_id.in_(theirs)).values(note=None)
        )
        await self.session.execute(
            update(MatchPassRow).where(MatchPassRow.passed_by == member_id).values(passed_by=ERASED_OWNER)
        )

    # Who may act

    async def project(self, project_id: str) -> ProjectFacts | None:
        row = await self.session.get(ProjectRow, project_id)
        return None if row is None else project_from_row(row)

    async def was_erased(self, member_id: str) -> bool:
        erased = await self.session.scalar(select(MemberRow.erased).where(MemberRow.member_id == member_id))
        return bool(erased)

    async def managers_of(self, member_id: str) -> list[str]:
        row = await self.session.get(MemberRow, member_id)
        return list(row.managers) if row else []

    async def manages_territory(self, sub: str, territory_ids: Collection[str]) -> bool:
        query = select(TerritoryManagerRow.sub).where(
            TerritoryManagerRow.sub == sub, TerritoryManagerRow.territory_id.in_(list(territory_ids))
        )
        return await self.session.scalar(query.limit(1)) is not None
