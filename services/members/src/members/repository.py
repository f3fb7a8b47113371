"""Loading and saving members and offers."""

from dataclasses import asdict, fields

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .domain import Member, SkillOffer
from .orm import MemberRow, OfferRow

_MEMBER_FIELDS = [f.name for f in fields(Member)]
_OFFER_FIELDS = [f.name for f in fields(SkillOffer)]


class MembersRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, member_id: str) -> Member | None:
        row = await self.session.get(MemberRow, member_id)
        return Member(**{name: getattr(row, name) for name in _MEMBER_FIELDS}) if row else None

    async def save(self, member: Member) -> None:
        await self.session.merge(MemberRow(**asdict(member)))

    async def get_offer(self, member_id: str, offer_id: str) -> SkillOffer | None:
        row = await self.session.get(OfferRow, offer_id)
        if row is None or row.member_id != member_id:
            return None
        return SkillOffer(**{name: getattr(row, name) for name in _OFFER_FIELDS})

    async def save_offer(self, offer: SkillOffer) -> None:
        await self.session.merge(OfferRow(**asdict(offer)))

    async def offers_of(self, member_id: str) -> list[SkillOffer]:
        rows = await self.session.scalars(
            select(OfferRow).where(OfferRow.member_id == member_id).order_by(OfferRow.created_at)
        )
        return [SkillOffer(**{name: getattr(row, name) for name in _OFFER_FIELDS}) for row in rows]
