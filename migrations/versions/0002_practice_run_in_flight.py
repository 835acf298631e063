"""one practice run in flight per engineer and notebook

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 10:12:41.118304

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

IN_FLIGHT = "mode = 'check' AND status IN ('queued', 'running')"


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notebook_id', sa.Integer(), nullable=True))

    op.execute(
        "UPDATE submissions SET notebook_id = (SELECT notebook_versions.notebook_id"
        " FROM notebook_versions WHERE notebook_versions.id = submissions.version_id)"
    )
    # Before the unique index: of several practice runs of one notebook still in flight, one stays
    # (the newest running, else the newest queued); the others are closed with the reason, which
    # takes nothing from anyone: a practice run never counts.
    op.execute(
        "UPDATE submissions SET status = 'error', error = 'Not graded: another test run of this"
        " notebook was already waiting (Skillforge grades one test run at a time).'"
        f" WHERE {IN_FLIGHT} AND EXISTS (SELECT 1 FROM submissions AS other"
        " WHERE other.user_id = submissions.user_id AND other.notebook_id = submissions.notebook_id"
        " AND other.mode = 'check' AND other.status IN ('queued', 'running')"
        " AND ((other.status = 'running' AND submissions.status = 'queued')"
        " OR (other.status = submissions.status AND other.id > submissions.id)))"
    )

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.alter_column('notebook_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_submissions_notebook_id_notebooks'), 'notebooks', ['notebook_id'], ['id']
        )
        batch_op.create_index(batch_op.f('ix_submissions_notebook_id'), ['notebook_id'], unique=False)
        batch_op.create_index(
            'uq_submissions_practice_in_flight',
            ['user_id', 'notebook_id'],
            unique=True,
            sqlite_where=sa.text(IN_FLIGHT),
            postgresql_where=sa.text(IN_FLIGHT),
        )


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('uq_submissions_practice_in_flight')
        batch_op.drop_index(batch_op.f('ix_submissions_notebook_id'))
        batch_op.drop_constraint(batch_op.f('fk_submissions_notebook_id_notebooks'), type_='foreignkey')
        batch_op.drop_column('notebook_id')
