"""pending hours' index carries their minutes on PostgreSQL (a company's pending hours from the index alone)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

PENDING = "source = 'manual' AND verification = 'pending'"


def _pending_index(include: list[str]) -> None:
    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_hours_entries_pending')
        batch_op.create_index('ix_hours_entries_pending', ['employee_id'], unique=False, postgresql_include=include,
                              postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))


def upgrade():
    _pending_index(['minutes'])


def downgrade():
    _pending_index([])
