"""KPI figures kept live: a version per table, and the figures computed from them

Revision ID: 0010_kpilive
Revises: 0009_jobs
Create Date: 2026-12-01 13:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_kpilive'
down_revision = '0009_jobs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('qqh_kpi_version',
    sa.Column('table_name', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('table_name')
    )
    op.create_table('qqh_kpi_figure',
    sa.Column('slot', sa.String(length=40), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('unit_code', sa.String(length=20), nullable=False),
    sa.Column('check_key', sa.String(length=64), nullable=False),
    sa.Column('plan_year', sa.Integer(), nullable=False),
    sa.Column('own', sa.Float(), nullable=False),
    sa.Column('subtree', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('slot', 'since', 'until', 'unit_code')
    )
    op.create_index('ix_qqh_kpi_figure_check_year', 'qqh_kpi_figure', ['check_key', 'plan_year'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_qqh_kpi_figure_check_year', table_name='qqh_kpi_figure')
    op.drop_table('qqh_kpi_figure')
    op.drop_table('qqh_kpi_version')
