"""The matching service's rows: read models kept as the index holds them, and the matches."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import AsyncIterator, Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any

from passerelle.contracts import ERASED_OWNER
from passerelle.persistence.database import FOREVER
from sqlalchemy import String, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import LIVE, Fit, MemberFacts, OfferFacts
from .index import NeedSpec, ProjectFacts
from .orm import (
    FilledNeedRow,
    MatchRow,
    MemberRow,
    OfferRow,
    ProjectRow,
    TerritoryManagerRow,
    TerritoryRow,
)
from .timezones import zone_offset

_interned: dict[tuple[str, ...], frozenset[str]] = {}


def frozen(values: Collection[str]) -> frozenset[str]:
    """One shared frozenset per distinct set of codes: a million offers hold a few dozen sets."""
    key = tuple(sorted(values))
    return _interned.setdefault(key, frozenset(key))


_parsed: dict[str, frozenset[str]] = {}


def codes(value: str | Collection[str]) -> frozenset[str]:
    """Codes from an event (a list) or a row (JSON text, parsed once per distinct text), shared."""
    if not isinstance(value, str):
        return frozen(value)
    found = _parsed.get(value)
    if found is None:
        found = _parsed[value] = frozen(json.loads(value))
    return found


def _listed(value: Any) -> list[Any]:
    return json.loads(value) if isinstance(value, str) else list(value)


_reasons: dict[str, tuple[str, ...]] = {}
_days: dict[date, date] = {}


def reasons_json(text: str) -> tuple[str, ...]:
    """Reasons as one shared tuple per distinct list: a million matches hold a few hundred lists."""
    found = _reasons.get(text)
    if found is None:
        found = _reasons[text] = tuple(sys.intern(reason) for reason in json.loads(text))
    return found


def day(value: date | None) -> date | None:
    return None if value is None else _days.setdefault(value, value)


def seconds(moment: datetime | None) -> float:
    return moment.timestamp() if moment else 0.0


def offer_facts(row: Mapping[str, Any]) -> OfferFacts:
    """An offer from an event's values or a row of `offers`; strings and sets shared across offers."""
    return OfferFacts(
        offer_id=row["offer_id"],
        member_id=sys.intern(row["member_id"]),
        skill=sys.intern(row["skill"]),
        level=row["level"],
        modes=codes(row["modes"]),
        languages=codes(row["languages"]),
        territory_ids=codes(row["territory_ids"]),
        sectors=codes(row["sectors"]),
        available_from=day(row["available_from"]),
        available_until=day(row["available_until"]),
        as_of=seconds(row["as_of"]),
    )


def member_facts(row: Mapping[str, Any]) -> MemberFacts:
    """A member from an event's values or a row of `members`."""
    return MemberFacts(
        member_id=sys.intern(row["member_id"]),
        languages=codes(row["languages"]),
        attachments=tuple(
            (sys.intern(a["territory_id"]), sys.intern(a["bond"])) for a in _listed(row["attachments"])
        ),
        sectors=codes(row["sectors"]),
        utc_offset=zone_offset(row["time_zone"]),
        managers=tuple(_listed(row["managers"])),
        as_of=seconds(row["as_of"]),
    )


def project_facts(row: ProjectRow) -> ProjectFacts:
    return ProjectFacts(
        project_id=row.project_id,
        territory_id=row.territory_id,
        owner_member_id=row.owner_member_id,
        sector=row.sector,
        languages=frozen(row.languages),
        needs=tuple(need_spec(need) for need in row.needs),
        as_of=seconds(row.as_of),
    )


def need_spec(need: dict[str, Any]) -> NeedSpec:
    def day(value: Any) -> date | None:
        return date.fromisoformat(value) if isinstance(value, str) else value

    return NeedSpec(
        need_id=need["need_id"],
        skill=need["skill"],
        min_level=need["min_level"],
        mode=need["mode"],
        count=need["count"],
        starts_on=day(need.get("starts_on")),
        ends_on=day(need.get("ends_on")),
    )


class MatchingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Read models: the index decides what is newest; these rows follow it.

    async def save_offer(self, values: dict[str, Any]) -> None:
        await self._upsert(OfferRow, OfferRow.offer_id, values)

    async def withdraw_offer(self, offer_id: str, member_id: str) -> None:
        statement = insert(OfferRow).values(
            offer_id=offer_id, member_id=member_id, skill="", level=0, modes=[], withdrawn=True
        )
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=[OfferRow.offer_id], set_={"withdrawn": True})
        )

    async def save_member(self, values: dict[str, Any]) -> None:
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

    async def save_project(self, values: dict[str, Any]) -> None:
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

    async def records(self, query: str) -> AsyncIterator[Any]:
        """Rows straight from the driver, in batches: a million offers load in seconds, not minutes."""
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        async for record in driver.cursor(query, prefetch=20_000):
            yield record

    async def stream(self, table: Any) -> AsyncIterator[Any]:
        result = await self.session.stream_scalars(select(table).execution_options(yield_per=10_000))
        async for row in result:
            yield row

    async def filled_needs(self) -> list[str]:
        return list(await self.session.scalars(select(FilledNeedRow.need_id)))

    async def declined_pairs(self) -> list[tuple[str, str]]:
        rows = await self.session.execute(
            select(MatchRow.need_id, MatchRow.offer_id).where(MatchRow.status == "declined")
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
        self, project_id: str, need_id: str, offer_id: str, member_id: str, fit: Fit
    ) -> MatchRow:
        row = MatchRow(
            match_id=str(uuid.uuid4()),
            project_id=project_id,
            need_id=need_id,
            offer_id=offer_id,
            member_id=member_id,
            score=fit.score,
            reasons=list(fit.reasons),
            status="proposed",
            in_top=True,
        )
        self.session.add(row)
        return row

    async def live(self, statuses: Collection[str] = LIVE, **where: str) -> list[MatchRow]:
        conditions = [getattr(MatchRow, name) == value for name, value in where.items()]
        query = select(MatchRow).where(*conditions, MatchRow.status.in_(list(statuses))).with_for_update()
        return list(await self.session.scalars(query.order_by(MatchRow.match_id)))

    async def confirmed_count(self, need_id: str) -> int:
        query = (
            select(func.count())
            .select_from(MatchRow)
            .where(MatchRow.need_id == need_id, MatchRow.status == "confirmed")
        )
        return await self.session.scalar(query) or 0

    async def matches(self, *, member_id: str | None = None, project_id: str | None = None) -> list[MatchRow]:
        query = select(MatchRow).order_by(MatchRow.score.desc(), MatchRow.created_at, MatchRow.match_id)
        if member_id:
            query = query.where(MatchRow.member_id == member_id)
        if project_id:
            query = query.where(MatchRow.project_id == project_id)
        return list(await self.session.scalars(query))

    # Who may act

    async def project(self, project_id: str) -> ProjectRow | None:
        return await self.session.get(ProjectRow, project_id)

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
