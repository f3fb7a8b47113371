"""The opportunities service's tables."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, DateTime, Index, Integer, MetaData, Numeric, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


class OpportunityRow(Base):
    __tablename__ = "opportunities"
    __table_args__ = (Index("ix_opportunities_instruments", "instruments", postgresql_using="gin"),)

    opportunity_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    territory_id: Mapped[str] = mapped_column(String(100), index=True)
    promoter_member_id: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    sector: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2))
    amount_min: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    amount_max: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    instruments: Mapped[list[str]] = mapped_column(JSONB)
    expected_jobs: Mapped[int | None] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(20))
    support_programmes: Mapped[list[str]] = mapped_column(JSONB)
    support_needs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    source_idea_ids: Mapped[list[str]] = mapped_column(JSONB)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    review_notes: Mapped[str] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_for: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InterestRow(Base):
    __tablename__ = "interests"
    __table_args__ = (
        UniqueConstraint("opportunity_id", "member_id", name="uq_interests_opportunity_member"),
    )

    interest_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    opportunity_id: Mapped[str] = mapped_column(String(100), index=True)
    member_id: Mapped[str] = mapped_column(String(100), index=True)
    role: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    amount_min: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    amount_max: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), index=True)
    decline_reason: Mapped[str | None] = mapped_column(String(30))
    decline_note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TerritoryRow(Base):
    """Read model of the projects service's territories: where an opportunity is, and what is under it."""

    __tablename__ = "territories"

    territory_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    parent_id: Mapped[str | None] = mapped_column(String(100), index=True)


class TerritoryRoleRow(Base):
    """Read model: who manages a territory (and so reviews its opportunities and those under it)."""

    __tablename__ = "territory_roles"

    territory_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    sub: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)


class MemberRow(Base):
    """Read model of the members service: who may act for a member, and the card a promoter sees of
    an interested member. No e-mail: contact happens in the thread the introduction opens."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(200))
    country_of_residence: Mapped[str] = mapped_column(String(2))
    languages: Mapped[list[str]] = mapped_column(JSONB)
    managers: Mapped[list[str]] = mapped_column(JSONB)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), comment="Time of the event that set it")
