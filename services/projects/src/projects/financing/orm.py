"""The financing tables of the projects service (pledges themselves are in `projects.orm`)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..orm import Base


class FinancingPlanRow(Base):
    __tablename__ = "financing_plans"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.project_id"), primary_key=True)
    budget_amount: Mapped[Decimal] = mapped_column(Numeric(15, 2))
    currency: Mapped[str] = mapped_column(String(3))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    collector: Mapped[dict[str, Any]] = mapped_column(JSONB, comment="confirmer_subs lose an erased member")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class CampaignRow(Base):
    __tablename__ = "campaigns"
    # What the due-campaign loop looks for.
    __table_args__ = (Index("ix_campaigns_status_closes_at", "status", "closes_at"),)

    campaign_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.project_id"), index=True)
    goal_amount: Mapped[Decimal] = mapped_column(Numeric(15, 2))
    minimum_amount: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    currency: Mapped[str] = mapped_column(String(3))
    rule: Mapped[str] = mapped_column(String(20))
    opens_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    collection_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    pledged_total: Mapped[Decimal] = mapped_column(Numeric(15, 2))
    collected_total: Mapped[Decimal] = mapped_column(Numeric(15, 2))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CofundingOfferRow(Base):
    __tablename__ = "cofunding_offers"

    offer_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.project_id"), index=True)
    sponsor_member_id: Mapped[str] = mapped_column(String(100), index=True)
    ratio: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    cap_amount: Mapped[Decimal] = mapped_column(Numeric(15, 2))
    currency: Mapped[str] = mapped_column(String(3))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONB)
    used_amount: Mapped[Decimal] = mapped_column(Numeric(15, 2))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CofundingApplicationRow(Base):
    """One offer matches one pledge at most once: the primary key says so."""

    __tablename__ = "cofunding_applications"

    offer_id: Mapped[str] = mapped_column(ForeignKey("cofunding_offers.offer_id"), primary_key=True)
    pledge_id: Mapped[str] = mapped_column(ForeignKey("pledges.pledge_id"), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(100), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(15, 2))
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProjectUpdateRow(Base):
    __tablename__ = "project_updates"

    update_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.project_id"), index=True)
    author_sub: Mapped[str] = mapped_column(String(100), comment="erased once its author is")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
