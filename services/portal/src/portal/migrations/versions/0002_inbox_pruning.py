"""the inbox indexed by age, for its pruning past the streams' retention

Revision ID: 0002_inbox_pruning
Revises: 0001
Create Date: 2026-12-01 16:20:00.000000
"""

from collections.abc import Sequence

from alembic import op
from passerelle.messaging.migrations import create_inbox_age_index, drop_inbox_age_index

revision: str = '0002_inbox_pruning'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_inbox_age_index(op)


def downgrade() -> None:
    drop_inbox_age_index(op)
