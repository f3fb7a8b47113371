"""What waits for a member's profile: the goal's news to a pledger not yet known

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "waiting_for_profiles",
        sa.Column("cause_event_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("values", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("facts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("cause_event_id", "member_id"),
    )
    op.create_index(
        op.f("ix_waiting_for_profiles_member_id"), "waiting_for_profiles", ["member_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_waiting_for_profiles_member_id"), table_name="waiting_for_profiles")
    op.drop_table("waiting_for_profiles")
