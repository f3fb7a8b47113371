"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-12-01 12:31:42.529461
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
    op.create_table('member_facts',
    sa.Column('member_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('managers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('country_of_residence', sa.String(length=2), nullable=False),
    sa.Column('attachments', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('erased', sa.Boolean(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False, comment='Time of the event that set it'),
    sa.PrimaryKeyConstraint('member_id')
    )
    op.create_table('plans',
    sa.Column('plan_id', sa.String(length=100), nullable=False),
    sa.Column('territory_id', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('axes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('phases', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('announced_phase', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('plan_id')
    )
    op.create_index(op.f('ix_plans_status'), 'plans', ['status'], unique=False)
    op.create_index(op.f('ix_plans_territory_id'), 'plans', ['territory_id'], unique=False)
    op.create_table('project_links',
    sa.Column('project_id', sa.String(length=100), nullable=False),
    sa.Column('idea_id', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('project_id', 'idea_id')
    )
    op.create_index(op.f('ix_project_links_idea_id'), 'project_links', ['idea_id'], unique=False)
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
    sa.Column('held', sa.Boolean(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False, comment='Time of the event that set it'),
    sa.PrimaryKeyConstraint('territory_id', 'sub', 'role')
    )
    op.create_index(op.f('ix_territory_roles_sub'), 'territory_roles', ['sub'], unique=False)
    op.create_table('ideas',
    sa.Column('idea_id', sa.String(length=100), nullable=False),
    sa.Column('territory_id', sa.String(length=100), nullable=False),
    sa.Column('author_member_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('plan_id', sa.String(length=100), nullable=True),
    sa.Column('axis_id', sa.String(length=100), nullable=True),
    sa.Column('sector', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('links', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.plan_id'], ),
    sa.PrimaryKeyConstraint('idea_id')
    )
    op.create_index(op.f('ix_ideas_author_member_id'), 'ideas', ['author_member_id'], unique=False)
    op.create_index(op.f('ix_ideas_plan_id'), 'ideas', ['plan_id'], unique=False)
    op.create_index(op.f('ix_ideas_status'), 'ideas', ['status'], unique=False)
    op.create_index(op.f('ix_ideas_territory_id'), 'ideas', ['territory_id'], unique=False)
    op.create_table('contributions',
    sa.Column('contribution_id', sa.String(length=100), nullable=False),
    sa.Column('idea_id', sa.String(length=100), nullable=False),
    sa.Column('author_member_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('parent_id', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.idea_id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['contributions.contribution_id'], ),
    sa.PrimaryKeyConstraint('contribution_id')
    )
    op.create_index(op.f('ix_contributions_author_member_id'), 'contributions', ['author_member_id'], unique=False)
    op.create_index(op.f('ix_contributions_idea_id'), 'contributions', ['idea_id'], unique=False)
    op.create_table('reports',
    sa.Column('idea_id', sa.String(length=100), nullable=False),
    sa.Column('member_id', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.idea_id'], ),
    sa.PrimaryKeyConstraint('idea_id', 'member_id')
    )
    op.create_table('supports',
    sa.Column('support_id', sa.String(length=100), nullable=False),
    sa.Column('idea_id', sa.String(length=100), nullable=False),
    sa.Column('member_id', sa.String(length=100), nullable=True, comment='NULL once erased'),
    sa.Column('bond', sa.String(length=10), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False, comment='Of residence, when the support was given'),
    sa.Column('in_country', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['idea_id'], ['ideas.idea_id'], ),
    sa.PrimaryKeyConstraint('support_id')
    )
    op.create_index(op.f('ix_supports_idea_id'), 'supports', ['idea_id'], unique=False)
    op.create_index(op.f('ix_supports_member_id'), 'supports', ['member_id'], unique=False)
    op.create_index('uq_supports_idea_member', 'supports', ['idea_id', 'member_id'], unique=True, postgresql_where='member_id IS NOT NULL')
    create_messaging_tables(op)
    create_idempotency_table(op)


def downgrade() -> None:
    drop_idempotency_table(op)
    drop_messaging_tables(op)
    op.drop_index('uq_supports_idea_member', table_name='supports', postgresql_where='member_id IS NOT NULL')
    op.drop_index(op.f('ix_supports_member_id'), table_name='supports')
    op.drop_index(op.f('ix_supports_idea_id'), table_name='supports')
    op.drop_table('supports')
    op.drop_table('reports')
    op.drop_index(op.f('ix_contributions_idea_id'), table_name='contributions')
    op.drop_index(op.f('ix_contributions_author_member_id'), table_name='contributions')
    op.drop_table('contributions')
    op.drop_index(op.f('ix_ideas_territory_id'), table_name='ideas')
    op.drop_index(op.f('ix_ideas_status'), table_name='ideas')
    op.drop_index(op.f('ix_ideas_plan_id'), table_name='ideas')
    op.drop_index(op.f('ix_ideas_author_member_id'), table_name='ideas')
    op.drop_table('ideas')
    op.drop_index(op.f('ix_territory_roles_sub'), table_name='territory_roles')
    op.drop_table('territory_roles')
    op.drop_index(op.f('ix_territories_parent_id'), table_name='territories')
    op.drop_table('territories')
    op.drop_index(op.f('ix_project_links_idea_id'), table_name='project_links')
    op.drop_table('project_links')
    op.drop_index(op.f('ix_plans_territory_id'), table_name='plans')
    op.drop_index(op.f('ix_plans_status'), table_name='plans')
    op.drop_table('plans')
    op.drop_table('member_facts')
