"""hours tallies: each person's counted minutes per figure key, filled from the hours there are; pending hours indexed

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 08:00:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

PENDING = "source = 'manual' AND verification = 'pending'"


def upgrade():
    op.create_table('hours_tallies',
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.Enum('person', 'age', 'month', 'delivery', 'course', 'provider', 'area', 'session', name='tally_dimension', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('key', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_hours_tallies_minutes_positive')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_hours_tallies_company_id_companies')),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_hours_tallies_employee_id_employees')),
    sa.PrimaryKeyConstraint('employee_id', 'dimension', 'key', name=op.f('pk_hours_tallies'))
    )
    with op.batch_alter_table('hours_tallies', schema=None) as batch_op:
        batch_op.create_index('ix_hours_tallies_company_id_dimension', ['company_id', 'dimension'], unique=False,
                              postgresql_include=['key', 'employee_id', 'minutes'])
        batch_op.create_index('ix_hours_tallies_dimension_key', ['dimension', 'key'], unique=False,
                              postgresql_include=['employee_id', 'minutes'])

    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.create_index('ix_hours_entries_pending', ['employee_id'], unique=False,
                              postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))

    sqlite = op.get_bind().dialect.name == "sqlite"
    year = "CAST(strftime('%Y', h.entry_date) AS INTEGER)" if sqlite else "CAST(EXTRACT(YEAR FROM h.entry_date) AS INTEGER)"
    month = (
        "CAST(strftime('%Y%m', h.entry_date) AS INTEGER)" if sqlite
        else "CAST(EXTRACT(YEAR FROM h.entry_date) * 100 + EXTRACT(MONTH FROM h.entry_date) AS INTEGER)"
    )
    keys = {
        "person": "0", "age": f"COALESCE({year} - e.birth_year, -1)", "month": month,
        "delivery": "CASE h.delivery WHEN 'in_person' THEN 1 ELSE 2 END",
        "course": "COALESCE(h.course_id, 0)", "provider": "COALESCE(c.provider_id, 0)",
        "area": "COALESCE(a.competence_area_id, 0)", "session": "h.session_id",
    }
    joins = {
        "provider": " LEFT JOIN courses c ON c.id = h.course_id",
        "area": " LEFT JOIN course_competence_areas a ON a.course_id = h.course_id",
    }
    for dimension, key in keys.items():
        # Counted hours: attended meetings, and manual entries the programme office verified.
        op.execute(
            "INSERT INTO hours_tallies (dimension, key, employee_id, company_id, minutes)"
            f" SELECT '{dimension}', {key}, h.employee_id, e.company_id, SUM(h.minutes)"
            " FROM hours_entries h JOIN employees e ON e.id = h.employee_id" + joins.get(dimension, "")
            + " WHERE (h.source = 'attendance' OR (h.source = 'manual' AND h.verification = 'verified'))"
            + (" AND h.session_id IS NOT NULL" if dimension == "session" else "")
            + " GROUP BY h.employee_id, e.company_id" + ("" if dimension == "person" else f", {key}")
        )


def downgrade():
    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_hours_entries_pending')

    with op.batch_alter_table('hours_tallies', schema=None) as batch_op:
        batch_op.drop_index('ix_hours_tallies_dimension_key')
        batch_op.drop_index('ix_hours_tallies_company_id_dimension')

    op.drop_table('hours_tallies')
