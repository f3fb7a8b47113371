"""financing: plans, campaigns, pledges' lives and references, co-funding, updates

Revision ID: 0003_financing
Revises: 0007_idempotency
Create Date: 2026-12-01 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003_financing'
down_revision: str | None = '0007_idempotency'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('financing_plans',
    sa.Column('project_id', sa.String(length=100), nullable=False),
    sa.Column('budget_amount', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('lines', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('collector', postgresql.JSONB(astext_type=sa.Text()), nullable=False, comment='confirmer_subs lose an erased member'),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.project_id'], ),
    sa.PrimaryKeyConstraint('project_id')
    )
    op.create_table('campaigns',
    sa.Column('campaign_id', sa.String(length=100), nullable=False),
    sa.Column('project_id', sa.String(length=100), nullable=False),
    sa.Column('goal_amount', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('minimum_amount', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('rule', sa.String(length=20), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('collection_days', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('pledged_total', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('collected_total', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.project_id'], ),
    sa.PrimaryKeyConstraint('campaign_id')
    )
    op.create_index(op.f('ix_campaigns_project_id'), 'campaigns', ['project_id'], unique=False)
    op.create_index('ix_campaigns_status_closes_at', 'campaigns', ['status', 'closes_at'], unique=False)
    op.create_table('cofunding_offers',
    sa.Column('offer_id', sa.String(length=100), nullable=False),
    sa.Column('project_id', sa.String(length=100), nullable=False),
    sa.Column('sponsor_member_id', sa.String(length=100), nullable=False),
    sa.Column('ratio', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('cap_amount', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('conditions', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('used_amount', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.project_id'], ),
    sa.PrimaryKeyConstraint('offer_id')
    )
    op.create_index(op.f('ix_cofunding_offers_project_id'), 'cofunding_offers', ['project_id'], unique=False)
    op.create_index(op.f('ix_cofunding_offers_sponsor_member_id'), 'cofunding_offers', ['sponsor_member_id'], unique=False)
    op.create_table('cofunding_applications',
    sa.Column('offer_id', sa.String(length=100), nullable=False),
    sa.Column('pledge_id', sa.String(length=100), nullable=False),
    sa.Column('project_id', sa.String(length=100), nullable=False),
    sa.Column('amount', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['cofunding_offers.offer_id'], ),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.pledge_id'], ),
    sa.PrimaryKeyConstraint('offer_id', 'pledge_id')
    )
    op.create_index(op.f('ix_cofunding_applications_project_id'), 'cofunding_applications', ['project_id'], unique=False)
    op.create_table('project_updates',
    sa.Column('update_id', sa.String(length=100), nullable=False),
    sa.Column('project_id', sa.String(length=100), nullable=False),
    sa.Column('author_sub', sa.String(length=100), nullable=False, comment='erased once its author is'),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.project_id'], ),
    sa.PrimaryKeyConstraint('update_id')
    )
    op.create_index(op.f('ix_project_updates_project_id'), 'project_updates', ['project_id'], unique=False)
    op.add_column('pledges', sa.Column('campaign_id', sa.String(length=100), nullable=True))
    op.add_column('pledges', sa.Column('reference', sa.String(length=20), nullable=True, comment='NULL once erased'))
    op.add_column('pledges', sa.Column('on_behalf_of_member_id', sa.String(length=100), nullable=True))
    op.add_column('pledges', sa.Column('public_name', sa.String(length=200), nullable=True, comment='NULL: anonymous, or erased'))
    op.add_column('pledges', sa.Column('status', sa.String(length=20), server_default='pledged', nullable=False))
    op.add_column('pledges', sa.Column('offline', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('pledges', sa.Column('collected_amount', sa.Numeric(precision=15, scale=2), nullable=True))
    op.add_column('pledges', sa.Column('collected_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('pledges', sa.Column('method', sa.String(length=20), nullable=True))
    op.add_column('pledges', sa.Column('collected_by', sa.String(length=100), nullable=True, comment='NULL once erased'))
    op.add_column('pledges', sa.Column('reminders_sent', sa.Integer(), server_default='0', nullable=False))
    op.create_index(op.f('ix_pledges_campaign_id'), 'pledges', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_pledges_on_behalf_of_member_id'), 'pledges', ['on_behalf_of_member_id'], unique=False)
    op.create_unique_constraint(op.f('pledges_reference_key'), 'pledges', ['reference'])
    op.add_column('member_facts', sa.Column('attachments', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False, comment='Bonds to territories, for co-funding conditions'))


def downgrade() -> None:
    op.drop_column('member_facts', 'attachments')
    op.drop_constraint(op.f('pledges_reference_key'), 'pledges', type_='unique')
    op.drop_index(op.f('ix_pledges_on_behalf_of_member_id'), table_name='pledges')
    op.drop_index(op.f('ix_pledges_campaign_id'), table_name='pledges')
    for column in ('reminders_sent', 'collected_by', 'method', 'collected_at', 'collected_amount', 'offline',
                   'status', 'public_name', 'on_behalf_of_member_id', 'reference', 'campaign_id'):
        op.drop_column('pledges', column)
    op.drop_index(op.f('ix_project_updates_project_id'), table_name='project_updates')
    op.drop_table('project_updates')
    op.drop_index(op.f('ix_cofunding_applications_project_id'), table_name='cofunding_applications')
    op.drop_table('cofunding_applications')
    op.drop_index(op.f('ix_cofunding_offers_sponsor_member_id'), table_name='cofunding_offers')
    op.drop_index(op.f('ix_cofunding_offers_project_id'), table_name='cofunding_offers')
    op.drop_table('cofunding_offers')
    op.drop_index('ix_campaigns_status_closes_at', table_name='campaigns')
    op.drop_index(op.f('ix_campaigns_project_id'), table_name='campaigns')
    op.drop_table('campaigns')
    op.drop_table('financing_plans')
