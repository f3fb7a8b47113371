"""initial schema: the ended sessions, the outbox and inbox (the portal owns no domain data)

Revision ID: 0001
Revises:
Create Date: 2026-12-01 12:33:44
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from passerelle.messaging.migrations import create_messaging_tables, drop_messaging_tables

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'portal_ended_sessions',
        sa.Column('session_id', sa.String(length=64), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('session_id'),
    )
    op.create_index(op.f('ix_portal_ended_sessions_ended_at'), 'portal_ended_sessions', ['ended_at'], unique=False)
    create_messaging_tables(op)


def downgrade() -> None:
    drop_messaging_tables(op)
    op.drop_index(op.f('ix_portal_ended_sessions_ended_at'), table_name='portal_ended_sessions')
    op.drop_table('portal_ended_sessions')
