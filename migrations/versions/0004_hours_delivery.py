"""how hours were delivered: in person or digital

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 04:14:06.970626

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery', sa.String(9), nullable=True))
    # Hours from an attended meeting with a place were in person; everything else was digital.
    op.execute(
        "UPDATE hours_entries SET delivery = CASE WHEN EXISTS ("
        " SELECT 1 FROM attendances JOIN meetings ON meetings.id = attendances.meeting_id"
        " WHERE attendances.id = hours_entries.attendance_id AND meetings.municipality_id IS NOT NULL"
        ") THEN 'in_person' ELSE 'digital' END"
    )
    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.alter_column(
            'delivery', existing_type=sa.String(9), nullable=False,
            type_=sa.Enum('in_person', 'digital', name='delivery', native_enum=False, create_constraint=True),
        )


def downgrade():
    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_hours_entries_delivery'), type_='check')
        batch_op.drop_column('delivery')
