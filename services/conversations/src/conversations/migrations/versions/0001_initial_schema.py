"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-12-01 12:20:54
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from alembic import op
from passerelle.messaging.migrations import (
    create_idempotency_table,
    create_messaging_tables,
    drop_idempotency_table,
    drop_messaging_tables,
)

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('members',
    sa.Column('member_id', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('managers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('erased', sa.Boolean(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False, comment='Time of the newest event'),
    sa.PrimaryKeyConstraint('member_id')
    )
    op.create_table('pending_threads',
    sa.Column('context_kind', sa.String(length=30), nullable=False),
    sa.Column('context_id', sa.String(length=100), nullable=False),
    sa.Column('project_id', sa.String(length=100), nullable=False),
    sa.Column('member_id', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('context_kind', 'context_id')
    )
    op.create_index(op.f('ix_pending_threads_member_id'), 'pending_threads', ['member_id'], unique=False)
    op.create_index(op.f('ix_pending_threads_project_id'), 'pending_threads', ['project_id'], unique=False)
    op.create_table('projects',
    sa.Column('project_id', sa.String(length=100), nullable=False),
    sa.Column('owner_member_id', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('project_id')
    )
    op.create_index(op.f('ix_projects_owner_member_id'), 'projects', ['owner_member_id'], unique=False)
    op.create_table('threads',
    sa.Column('thread_id', sa.String(length=100), nullable=False),
    sa.Column('context_kind', sa.String(length=30), nullable=False),
    sa.Column('context_id', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False, comment='Number of the newest message'),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('thread_id'),
    sa.UniqueConstraint('context_kind', 'context_id', name='one_thread_per_context')
    )
    op.create_table('messages',
    sa.Column('message_id', sa.String(length=100), nullable=False),
    sa.Column('thread_id', sa.String(length=100), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('author_member_id', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=True, comment='None once its author was erased'),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.thread_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id'),
    sa.UniqueConstraint('thread_id', 'seq', name='one_message_per_number')
    )
    op.create_index(op.f('ix_messages_author_member_id'), 'messages', ['author_member_id'], unique=False)
    op.create_table('participants',
    sa.Column('thread_id', sa.String(length=100), nullable=False),
    sa.Column('member_id', sa.String(length=100), nullable=False),
    sa.Column('role', sa.Text(), nullable=False, comment="helper, owner, promoter, or an introduction's role as it came"),
    sa.Column('read_up_to', sa.BigInteger(), nullable=False, comment='Number of the last message read'),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.thread_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('thread_id', 'member_id')
    )
    op.create_index(op.f('ix_participants_member_id'), 'participants', ['member_id'], unique=False)
    op.create_table('reports',
    sa.Column('message_id', sa.String(length=100), nullable=False),
    sa.Column('reporter_member_id', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.message_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', 'reporter_member_id')
    )
    op.create_index(op.f('ix_reports_reporter_member_id'), 'reports', ['reporter_member_id'], unique=False)
    create_messaging_tables(op)
    create_idempotency_table(op)


def downgrade() -> None:
    drop_idempotency_table(op)
    drop_messaging_tables(op)
    op.drop_index(op.f('ix_reports_reporter_member_id'), table_name='reports')
    op.drop_table('reports')
    op.drop_index(op.f('ix_participants_member_id'), table_name='participants')
    op.drop_table('participants')
    op.drop_index(op.f('ix_messages_author_member_id'), table_name='messages')
    op.drop_table('messages')
    op.drop_table('threads')
    op.drop_index(op.f('ix_projects_owner_member_id'), table_name='projects')
    op.drop_table('projects')
    op.drop_index(op.f('ix_pending_threads_project_id'), table_name='pending_threads')
    op.drop_index(op.f('ix_pending_threads_member_id'), table_name='pending_threads')
    op.drop_table('pending_threads')
    op.drop_table('members')
