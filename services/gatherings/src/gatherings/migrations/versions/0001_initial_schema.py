"""gatherings, registrations and the read models

Revision ID: 0001
Revises:
Create Date: 2026-12-01 12:20:55
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from passerelle.messaging.migrations import (
    create_idempotency_table,
    create_messaging_tables,
    drop_idempotency_table,
    drop_messaging_tables,
)
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gatherings",
        sa.Column("gathering_id", sa.String(length=100), nullable=False),
        sa.Column("territory_id", sa.String(length=100), nullable=False),
        sa.Column("project_id", sa.String(length=100), nullable=True),
        sa.Column("organiser_member_id", sa.String(length=100), nullable=False),
        sa.Column("co_organiser_member_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("languages", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("venue", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("online_url", sa.String(length=2000), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("online_capacity", sa.Integer(), nullable=True),
        sa.Column("registration_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agenda", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("attended", sa.Integer(), nullable=False),
        sa.Column("walk_ins", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("outcomes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("gathering_id"),
    )
    for column in ("territory_id", "organiser_member_id", "starts_at", "status"):
        op.create_index(f"ix_gatherings_{column}", "gatherings", [column])
    op.create_table(
        "registrations",
        sa.Column("registration_id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("gathering_id", sa.String(length=100), nullable=False),
        sa.Column("member_id", sa.String(length=100), nullable=False),
        sa.Column("attendance", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_for", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("registration_id"),
        sa.UniqueConstraint("position"),
    )
    op.create_index("ix_registrations_gathering_id", "registrations", ["gathering_id"])
    op.create_index("ix_registrations_member_id", "registrations", ["member_id"])
    op.create_index("registrations_code", "registrations", ["gathering_id", "code"], unique=True)
    op.create_index(
        "registrations_one_active",
        "registrations",
        ["gathering_id", "member_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'cancelled'"),
    )
    op.create_table(
        "territories",
        sa.Column("territory_id", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("territory_id"),
    )
    op.create_index("ix_territories_parent_id", "territories", ["parent_id"])
    op.create_table(
        "territory_managers",
        sa.Column("territory_id", sa.String(length=100), nullable=False),
        sa.Column("sub", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("territory_id", "sub", "role"),
    )
    op.create_index("ix_territory_managers_sub", "territory_managers", ["sub"])
    op.create_table(
        "member_facts",
        sa.Column("member_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("managers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("member_id", sa.String(length=100), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("member_id"),
        sa.UniqueConstraint("token"),
    )
    create_messaging_tables(op)
    create_idempotency_table(op)  # Idempotency-Key on the creating POSTs (contract 4.1)


def downgrade() -> None:
    drop_idempotency_table(op)
    drop_messaging_tables(op)
    for table in ("calendar_feeds", "member_facts", "territory_managers", "territories", "registrations", "gatherings"):
        op.drop_table(table)
