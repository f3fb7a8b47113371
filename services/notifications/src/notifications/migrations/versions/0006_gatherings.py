"""what messages say of gatherings, and who registered for them

Revision ID: 0006_gatherings
Revises: 0005_webhooks
Create Date: 2026-12-01 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_gatherings"
down_revision: str | None = "0005_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gathering_facts",
        sa.Column("gathering_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("territory_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True, comment="The venue's city; NULL online"),
        sa.Column("location", sa.String(length=1000), nullable=True),
        sa.Column("organisers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("gathering_id"),
    )
    op.create_table(
        "gathering_registrants",
        sa.Column("registration_id", sa.String(length=100), nullable=False),
        sa.Column("gathering_id", sa.String(length=100), nullable=False),
        sa.Column("member_id", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("registration_id"),
    )
    op.create_index("ix_gathering_registrants_gathering_id", "gathering_registrants", ["gathering_id"])
    op.create_index("ix_gathering_registrants_member_id", "gathering_registrants", ["member_id"])


def downgrade() -> None:
    op.drop_table("gathering_registrants")
    op.drop_table("gathering_facts")
