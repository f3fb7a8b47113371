"""News told in chunks: the fan-outs still under way

Revision ID: 0004_throughput
Revises: 0003
Create Date: 2026-12-01 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_throughput"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fan_outs",
        sa.Column("cause_event_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("values", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("facts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("territories", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("besides", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("after", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("cause_event_id", "kind"),
    )


def downgrade() -> None:
    op.drop_table("fan_outs")
