"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-12-01 12:20:54
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
    op.create_table('conversations',
    sa.Column('conversation_id', sa.String(length=100), nullable=False),
    sa.Column('owner_member_id', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('conversation_id')
    )
    op.create_index(op.f('ix_conversations_owner_member_id'), 'conversations', ['owner_member_id'], unique=False)
    create_messaging_tables(op)


def downgrade() -> None:
    drop_messaging_tables(op)
    op.drop_index(op.f('ix_conversations_owner_member_id'), table_name='conversations')
    op.drop_table('conversations')
