"""Background jobs: imports and big exports run outside the request

Revision ID: 0009_jobs
Revises: 0007_inbox
Create Date: 2026-12-01 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_jobs'
down_revision = '0007_inbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('qqh_job',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=True),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=100), nullable=True),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.Column('started', sa.DateTime(), nullable=True),
    sa.Column('finished', sa.DateTime(), nullable=True),
    sa.Column('heartbeat', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('qqh_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qqh_job_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_qqh_job_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('qqh_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qqh_job_user_id'))
        batch_op.drop_index(batch_op.f('ix_qqh_job_state'))
    op.drop_table('qqh_job')
