"""The members service's tables."""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, MetaData, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


class MemberRow(Base):
    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(35))
    country_of_residence: Mapped[str] = mapped_column(String(2))
    time_zone: Mapped[str] = mapped_column(String(64))
    languages: Mapped[list[str]] = mapped_column(JSONB, default=list)
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    sectors: Mapped[list[str]] = mapped_column(JSONB, default=list)
    generation: Mapped[str | None] = mapped_column(String(10))
    managers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OfferRow(Base):
    __tablename__ = "skill_offers"

    offer_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id", ondelete="CASCADE"), index=True)
    skill: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(Integer)
    modes: Mapped[list[str]] = mapped_column(JSONB)
    languages: Mapped[list[str]] = mapped_column(JSONB, default=list)
    territory_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    sectors: Mapped[list[str]] = mapped_column(JSONB, default=list)
    available_from: Mapped[date | None] = mapped_column(Date)
    available_until: Mapped[date | None] = mapped_column(Date)
    hours_per_month: Mapped[int | None] = mapped_column(Integer)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
