"""sample: events (the parent records)

Revision ID: sample_0001
Revises:
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# the plugin's branch: labelled with its name, after core's first revision
revision = 'sample_0001'
down_revision = None
branch_labels = ('sample',)
depends_on = '0001_core'


def upgrade() -> None:
    op.create_table('sample_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    # every unit-owned table has the JSON column of its custom fields (core/lowcode)
    sa.Column('qqh_fields', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['qqh_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sample_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sample_event_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sample_event_held_on'), ['held_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sample_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sample_event_held_on'))
        batch_op.drop_index(batch_op.f('ix_sample_event_unit_id'))
    op.drop_table('sample_event')
