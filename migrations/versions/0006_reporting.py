"""The reporting loop: submissions, their history, notifications; KPI targets counted as approved

Revision ID: 0006_reporting
Revises: 0005_targets
Create Date: 2026-12-01 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_reporting'
down_revision = '0005_targets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('qqh_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('url', sa.String(length=300), nullable=True),
    sa.Column('read_on', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('qqh_notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qqh_notification_user_id'), ['user_id'], unique=False)
    op.create_table('qqh_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_key', sa.String(length=64), nullable=False),
    sa.Column('plan_year', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('submitted_by_fk', sa.Integer(), nullable=True),
    sa.Column('submitted_on', sa.DateTime(), nullable=False),
    sa.Column('reviewed_by_fk', sa.Integer(), nullable=True),
    sa.Column('reviewed_on', sa.DateTime(), nullable=True),
    sa.Column('review_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['reviewed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['submitted_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['qqh_unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_key', 'plan_year', 'unit_id')
    )
    with op.batch_alter_table('qqh_submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qqh_submission_item_key'), ['item_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_qqh_submission_unit_id'), ['unit_id'], unique=False)
    op.create_table('qqh_submission_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=256), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['submission_id'], ['qqh_submission.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('qqh_submission_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qqh_submission_event_submission_id'), ['submission_id'], unique=False)
    with op.batch_alter_table('qqh_kpi_target', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counts', sa.String(length=10), nullable=False, server_default='entered'))


def downgrade() -> None:
    with op.batch_alter_table('qqh_kpi_target', schema=None) as batch_op:
        batch_op.drop_column('counts')
    with op.batch_alter_table('qqh_submission_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qqh_submission_event_submission_id'))
    op.drop_table('qqh_submission_event')
    with op.batch_alter_table('qqh_submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qqh_submission_unit_id'))
        batch_op.drop_index(batch_op.f('ix_qqh_submission_item_key'))
    op.drop_table('qqh_submission')
    with op.batch_alter_table('qqh_notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qqh_notification_user_id'))
    op.drop_table('qqh_notification')
