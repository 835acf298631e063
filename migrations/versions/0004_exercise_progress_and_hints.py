"""exercise progress: practice checks and hints seen

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 13:04:38.691933

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exercise_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('notebook_id', sa.Integer(), nullable=False),
    sa.Column('grade_id', sa.String(length=120), nullable=False),
    sa.Column('hints_revealed', sa.Integer(), nullable=False),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.Column('practice_attempted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('practice_passed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('checks >= 0', name=op.f('ck_exercise_progress_checks_nonnegative')),
    sa.CheckConstraint('hints_revealed >= 0', name=op.f('ck_exercise_progress_hints_nonnegative')),
    sa.ForeignKeyConstraint(['notebook_id'], ['notebooks.id'], name=op.f('fk_exercise_progress_notebook_id_notebooks')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_exercise_progress_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exercise_progress')),
    sa.UniqueConstraint('user_id', 'notebook_id', 'grade_id', name=op.f('uq_exercise_progress_user_id_notebook_id_grade_id'))
    )
    with op.batch_alter_table('exercise_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exercise_progress_notebook_id'), ['notebook_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exercise_progress_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_exercise_progress_user_updated', ['user_id', 'updated_at'], unique=False)

    op.create_table('hint_uses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('progress_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('revealed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('number >= 1', name=op.f('ck_hint_uses_number_positive')),
    sa.ForeignKeyConstraint(['progress_id'], ['exercise_progress.id'], name=op.f('fk_hint_uses_progress_id_exercise_progress'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hint_uses')),
    sa.UniqueConstraint('progress_id', 'number', name=op.f('uq_hint_uses_progress_id_number'))
    )
    with op.batch_alter_table('hint_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hint_uses_progress_id'), ['progress_id'], unique=False)



def downgrade():
    with op.batch_alter_table('hint_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hint_uses_progress_id'))

    op.drop_table('hint_uses')
    with op.batch_alter_table('exercise_progress', schema=None) as batch_op:
        batch_op.drop_index('ix_exercise_progress_user_updated')
        batch_op.drop_index(batch_op.f('ix_exercise_progress_user_id'))
        batch_op.drop_index(batch_op.f('ix_exercise_progress_notebook_id'))

    op.drop_table('exercise_progress')
