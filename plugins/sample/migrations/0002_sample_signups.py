"""sample: signups (the child records of an event)

Revision ID: sample_0002
Revises: sample_0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# a later revision of the plugin's branch: it follows the previous one (no branch label)
revision = 'sample_0002'
down_revision = 'sample_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sample_signup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('qqh_fields', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('changed_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_fk', sa.Integer(), nullable=True),
    sa.Column('changed_by_fk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['event_id'], ['sample_event.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['qqh_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sample_signup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sample_signup_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sample_signup_signed_on'), ['signed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_sample_signup_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sample_signup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sample_signup_unit_id'))
        batch_op.drop_index(batch_op.f('ix_sample_signup_signed_on'))
        batch_op.drop_index(batch_op.f('ix_sample_signup_event_id'))
    op.drop_table('sample_signup')
