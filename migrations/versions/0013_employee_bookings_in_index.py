"""bookings' employee index carries their session on PostgreSQL (clash look-ups from the index alone)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 12:45:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _employee_index(include: list[str]) -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_employee_id_status')
        batch_op.create_index('ix_bookings_employee_id_status', ['employee_id', 'status'], unique=False,
                              postgresql_include=include)


def upgrade():
    _employee_index(['session_id'])


def downgrade():
    _employee_index([])
