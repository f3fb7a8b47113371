"""The matching service's read models (fed only by events) and its matches."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


class OfferRow(Base):
    __tablename__ = "offers"

    offer_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(100), index=True)
    skill: Mapped[str] = mapped_column(String(100), index=True)
    level: Mapped[int] = mapped_column(Integer)
    modes: Mapped[list[str]] = mapped_column(JSONB)
    languages: Mapped[list[str]] = mapped_column(JSONB, default=list)
    territory_ids: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    sectors: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    available_from: Mapped[date | None] = mapped_column(Date)
    available_until: Mapped[date | None] = mapped_column(Date)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    as_of: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="Time of the newest event"
    )


class MemberRow(Base):
    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    languages: Mapped[list[str]] = mapped_column(JSONB, default=list)
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    sectors: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    time_zone: Mapped[str | None] = mapped_column(String(64))
    managers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProjectRow(Base):
    """A published project as its newest snapshot says, with its needs."""

    __tablename__ = "projects"

    project_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    territory_id: Mapped[str] = mapped_column(String(100))
    owner_member_id: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(100))
    languages: Mapped[list[str]] = mapped_column(JSONB, default=list)
    needs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FilledNeedRow(Base):
    """A need that has as many confirmed matches as people wanted: no more proposals."""

    __tablename__ = "filled_needs"

    need_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    filled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TerritoryRow(Base):
    __tablename__ = "territories"

    territory_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))


class TerritoryManagerRow(Base):
    """Who manages a territory (and those under it), as the projects service says."""

    __tablename__ = "territory_managers"

    territory_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    sub: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)


class MatchRow(Base):
    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("need_id", "offer_id", name="one_match_per_need_and_offer"),
        Index("ix_matches_status_stage_since", "status", "stage_since"),
    )

    match_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(100), index=True)
    need_id: Mapped[str] = mapped_column(String(100), index=True)
    offer_id: Mapped[str] = mapped_column(String(100), index=True)
    member_id: Mapped[str] = mapped_column(String(100), index=True)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    reason: Mapped[str | None] = mapped_column(String(40), comment="Why it was declined or withdrawn")
    in_top: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default="true", comment="In the need's top k"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    stage_since: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        server_default=func.now(),
        comment="Since when it waits as proposed or accepted",
    )
    reminded_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), comment="When the side awaited was reminded, in the current stage"
    )


class MatchPassRow(Base):
    """Why the project side passed on a match: its own record, never shown to the member."""

    __tablename__ = "match_passes"

    match_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    reason_code: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(1000))
    passed_by: Mapped[str] = mapped_column(String(100))
    passed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
