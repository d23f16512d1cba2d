"""training: the JSON column of custom field values (core/lowcode)

Revision ID: training_0002_lowcode
Revises: training_0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = 'training_0002_lowcode'
down_revision = 'training_0001'
branch_labels = None
depends_on = None

TABLES = ['training_camp', 'training_lecturer', 'training_enrolment']


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('qqh_fields', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))


def downgrade() -> None:
    from core.api import drop_values_column

    for table in TABLES:
        drop_values_column(op, table)
