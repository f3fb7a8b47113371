"""The projects service's tables."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, MetaData, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


class TerritoryRow(Base):
    __tablename__ = "territories"

    territory_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("territories.territory_id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProjectRow(Base):
    __tablename__ = "projects"
    __table_args__ = (Index("ix_projects_needs", "needs", postgresql_using="gin"),)

    project_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    territory_id: Mapped[str] = mapped_column(ForeignKey("territories.territory_id"), index=True)
    owner_member_id: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    sector: Mapped[str] = mapped_column(String(100))
    languages: Mapped[list[str]] = mapped_column(JSONB, default=list)
    needs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    funding: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    source_idea_ids: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    status: Mapped[str] = mapped_column(String(20), index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    pledged_total: Mapped[Decimal] = mapped_column(
        Numeric(15, 2), default=Decimal("0.00"), server_default="0"
    )
    goal_reached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class TerritoryRoleRow(Base):
    """Who manages a territory (and so every territory under it)."""

    __tablename__ = "territory_roles"

    territory_id: Mapped[str] = mapped_column(ForeignKey("territories.territory_id"), primary_key=True)
    sub: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(100))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PledgeRow(Base):
    """The ledger: amounts stay when a member is erased, only the link to them goes."""

    __tablename__ = "pledges"

    pledge_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.project_id"), index=True)
    member_id: Mapped[str | None] = mapped_column(String(100), index=True, comment="NULL once erased")
    amount: Mapped[Decimal] = mapped_column(Numeric(15, 2))
    currency: Mapped[str] = mapped_column(String(3))
    pledged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Financing (contract 4.8): a pledge's campaign, its transfer reference and the rest of its life.
    campaign_id: Mapped[str | None] = mapped_column(String(100), index=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True, comment="NULL once erased")
    on_behalf_of_member_id: Mapped[str | None] = mapped_column(String(100), index=True)
    public_name: Mapped[str | None] = mapped_column(String(200), comment="NULL: anonymous, or erased")
    status: Mapped[str] = mapped_column(String(20), default="pledged", server_default="pledged")
    offline: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    collected_amount: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    collected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    method: Mapped[str | None] = mapped_column(String(20))
    collected_by: Mapped[str | None] = mapped_column(String(100), comment="NULL once erased")
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class MemberFactsRow(Base):
    """Read model fed by the members service's events: who may act for which member."""

    __tablename__ = "member_facts"

    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    managers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    attachments: Mapped[list[dict[str, str]]] = mapped_column(
        JSONB, default=list, server_default="[]", comment="Bonds to territories, for co-funding conditions"
    )
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), comment="Time of the event that set it")
