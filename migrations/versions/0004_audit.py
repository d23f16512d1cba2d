"""The audit log

Revision ID: 0004_audit
Revises: 0003_accounts
Create Date: 2026-12-01 10:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_audit'
down_revision = '0003_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('qqh_audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=256), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('record_id', sa.String(length=64), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('values_before', sa.Text(), nullable=True),
    sa.Column('values_after', sa.Text(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('qqh_audit_log', schema=None) as batch_op:
        for column in ('at', 'user_id', 'username', 'unit_id', 'action', 'model'):
            batch_op.create_index(batch_op.f(f'ix_qqh_audit_log_{column}'), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('qqh_audit_log', schema=None) as batch_op:
        for column in ('model', 'action', 'unit_id', 'username', 'user_id', 'at'):
            batch_op.drop_index(batch_op.f(f'ix_qqh_audit_log_{column}'))
    op.drop_table('qqh_audit_log')
