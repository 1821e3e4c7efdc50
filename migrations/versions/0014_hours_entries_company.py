"""hours entries keep their employee's company: a company's pending hours through an index of its own

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 16:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

PENDING = "source = 'manual' AND verification = 'pending'"


def _pending_index(batch_op, column: str) -> None:
    batch_op.create_index('ix_hours_entries_pending', [column], unique=False, postgresql_include=['minutes'],
                          postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))


def upgrade():
    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('company_id', sa.Integer(), nullable=True))
    op.execute("UPDATE hours_entries SET company_id ="
               " (SELECT employees.company_id FROM employees WHERE employees.id = hours_entries.employee_id)")
    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.alter_column('company_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_hours_entries_company_id_companies'), 'companies', ['company_id'], ['id'])
        batch_op.drop_index('ix_hours_entries_pending')
        _pending_index(batch_op, 'company_id')


def downgrade():
    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_hours_entries_pending')
        _pending_index(batch_op, 'employee_id')
        batch_op.drop_constraint(batch_op.f('fk_hours_entries_company_id_companies'), type_='foreignkey')
        batch_op.drop_column('company_id')
