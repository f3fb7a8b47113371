"""deadlines: when a match entered its stage, its reminder, and the project side's passes

Revision ID: 0003_deadlines
Revises: 0002
Create Date: 2026-12-01 12:34:08.661902
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_deadlines'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('match_passes',
    sa.Column('match_id', sa.String(length=100), nullable=False),
    sa.Column('reason_code', sa.String(length=40), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('passed_by', sa.String(length=100), nullable=False),
    sa.Column('passed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('match_id')
    )
    op.add_column('matches', sa.Column('stage_since', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False, comment='Since when it waits as proposed or accepted'))
    op.add_column('matches', sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True, comment='When the side awaited was reminded, in the current stage'))
    # Matches already waiting count from their last change.
    op.execute("UPDATE matches SET stage_since = updated_at")
    op.create_index('ix_matches_status_stage_since', 'matches', ['status', 'stage_since'])


def downgrade() -> None:
    op.drop_index('ix_matches_status_stage_since', table_name='matches')
    op.drop_column('matches', 'reminded_at')
    op.drop_column('matches', 'stage_since')
    op.drop_table('match_passes')
