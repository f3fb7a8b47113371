"""Loading, saving, finding and erasing members and their offers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from passerelle.persistence.stored_answers import forget_answers_of
from sqlalchemy import ColumnElement, and_, cast, delete, exists, func, literal, select, true, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import Member, SkillOffer
from .orm import ErasedRow, HistoryRow, MemberRow, OfferRow

# What the history of other members says of an erased identity that acted on them.
ERASED_ACTOR = '{"by": "erased"}'
_MEMBER_FIELDS = [f.name for f in fields(Member)]
_OFFER_FIELDS = [f.name for f in fields(SkillOffer)]


@dataclass(frozen=True)
class MemberSearch:
    """What a manager looks for; None means any."""

    territory_id: str | None = None
    bond: str | None = None
    skills: Collection[str] | None = None  # any of these, on a live offer
    language: str | None = None
    country: str | None = None
    kind: str | None = None
    sector: str | None = None


def _member(row: MemberRow) -> Member:
    return Member(**{name: getattr(row, name) for name in _MEMBER_FIELDS})


def _offer(row: OfferRow) -> SkillOffer:
    return SkillOffer(**{name: getattr(row, name) for name in _OFFER_FIELDS})


class MembersRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, member_id: str, *, for_update: bool = False) -> Member | None:
        """`for_update` locks the row until the unit of work ends: a use case that publishes the
        member's snapshot (or an offer's) changes it only after the one before it committed."""
        row = await self.session.get(MemberRow, member_id, with_for_update=for_update)
        return _member(row) if row else None

    async def was_erased(self, member_id: str) -> bool:
        return await self.session.get(ErasedRow, member_id) is not None

    async def save(self, member: Member, now: datetime) -> None:
        await self.session.merge(MemberRow(**asdict(member), updated_at=now))
        await self.session.flush()  # before history rows that refer to it

    async def get_offer(self, member_id: str, offer_id: str) -> SkillOffer | None:
        """Locked like a member (see `get`): an offer is read only to change it."""
        row = await self.session.get(OfferRow, offer_id, with_for_update=True)
        return _offer(row) if row is not None and row.member_id == member_id else None

    async def add_offer(self, offer: SkillOffer, now: datetime) -> None:
        """A new offer: one INSERT at the commit (a merge would first look for it)."""
        self.session.add(OfferRow(**asdict(offer), updated_at=now))

    async def save_offer(self, offer: SkillOffer, now: datetime) -> None:
        await self.session.merge(OfferRow(**asdict(offer), updated_at=now))

    async def offers_of(self, member_id: str) -> list[SkillOffer]:
        rows = await self.session.scalars(
            select(OfferRow).where(OfferRow.member_id == member_id).order_by(OfferRow.created_at)
        )
        return [_offer(row) for row in rows]

    async def log(self, member_id: str, at: datetime, action: str, **details: Any) -> None:
        self.session.add(HistoryRow(member_id=member_id, at=at, action=action, details=details))

    async def search(
        self, wanted: MemberSearch, visibilities: Collection[str] | None, limit: int, offset: int
    ) -> tuple[list[Member], int]:
        """One page of the members that match, by name, and how many match in all.

        `visibilities` are those the searcher may see; None means every member (an operator).
        """
        conditions = _conditions(wanted)
        if visibilities is not None:
            conditions.append(MemberRow.visibility.in_(list(visibilities)))
        where = and_(true(), *conditions)
        total = await self.session.scalar(select(func.count()).select_from(MemberRow).where(where))
        rows = await self.session.scalars(
            select(MemberRow)
            .where(where)
            .order_by(func.lower(MemberRow.display_name), MemberRow.member_id)
            .limit(limit)
            .offset(offset)
        )
        return [_member(row) for row in rows], total or 0

    async def live_offers_of(self, member_ids: Collection[str]) -> dict[str, list[SkillOffer]]:
        rows = await self.session.scalars(
            select(OfferRow)
            .where(OfferRow.member_id.in_(list(member_ids)), OfferRow.withdrawn.is_(False))
            .order_by(OfferRow.created_at)
        )
        found: dict[str, list[SkillOffer]] = defaultdict(list)
        for row in rows:
            found[row.member_id].append(_offer(row))
        return found

    async def export(self, member_id: str) -> dict[str, Any]:
        """Every row held on the member, with the times the service recorded."""
        member = await self.session.get(MemberRow, member_id)
        assert member is not None
        offers = await self.session.scalars(
            select(OfferRow).where(OfferRow.member_id == member_id).order_by(OfferRow.created_at)
        )
        history = await self.session.scalars(
            select(HistoryRow).where(HistoryRow.member_id == member_id).order_by(HistoryRow.at, HistoryRow.id)
        )
        return {
            "member": {
                **asdict(_member(member)),
                "registered_at": member.registered_at,
                "updated_at": member.updated_at,
            },
            "offers": [
                {**asdict(_offer(row)), "created_at": row.created_at, "updated_at": row.updated_at}
                for row in offers
            ],
            "history": [{"at": row.at, "action": row.action, "details": row.details} for row in history],
        }

    async def managed_by(self, sub: str) -> list[Member]:
        """The members `sub` manages, locked (see `get`): their snapshots are published again."""
        rows = await self.session.scalars(
            select(MemberRow)
            .where(MemberRow.managers.contains([sub]))
            .order_by(MemberRow.member_id)
            .with_for_update()
        )
        return [_member(row) for row in rows]

    async def erase(self, member_id: str, now: datetime) -> None:
        """Delete every row about the member (offers and history go with it) and keep only the id."""
        await forget_answers_of(self.session, member_id)
        await self.session.execute(delete(OfferRow).where(OfferRow.member_id == member_id))
        await self.session.execute(delete(HistoryRow).where(HistoryRow.member_id == member_id))
        await self.session.execute(delete(MemberRow).where(MemberRow.member_id == member_id))
        await self.session.execute(
            update(HistoryRow)
            .where(HistoryRow.details["by"].astext == member_id)
            .values(details=HistoryRow.details.op("||")(cast(literal(ERASED_ACTOR), JSONB)))
        )
        self.session.add(ErasedRow(member_id=member_id, erased_at=now))


def _conditions(wanted: MemberSearch) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if wanted.territory_id or wanted.bond:
        attachment = {
            key: value
            for key, value in (("territory_id", wanted.territory_id), ("bond", wanted.bond))
            if value
        }
        conditions.append(MemberRow.attachments.contains([attachment]))
    if wanted.language:
        conditions.append(MemberRow.languages.contains([wanted.language]))
    if wanted.sector:
        conditions.append(MemberRow.sectors.contains([wanted.sector]))
    if wanted.country:
        conditions.append(MemberRow.country_of_residence == wanted.country)
    if wanted.kind:
        conditions.append(MemberRow.kind == wanted.kind)
    if wanted.skills is not None:
        conditions.append(
            exists().where(
                OfferRow.member_id == MemberRow.member_id,
                OfferRow.withdrawn.is_(False),
                OfferRow.skill.in_(list(wanted.skills)),
            )
        )
    return conditions
