"""Standard Webhooks: the secret a rotation replaced, and when, so that it signs during the overlap

Revision ID: 0005_webhooks
Revises: 0004_throughput
Create Date: 2026-12-01 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_webhooks"
down_revision: str | None = "0004_throughput"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("preferences", sa.Column("previous_webhook_secret", sa.String(length=200), nullable=True))
    op.add_column(
        "preferences", sa.Column("webhook_secret_rotated_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("preferences", "webhook_secret_rotated_at")
    op.drop_column("preferences", "previous_webhook_secret")
