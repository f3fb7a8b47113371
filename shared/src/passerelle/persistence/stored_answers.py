"""The answers idempotent requests got (contract 4.1, `Idempotency-Key`), in each service's database.

Written by passerelle.messaging.idempotency; defined here so that a service's repository can erase a
member's answers with the rest of their data, without knowing the messaging layer.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Column, DateTime, Integer, LargeBinary, MetaData, String, Table, delete, func
from sqlalchemy.ext.asyncio import AsyncSession

# Answers are kept this long: enough for any retry, and the personal data they may hold goes soon.
RETENTION = timedelta(hours=24)

idempotency_metadata = MetaData()

answers = Table(
    "passerelle_idempotency",
    idempotency_metadata,
    Column("caller", String(200), primary_key=True, comment="The token's sub"),
    Column("route", String(300), primary_key=True, comment="Method and path template"),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False, comment="SHA-256 of path, body"),
    Column("status", Integer, nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
)


async def forget_answers_of(session: AsyncSession, caller: str) -> None:
    """On MemberErased: the answers the member's own requests got go (a member's id is their
    token's sub); a retry of one of them then runs again, and finds the member erased."""
    await session.execute(delete(answers).where(answers.c.caller == caller))
