"""The notifications service's tables."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
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
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # Territory ids the member is attached to (any bond): who hears of projects published there.
    attachments: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    managers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PreferencesRow(Base):
    """What a member wants to hear of, where, and how often; absent means the defaults."""

    __tablename__ = "preferences"

    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    # kind -> channels, e.g. {"pledge_made": ["inbox"]}; kinds not named get the default channels.
    channels: Mapped[dict[str, list[str]]] = mapped_column(JSONB, default=dict)
    digest: Mapped[str] = mapped_column(String(10), default="immediate")
    digest_hour: Mapped[int] = mapped_column(Integer, default=8)
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_secret: Mapped[str | None] = mapped_column(String(200))
    previous_webhook_secret: Mapped[str | None] = mapped_column(String(200))
    webhook_secret_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    territory_news: Mapped[list[str]] = mapped_column(JSONB, default=list)
    opportunity_news: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TerritoryRow(Base):
    __tablename__ = "territories"

    territory_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(String(100))


class ProjectRow(Base):
    __tablename__ = "projects"

    project_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    territory_id: Mapped[str] = mapped_column(String(100))
    owner_member_id: Mapped[str] = mapped_column(String(100))
    # need_id -> skill code, to say what a match is about.
    needs: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict, server_default="{}")
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PledgeRow(Base):
    """Who pledged to a project: they hear when its goal is reached. Erased pledgers become NULL."""

    __tablename__ = "pledges"

    pledge_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(100), index=True)
    member_id: Mapped[str | None] = mapped_column(String(100), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))


class WaitingRow(Base):
    """Something to tell a member this service has not heard of yet (their profile is on its way):
    told as soon as the profile comes, so that one unknown recipient never holds the others."""

    __tablename__ = "waiting_for_profiles"

    cause_event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(50))
    # language -> the message's values in it, since the member's language is not known yet.
    values: Mapped[dict[str, dict[str, str]]] = mapped_column(JSONB)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FanOutRow(Base):
    """News to tell a whole audience (the members of a territory who asked for its news), told in
    chunks, each in its own transaction: `after` is the last member told, so that a crash resumes at
    the next chunk and no transaction grows with the audience."""

    __tablename__ = "fan_outs"

    cause_event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), primary_key=True)
    # language -> the message's values in it: each member reads it in theirs.
    values: Mapped[dict[str, dict[str, str]]] = mapped_column(JSONB)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    territories: Mapped[list[str]] = mapped_column(JSONB)  # the territory and those above it
    besides: Mapped[list[str]] = mapped_column(JSONB, default=list)  # members not to tell (the author)
    after: Mapped[str] = mapped_column(String(100), default="")
    # The preference naming the territories whose news a member asked for (see NEWS_PREFERENCES).
    preference: Mapped[str] = mapped_column(
        String(30), default="territory_news", server_default="territory_news"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MessageRow(Base):
    """One e-mail or webhook call to send: a single notification, or a digest gathering several.

    A digest message collects notifications until `due_at` (the member's local digest time); a
    failed send moves `due_at` by the retry back-off."""

    __tablename__ = "messages"
    __table_args__ = (Index("messages_due", "status", "due_at"),)

    message_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(100), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sent | failed
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationRow(Base):
    """One thing told to one member on one channel; the inbox is the rows of channel `inbox`,
    the delivery log all of them."""

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
    # What a webhook receiver gets besides the text: ids of the project, match, pledge...
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    cause_event_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="delivered", server_default="delivered")
    message_id: Mapped[str | None] = mapped_column(
        ForeignKey("messages.message_id", ondelete="CASCADE", name="notifications_message_id_fkey"),
        index=True,
    )
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
