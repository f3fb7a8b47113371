"""answers to requests sent with an Idempotency-Key

Revision ID: 0007_idempotency
Revises: 0002
Create Date: 2026-12-01 12:40:00.000000
"""

from collections.abc import Sequence

from alembic import op
from passerelle.messaging.migrations import create_idempotency_table, drop_idempotency_table

revision: str = '0007_idempotency'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotency_table(op)


def downgrade() -> None:
    drop_idempotency_table(op)
