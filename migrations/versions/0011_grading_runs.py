"""grading runs (a system fault runs a grade again) and grading workers' heartbeats

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grading_runs', sa.SmallInteger(), server_default='0', nullable=False))

    op.create_table('grading_workers',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('host', sa.String(length=120), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('sandbox', sa.String(length=32), nullable=False),
    sa.Column('threads', sa.SmallInteger(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grading_workers'))
    )
    with op.batch_alter_table('grading_workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grading_workers_seen_at'), ['seen_at'], unique=False)


def downgrade():
    with op.batch_alter_table('grading_workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grading_workers_seen_at'))

    op.drop_table('grading_workers')

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('grading_runs')
