"""The ideas service's tables: plans, ideas, their supports, contributions and reports, and the read
models of members, territories and their managers it learns from events."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, MetaData, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


class PlanRow(Base):
    __tablename__ = "plans"

    plan_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    territory_id: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    axes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    phases: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), index=True)
    announced_phase: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IdeaRow(Base):
    __tablename__ = "ideas"

    idea_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    territory_id: Mapped[str] = mapped_column(String(100), index=True)
    author_member_id: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2))
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("plans.plan_id"), index=True)
    axis_id: Mapped[str | None] = mapped_column(String(100))
    sector: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), index=True)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SupportRow(Base):
    """One support; an erased member's stays, anonymous: its bond and country still count."""

    __tablename__ = "supports"
    __table_args__ = (
        Index(
            "uq_supports_idea_member",
            "idea_id",
            "member_id",
            unique=True,
            postgresql_where="member_id IS NOT NULL",
        ),
    )

    support_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    idea_id: Mapped[str] = mapped_column(ForeignKey("ideas.idea_id"), index=True)
    member_id: Mapped[str | None] = mapped_column(String(100), index=True, comment="NULL once erased")
    bond: Mapped[str] = mapped_column(String(10))
    country: Mapped[str] = mapped_column(String(2), comment="Of residence, when the support was given")
    in_country: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ContributionRow(Base):
    __tablename__ = "contributions"

    contribution_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    idea_id: Mapped[str] = mapped_column(ForeignKey("ideas.idea_id"), index=True)
    author_member_id: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("contributions.contribution_id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReportRow(Base):
    """An open report: a manager's decision (hide or unhide) settles and removes them."""

    __tablename__ = "reports"

    idea_id: Mapped[str] = mapped_column(ForeignKey("ideas.idea_id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProjectLinkRow(Base):
    """A project's source ideas, kept so that an idea the project named before it was known here is
    promoted when it comes."""

    __tablename__ = "project_links"

    project_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    idea_id: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class MemberFactsRow(Base):
    """Read model fed by the members service: who acts for a member, where it lives, its bonds."""

    __tablename__ = "member_facts"

    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    managers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    country_of_residence: Mapped[str] = mapped_column(String(2))
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), comment="Time of the event that set it")


class TerritoryRow(Base):
    """Read model fed by the projects service: the territory tree and each territory's country."""

    __tablename__ = "territories"

    territory_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    parent_id: Mapped[str | None] = mapped_column(String(100), index=True)


class TerritoryRoleRow(Base):
    """Read model fed by the projects service: who manages a territory (and those under it). A role
    removed stays as a row not `held`, so that a naming that arrives late does not bring it back."""

    __tablename__ = "territory_roles"

    territory_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    sub: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)
    held: Mapped[bool] = mapped_column(Boolean)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), comment="Time of the event that set it")
