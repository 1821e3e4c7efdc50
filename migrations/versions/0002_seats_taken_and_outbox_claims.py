"""seats taken on sessions, claim time on outbox mail

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 03:41:57.197890

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', portal.models.types.UTCDateTime(), nullable=True))

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seats_taken', sa.Integer(), server_default='0', nullable=False))

    # Count the seats already booked before the database starts guarding them.
    op.execute(
        "UPDATE sessions SET seats_taken = (SELECT count(*) FROM bookings"
        " WHERE bookings.session_id = sessions.id AND bookings.status = 'booked')"
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_check_constraint(
            'seats_within_capacity', 'seats_taken >= 0 AND seats_taken <= capacity'
        )


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sessions_seats_within_capacity'), type_='check')
        batch_op.drop_column('seats_taken')

    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')

