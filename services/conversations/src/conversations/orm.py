"""The conversations service's tables: threads, their participants and messages, and the read models
(members, projects) that say who acts for whom and what a thread is about."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


class ThreadRow(Base):
    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("context_kind", "context_id", name="one_thread_per_context"),)

    thread_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    context_kind: Mapped[str] = mapped_column(String(30))
    context_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0, comment="Number of the newest message")
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ParticipantRow(Base):
    __tablename__ = "participants"

    thread_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("threads.thread_id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(
        Text, comment="helper, owner, promoter, or an introduction's role as it came"
    )
    read_up_to: Mapped[int] = mapped_column(BigInteger, default=0, comment="Number of the last message read")


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("thread_id", "seq", name="one_message_per_number"),)

    message_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(100), ForeignKey("threads.thread_id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    author_member_id: Mapped[str] = mapped_column(String(100), index=True)
    body: Mapped[str | None] = mapped_column(Text, comment="None once its author was erased")
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReportRow(Base):
    __tablename__ = "reports"

    message_id: Mapped[str] = mapped_column(
        String(100), ForeignKey("messages.message_id", ondelete="CASCADE"), primary_key=True
    )
    reporter_member_id: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    reason: Mapped[str] = mapped_column(String(500))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MemberRow(Base):
    """Who a member is called and who manages them, as the members service says; erased: only the id."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    managers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), comment="Time of the newest event")


class ProjectRow(Base):
    __tablename__ = "projects"

    project_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner_member_id: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200))
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PendingThreadRow(Base):
    """A confirmed match whose project is not known yet: its thread opens when the project comes."""

    __tablename__ = "pending_threads"

    context_kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    context_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(100), index=True)
    member_id: Mapped[str] = mapped_column(String(100), index=True)
