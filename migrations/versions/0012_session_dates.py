"""sessions carry their dates: when the first meeting starts and the last ends, filled from the meetings

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 12:40:00

"""
from alembic import op
import sqlalchemy as sa

from portal.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('starts_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('ends_at', UTCDateTime(), nullable=True))
        batch_op.create_index('ix_sessions_starts_at', ['starts_at'], unique=False)
    op.execute(
        "UPDATE sessions SET"
        " starts_at = (SELECT MIN(m.starts_at) FROM meetings m WHERE m.session_id = sessions.id),"
        " ends_at = (SELECT MAX(m.ends_at) FROM meetings m WHERE m.session_id = sessions.id)"
    )


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_starts_at')
        batch_op.drop_column('ends_at')
        batch_op.drop_column('starts_at')
