"""bookings' plan-item index carries their session, employee and status on PostgreSQL (a plan's progress from the index alone)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 10:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _plan_item_index(include: list[str]) -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_plan_item_id')
        batch_op.create_index('ix_bookings_plan_item_id', ['plan_item_id'], unique=False, postgresql_include=include)


def upgrade():
    _plan_item_index(['session_id', 'employee_id', 'status'])


def downgrade():
    _plan_item_index([])
