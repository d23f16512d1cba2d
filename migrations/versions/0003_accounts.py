"""Accounts: login throttling and revocation of sessions and tokens

Revision ID: 0003_accounts
Revises: 0002_kpi
Create Date: 2026-12-01 10:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_accounts'
down_revision = '0002_kpi'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('qqh_login_throttle',
    sa.Column('key', sa.String(length=320), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure', sa.DateTime(), nullable=True),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('qqh_login_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qqh_login_throttle_locked_until'), ['locked_until'], unique=False)
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('valid_after', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_column('valid_after')
    with op.batch_alter_table('qqh_login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qqh_login_throttle_locked_until'))
    op.drop_table('qqh_login_throttle')
