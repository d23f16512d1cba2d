"""memo: the JSON column of custom field values (core/lowcode)

Revision ID: memo_0002_lowcode
Revises: memo_0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = 'memo_0002_lowcode'
down_revision = 'memo_0001'
branch_labels = None
depends_on = None

TABLES = ['memo_note']


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('qqh_fields', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True))


def downgrade() -> None:
    from core.api import drop_values_column

    for table in TABLES:
        drop_values_column(op, table)
