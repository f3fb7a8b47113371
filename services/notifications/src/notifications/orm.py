"""The notifications service's tables."""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, MetaData, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


class ContactRow(Base):
    """Who to tell and how to address them; deleted (but for a tombstone) when the member is erased."""

    __tablename__ = "contacts"

    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(35), default="en")
    managers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TerritoryRow(Base):
    __tablename__ = "territories"

    territory_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class ProjectRow(Base):
    __tablename__ = "projects"

    project_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    territory_id: Mapped[str] = mapped_column(String(100))
    owner_member_id: Mapped[str] = mapped_column(String(100))


class NotificationRow(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("cause_event_id", "member_id", "channel", name="one_delivery_per_cause"),
    )

    notification_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(100), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(50))
    language: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    cause_event_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
