"""Low-code: custom field definitions, KPI checks as data, the definitions' version

Revision ID: 0008_lowcode
Revises: 0010_kpilive
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0008_lowcode'
down_revision = '0010_kpilive'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
CORE_UNIT_OWNED = ('qqh_notice',)


def _audited():
    return [
        sa.Column('created_on', sa.DateTime(), nullable=False),
        sa.Column('changed_on', sa.DateTime(), nullable=False),
        sa.Column('created_by_fk', sa.Integer(), sa.ForeignKey('ab_user.id'), nullable=True),
        sa.Column('changed_by_fk', sa.Integer(), sa.ForeignKey('ab_user.id'), nullable=True),
    ]


def upgrade() -> None:
    op.create_table('qqh_custom_field',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('list_name', sa.String(length=100), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('options', JSON, nullable=True),
        sa.Column('required', sa.Boolean(), nullable=False),
        sa.Column('help', sa.String(length=500), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('in_list', sa.Boolean(), nullable=False),
        sa.Column('removed', sa.Boolean(), nullable=False),
        sa.Column('owner_unit_id', sa.Integer(), sa.ForeignKey('qqh_unit.id'), nullable=True),
        *_audited(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('list_name', 'code', name='uq_qqh_custom_field_code'),
    )
    op.create_table('qqh_kpi_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=False),
        sa.Column('unit_of_measure', sa.String(length=20), nullable=False),
        sa.Column('list_name', sa.String(length=100), nullable=False),
        sa.Column('measure', sa.String(length=10), nullable=False),
        sa.Column('measure_field', sa.String(length=60), nullable=True),
        sa.Column('date_field', sa.String(length=60), nullable=False),
        sa.Column('conditions', JSON, nullable=True),
        sa.Column('removed', sa.Boolean(), nullable=False),
        *_audited(),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_table('qqh_lowcode_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('unit_admins_may', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.execute("INSERT INTO qqh_lowcode_state (id, version, unit_admins_may) VALUES (1, 0, false)")
    # core's own unit-owned tables carry the values column too (UnitOwned declares it)
    for table in CORE_UNIT_OWNED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('qqh_fields', JSON, nullable=True))


def downgrade() -> None:
    from core.lowcode.sql import drop_values_column

    for table in CORE_UNIT_OWNED:
        drop_values_column(op, table)
    op.drop_table('qqh_lowcode_state')
    op.drop_table('qqh_kpi_rule')
    op.drop_table('qqh_custom_field')
