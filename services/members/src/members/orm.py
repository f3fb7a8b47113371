"""The members service's tables."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


class MemberRow(Base):
    __tablename__ = "members"
    __table_args__ = (
        # Managers search by territory, bond and language: JSONB containment served by GIN indexes.
        Index("ix_members_attachments", "attachments", postgresql_using="gin"),
        Index("ix_members_languages", "languages", postgresql_using="gin"),
    )

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
    visibility: Mapped[str] = mapped_column(String(10), default="managers", server_default="managers")
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    contact_consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OfferRow(Base):
    __tablename__ = "skill_offers"

    offer_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id", ondelete="CASCADE"), index=True)
    skill: Mapped[str] = mapped_column(String(100), index=True)
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
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class HistoryRow(Base):
    """What happened to a member's data, for the GDPR export; erased with the member."""

    __tablename__ = "member_history"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class ErasedRow(Base):
    """An erased member's id and when: no personal data, so that later calls answer 404 and a
    repeated erasure is harmless."""

    __tablename__ = "erased_members"

    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
