"""retention: hours keep their session, sessions record a purged register, the programme its retention

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 07:10:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OLD_SOURCE_CHECK = "(source = 'attendance' AND attendance_id IS NOT NULL) OR (source = 'manual' AND attendance_id IS NULL)"
NEW_SOURCE_CHECK = (
    "(source = 'attendance' AND session_id IS NOT NULL)"
    " OR (source = 'manual' AND attendance_id IS NULL AND session_id IS NULL)"
)


def upgrade():
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_years', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            'retention_years_range', 'retention_years IS NULL OR retention_years BETWEEN 1 AND 50')

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attendance_purged_at', portal.models.types.UTCDateTime(), nullable=True))

    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_hours_entries_session_id'), ['session_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_hours_entries_session_id_sessions'), 'sessions', ['session_id'], ['id'])
    # Hours from attendance belong to the attended meeting's session.
    op.execute(
        "UPDATE hours_entries SET session_id = ("
        " SELECT meetings.session_id FROM attendances JOIN meetings ON meetings.id = attendances.meeting_id"
        " WHERE attendances.id = hours_entries.attendance_id"
        ") WHERE attendance_id IS NOT NULL"
    )
    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_hours_entries_source_matches_attendance'), type_='check')
        batch_op.create_check_constraint('source_matches_attendance', NEW_SOURCE_CHECK)


def downgrade():
    # Hours whose register was purged have no attendance left to point at; they cannot go back.
    op.execute("DELETE FROM hours_entries WHERE source = 'attendance' AND attendance_id IS NULL")
    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_hours_entries_source_matches_attendance'), type_='check')
        batch_op.create_check_constraint('source_matches_attendance', OLD_SOURCE_CHECK)
        batch_op.drop_constraint(batch_op.f('fk_hours_entries_session_id_sessions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_hours_entries_session_id'))
        batch_op.drop_column('session_id')

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('attendance_purged_at')

    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_programmes_retention_years_range'), type_='check')
        batch_op.drop_column('retention_years')
