"""Notices (通知公告), who has read them, and attachments of records

Revision ID: 0007_inbox
Revises: 0006_reporting
Create Date: 2026-12-01 13:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_inbox'
down_revision = '0006_reporting'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('qqh_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['qqh_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('qqh_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qqh_notice_unit_id'), ['unit_id'], unique=False)

    op.create_table('qqh_notice_read',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('read_on', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['qqh_notice.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notice_id', 'user_id')
    )
    with op.batch_alter_table('qqh_notice_read', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qqh_notice_read_notice_id'), ['notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_qqh_notice_read_user_id'), ['user_id'], unique=False)

    op.create_table('qqh_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_type', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['qqh_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('qqh_attachment', schema=None) as batch_op:
        batch_op.create_index('ix_qqh_attachment_record', ['record_type', 'record_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_qqh_attachment_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_qqh_attachment_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_table('qqh_attachment')
    op.drop_table('qqh_notice_read')
    op.drop_table('qqh_notice')
