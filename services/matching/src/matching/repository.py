"""Queries over the matching read models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import MemberFacts, Offer, OpenNeed
from .orm import MatchRow, MemberRow, NeedRow, OfferRow

LIVE = ("proposed", "accepted", "confirmed")


def _offer(row: OfferRow) -> Offer:
    return Offer(row.offer_id, row.member_id, row.skill, row.level, row.modes, row.languages)


def _need(row: NeedRow) -> OpenNeed:
    return OpenNeed(
        row.project_id,
        row.need_id,
        row.territory_id,
        row.skill,
        row.min_level,
        row.mode,
        row.project_languages,
    )


class MatchingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert_member(self, member_id: str, values: dict[str, Any], as_of: datetime) -> None:
        """Newest facts win whatever the arrival order; an erased member stays erased."""
        statement = insert(MemberRow).values(member_id=member_id, as_of=as_of, **values)
        statement = statement.on_conflict_do_update(
            index_elements=[MemberRow.member_id],
            set_={**{key: statement.excluded[key] for key in values}, "as_of": as_of},
            where=(MemberRow.as_of < statement.excluded.as_of) & MemberRow.erased.is_(False),
        )
        await self.session.execute(statement)

    async def member(self, member_id: str) -> MemberFacts | None:
        row = await self.session.get(MemberRow, member_id)
        if row is None or row.erased:
            return None
        return MemberFacts(row.member_id, row.languages, row.attachments)

    async def is_erased(self, member_id: str) -> bool:
        row = await self.session.get(MemberRow, member_id)
        return bool(row and row.erased)

    async def managers_of(self, member_id: str) -> list[str]:
        row = await self.session.get(MemberRow, member_id)
        return list(row.managers) if row else []

    async def add_offer(self, offer: Offer) -> bool:
        statement = (
            insert(OfferRow).values(**offer.__dict__).on_conflict_do_nothing().returning(OfferRow.offer_id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def replace_offer(self, offer: Offer) -> bool:
        """The offer as last changed; False when it was withdrawn (a withdrawal is final)."""
        values = offer.__dict__
        inserted = insert(OfferRow).values(**values)
        statement = inserted.on_conflict_do_update(
            index_elements=[OfferRow.offer_id],
            set_={key: inserted.excluded[key] for key in values if key != "offer_id"},
            where=OfferRow.withdrawn.is_(False),
        ).returning(OfferRow.offer_id)
        return (await self.session.execute(statement)).first() is not None

    async def withdraw_offers(self, *, offer_id: str | None = None, member_id: str | None = None) -> None:
        statement = update(OfferRow).values(withdrawn=True)
        if offer_id:
            statement = statement.where(OfferRow.offer_id == offer_id)
        if member_id:
            statement = statement.where(OfferRow.member_id == member_id)
        await self.session.execute(statement)

    async def live_offers_with_skill(self, skill: str) -> list[Offer]:
        rows = await self.session.scalars(
            select(OfferRow).where(OfferRow.skill == skill, OfferRow.withdrawn.is_(False))
        )
        return [_offer(row) for row in rows]

    async def add_needs(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(NeedRow).values(rows).on_conflict_do_nothing())

    async def close_project(self, project_id: str) -> None:
        await self.session.execute(update(NeedRow).where(NeedRow.project_id == project_id).values(open=False))

    async def open_needs_with_skill(self, skill: str) -> list[OpenNeed]:
        rows = await self.session.scalars(
            select(NeedRow).where(NeedRow.skill == skill, NeedRow.open.is_(True))
        )
        return [_need(row) for row in rows]

    async def needs_of(self, project_id: str) -> list[OpenNeed]:
        rows = await self.session.scalars(
            select(NeedRow).where(NeedRow.project_id == project_id, NeedRow.open.is_(True))
        )
        return [_need(row) for row in rows]

    async def project_owner(self, project_id: str) -> str | None:
        return await self.session.scalar(
            select(NeedRow.owner_member_id).where(NeedRow.project_id == project_id).limit(1)
        )

    async def add_match(self, row: dict[str, Any]) -> bool:
        """False when this need and offer were already matched."""
        statement = insert(MatchRow).values(**row).on_conflict_do_nothing().returning(MatchRow.match_id)
        return (await self.session.execute(statement)).first() is not None

    async def live_matches(self, **where: str) -> list[MatchRow]:
        conditions = [getattr(MatchRow, key) == value for key, value in where.items()]
        query = select(MatchRow).where(*conditions, MatchRow.status.in_(LIVE)).with_for_update()
        return list(await self.session.scalars(query))

    async def withdraw_matches(self, **where: str) -> list[MatchRow]:
        rows = await self.live_matches(**where)
        for row in rows:
            row.status = "withdrawn"
        return rows

    async def matches(self, *, member_id: str | None = None, project_id: str | None = None) -> list[MatchRow]:
        query = select(MatchRow).order_by(MatchRow.score.desc(), MatchRow.created_at)
        if member_id:
            query = query.where(MatchRow.member_id == member_id)
        if project_id:
            query = query.where(MatchRow.project_id == project_id)
        return list(await self.session.scalars(query))
