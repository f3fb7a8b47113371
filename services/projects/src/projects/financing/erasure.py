"""What erasure does to financing: pledges keep their amounts and states (the ledger stays true)
and lose the member, reference and name."""

from __future__ import annotations

from passerelle.contracts import ERASED_OWNER
from sqlalchemy import String, Text, func, literal, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from ..orm import PledgeRow
from .orm import CofundingOfferRow, FinancingPlanRow, ProjectUpdateRow


async def forget_financing(session: AsyncSession, member_id: str) -> None:
    """Erasure: pledges keep their amounts and states and lose the member, reference and name; the
    member confirms nothing more, sponsors and posts under the erased marker."""
    await session.execute(
        update(PledgeRow)
        .where(PledgeRow.member_id == member_id)
        .values(member_id=None, reference=None, public_name=None)
    )
    for column in (PledgeRow.on_behalf_of_member_id, PledgeRow.collected_by):
        await session.execute(update(PledgeRow).where(column == member_id).values({column: None}))
    await session.execute(
        update(FinancingPlanRow)
        .where(FinancingPlanRow.collector["confirmer_subs"].contains([member_id]))
        .values(
            collector=func.jsonb_set(
                FinancingPlanRow.collector,
                literal(["confirmer_subs"], ARRAY(Text())),
                FinancingPlanRow.collector["confirmer_subs"].op("-")(literal(member_id, String())),
            )
        )
    )
    await session.execute(
        update(CofundingOfferRow)
        .where(CofundingOfferRow.sponsor_member_id == member_id)
        .values(sponsor_member_id=ERASED_OWNER)
    )
    await session.execute(
        update(ProjectUpdateRow)
        .where(ProjectUpdateRow.author_sub == member_id)
        .values(author_sub=ERASED_OWNER)
    )
