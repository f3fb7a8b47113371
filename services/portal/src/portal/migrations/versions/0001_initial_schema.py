"""initial schema: the outbox and inbox only (the portal owns no domain data)

Revision ID: 0001
Revises:
Create Date: 2026-12-01 12:33:44
"""

from collections.abc import Sequence

from alembic import op
from passerelle.messaging.migrations import create_messaging_tables, drop_messaging_tables

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables(op)


def downgrade() -> None:
    drop_messaging_tables(op)
