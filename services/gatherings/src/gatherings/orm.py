"""The gatherings service's tables."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, MetaData, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


class GatheringRow(Base):
    __tablename__ = "gatherings"

    gathering_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    territory_id: Mapped[str] = mapped_column(String(100), index=True)
    project_id: Mapped[str | None] = mapped_column(String(100))
    organiser_member_id: Mapped[str] = mapped_column(String(100), index=True)
    co_organiser_member_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    kind: Mapped[str] = mapped_column(String(30))
    format: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    languages: Mapped[list[str]] = mapped_column(JSONB, default=list)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    time_zone: Mapped[str] = mapped_column(String(64))
    venue: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    online_url: Mapped[str | None] = mapped_column(String(2000))
    capacity: Mapped[int] = mapped_column(Integer)
    online_capacity: Mapped[int | None] = mapped_column(Integer)
    registration_closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    agenda: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    status: Mapped[str] = mapped_column(String(20), index=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    attended: Mapped[int] = mapped_column(Integer, default=0)
    walk_ins: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(Text, default="")
    outcomes: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RegistrationRow(Base):
    """Who registered; deleted when the member is erased (the gathering keeps its attendance count)."""

    __tablename__ = "registrations"
    __table_args__ = (
        Index("registrations_code", "gathering_id", "code", unique=True),
        # One registration holding or awaiting a place per member and gathering.
        Index(
            "registrations_one_active",
            "gathering_id",
            "member_id",
            unique=True,
            postgresql_where=text("status <> 'cancelled'"),
        ),
    )

    registration_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    # The waitlist's order: first come, first served.
    position: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    gathering_id: Mapped[str] = mapped_column(String(100), index=True)
    member_id: Mapped[str] = mapped_column(String(100), index=True)
    attendance: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The start time the member was last reminded of: a moved gathering brings a new reminder.
    reminded_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TerritoryRow(Base):
    """Read model fed by the projects service's TerritoryRegistered: the territory tree."""

    __tablename__ = "territories"

    territory_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(String(100), index=True)


class TerritoryManagerRow(Base):
    """Read model fed by TerritoryManagerNamed and TerritoryManagerRemoved."""

    __tablename__ = "territory_managers"

    territory_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    sub: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)


class MemberFactsRow(Base):
    """Read model fed by the members service's events: kind, name and who acts for a member."""

    __tablename__ = "member_facts"

    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str] = mapped_column(String(200))
    managers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FeedRow(Base):
    """A member's private calendar link: whoever has the token reads the member's calendar."""

    __tablename__ = "calendar_feeds"

    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
