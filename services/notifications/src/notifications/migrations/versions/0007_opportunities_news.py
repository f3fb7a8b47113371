"""Opportunity news: the territories whose new opportunities a member wants to hear of, and which
preference a fan-out's news reads its audience from

Revision ID: 0004_opportunities
Revises: 0004_throughput
Create Date: 2026-12-01 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_opportunities"
down_revision: str | None = "0006_gatherings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "preferences",
        sa.Column(
            "opportunity_news",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
    )
    op.add_column(
        "fan_outs",
        sa.Column("preference", sa.String(length=30), server_default="territory_news", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("fan_outs", "preference")
    op.drop_column("preferences", "opportunity_news")
