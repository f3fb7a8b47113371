"""The matching service's read models and matches."""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, Integer, MetaData, String, UniqueConstraint, func
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
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)


class MemberRow(Base):
    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    languages: Mapped[list[str]] = mapped_column(JSONB, default=list)
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    managers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NeedRow(Base):
    __tablename__ = "needs"

    need_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(100), index=True)
    territory_id: Mapped[str] = mapped_column(String(100))
    owner_member_id: Mapped[str] = mapped_column(String(100))
    skill: Mapped[str] = mapped_column(String(100), index=True)
    min_level: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(Integer)
    project_title: Mapped[str] = mapped_column(String(200))
    project_languages: Mapped[list[str]] = mapped_column(JSONB, default=list)
    open: Mapped[bool] = mapped_column(Boolean, default=True)


class MatchRow(Base):
    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("need_id", "offer_id", name="one_match_per_need_and_offer"),)

    match_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(100), index=True)
    need_id: Mapped[str] = mapped_column(String(100))
    offer_id: Mapped[str] = mapped_column(String(100), index=True)
    member_id: Mapped[str] = mapped_column(String(100), index=True)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[str]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
