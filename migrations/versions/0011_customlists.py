"""Custom lists (自定义台账): their definitions and one table for the records of all of them

Revision ID: 0011_customlists
Revises: 0008_lowcode
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0011_customlists'
down_revision = '0008_lowcode'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def _audited():
    return [
        sa.Column('created_on', sa.DateTime(), nullable=False),
        sa.Column('changed_on', sa.DateTime(), nullable=False),
        sa.Column('created_by_fk', sa.Integer(), sa.ForeignKey('ab_user.id'), nullable=True),
        sa.Column('changed_by_fk', sa.Integer(), sa.ForeignKey('ab_user.id'), nullable=True),
    ]


def upgrade() -> None:
    op.create_table('qqh_custom_list',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('title_label', sa.String(length=40), nullable=False),
        sa.Column('description', sa.String(length=500), nullable=True),
        sa.Column('units', JSON, nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('removed', sa.Boolean(), nullable=False),
        *_audited(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    op.create_table('qqh_custom_record',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('list_id', sa.Integer(), sa.ForeignKey('qqh_custom_list.id'), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('unit_id', sa.Integer(), sa.ForeignKey('qqh_unit.id'), nullable=False),
        sa.Column('qqh_fields', JSON, nullable=True),
        *_audited(),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_qqh_custom_record_list_id', 'qqh_custom_record', ['list_id'])
    op.create_index('ix_qqh_custom_record_unit_id', 'qqh_custom_record', ['unit_id'])


def downgrade() -> None:
    op.drop_index('ix_qqh_custom_record_unit_id', table_name='qqh_custom_record')
    op.drop_index('ix_qqh_custom_record_list_id', table_name='qqh_custom_record')
    op.drop_table('qqh_custom_record')
    op.drop_table('qqh_custom_list')
