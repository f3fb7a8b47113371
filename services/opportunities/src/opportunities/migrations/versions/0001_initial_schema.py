"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-12-01 12:31:04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from passerelle.messaging.migrations import (
    create_idempotency_table,
    create_messaging_tables,
    drop_idempotency_table,
    drop_messaging_tables,
)
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('interests',
    sa.Column('interest_id', sa.String(length=100), nullable=False),
    sa.Column('opportunity_id', sa.String(length=100), nullable=False),
    sa.Column('member_id', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('amount_min', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('amount_max', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decline_reason', sa.String(length=30), nullable=True),
    sa.Column('decline_note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('interest_id'),
    sa.UniqueConstraint('opportunity_id', 'member_id', name='uq_interests_opportunity_member')
    )
    op.create_index(op.f('ix_interests_member_id'), 'interests', ['member_id'], unique=False)
    op.create_index(op.f('ix_interests_opportunity_id'), 'interests', ['opportunity_id'], unique=False)
    op.create_index(op.f('ix_interests_status'), 'interests', ['status'], unique=False)
    op.create_table('members',
    sa.Column('member_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('country_of_residence', sa.String(length=2), nullable=False),
    sa.Column('languages', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('managers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False, comment='Time of the event that set it'),
    sa.PrimaryKeyConstraint('member_id')
    )
    op.create_table('opportunities',
    sa.Column('opportunity_id', sa.String(length=100), nullable=False),
    sa.Column('territory_id', sa.String(length=100), nullable=False),
    sa.Column('promoter_member_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('sector', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('amount_min', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('amount_max', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('instruments', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('expected_jobs', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('support_programmes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('support_needs', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('source_idea_ids', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('review_notes', sa.Text(), nullable=False),
    sa.Column('reviewed_by', sa.String(length=100), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_for', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('opportunity_id')
    )
    op.create_index(op.f('ix_opportunities_expires_on'), 'opportunities', ['expires_on'], unique=False)
    op.create_index('ix_opportunities_instruments', 'opportunities', ['instruments'], unique=False, postgresql_using='gin')
    op.create_index(op.f('ix_opportunities_promoter_member_id'), 'opportunities', ['promoter_member_id'], unique=False)
    op.create_index(op.f('ix_opportunities_status'), 'opportunities', ['status'], unique=False)
    op.create_index(op.f('ix_opportunities_territory_id'), 'opportunities', ['territory_id'], unique=False)
    op.create_table('territories',
    sa.Column('territory_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('parent_id', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('territory_id')
    )
    op.create_index(op.f('ix_territories_parent_id'), 'territories', ['parent_id'], unique=False)
    op.create_table('territory_roles',
    sa.Column('territory_id', sa.String(length=100), nullable=False),
    sa.Column('sub', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.PrimaryKeyConstraint('territory_id', 'sub', 'role')
    )
    op.create_index(op.f('ix_territory_roles_sub'), 'territory_roles', ['sub'], unique=False)
    create_messaging_tables(op)
    create_idempotency_table(op)


def downgrade() -> None:
    drop_idempotency_table(op)
    drop_messaging_tables(op)
    op.drop_index(op.f('ix_territory_roles_sub'), table_name='territory_roles')
    op.drop_table('territory_roles')
    op.drop_index(op.f('ix_territories_parent_id'), table_name='territories')
    op.drop_table('territories')
    op.drop_index(op.f('ix_opportunities_territory_id'), table_name='opportunities')
    op.drop_index(op.f('ix_opportunities_status'), table_name='opportunities')
    op.drop_index(op.f('ix_opportunities_promoter_member_id'), table_name='opportunities')
    op.drop_index('ix_opportunities_instruments', table_name='opportunities', postgresql_using='gin')
    op.drop_index(op.f('ix_opportunities_expires_on'), table_name='opportunities')
    op.drop_table('opportunities')
    op.drop_table('members')
    op.drop_index(op.f('ix_interests_status'), table_name='interests')
    op.drop_index(op.f('ix_interests_opportunity_id'), table_name='interests')
    op.drop_index(op.f('ix_interests_member_id'), table_name='interests')
    op.drop_table('interests')
