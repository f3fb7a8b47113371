"""The projects service's tables."""

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, MetaData, String, Text, func
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

    project_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    territory_id: Mapped[str] = mapped_column(ForeignKey("territories.territory_id"), index=True)
    owner_member_id: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    sector: Mapped[str] = mapped_column(String(100))
    languages: Mapped[list[str]] = mapped_column(JSONB, default=list)
    needs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    funding: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class MemberFactsRow(Base):
    """Read model fed by the members service's events: who may act for which member."""

    __tablename__ = "member_facts"

    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    managers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), comment="Time of the event that set it")
