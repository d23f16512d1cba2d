"""KPI targets: whose records count (scope) and the first quarter that counts

Revision ID: 0005_targets
Revises: 0004_audit
Create Date: 2026-12-01 10:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_targets'
down_revision = '0004_audit'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # rows that exist keep counting as before this column: their unit's subtree
    # (`qqh targets load` writes the notice's reading for new rows)
    with op.batch_alter_table('qqh_kpi_target', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=10), nullable=False, server_default='subtree'))
        batch_op.add_column(sa.Column('first_quarter', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('qqh_kpi_target', schema=None) as batch_op:
        batch_op.alter_column('scope', server_default='own')


def downgrade() -> None:
    with op.batch_alter_table('qqh_kpi_target', schema=None) as batch_op:
        batch_op.drop_column('first_quarter')
        batch_op.drop_column('scope')
