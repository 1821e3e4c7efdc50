"""hours totals: the programme's figures per dimension and key, a log of deltas filled from the tallies; age tallies by band

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Counted hours: attended meetings, and manual entries the programme office verified.
COUNTED = "(h.source = 'attendance' OR (h.source = 'manual' AND h.verification = 'verified'))"


def _age() -> str:
    """A person's age in the year of an hours entry (h, of employee e), as SQL."""
    if op.get_bind().dialect.name == "sqlite":
        return "(CAST(strftime('%Y', h.entry_date) AS INTEGER) - e.birth_year)"
    return "(CAST(EXTRACT(YEAR FROM h.entry_date) AS INTEGER) - e.birth_year)"


def _refill_age_tallies(key: str) -> None:
    op.execute("DELETE FROM hours_tallies WHERE dimension = 'age'")
    op.execute(
        "INSERT INTO hours_tallies (dimension, key, employee_id, company_id, minutes)"
        f" SELECT 'age', {key}, h.employee_id, e.company_id, SUM(h.minutes)"
        f" FROM hours_entries h JOIN employees e ON e.id = h.employee_id WHERE {COUNTED}"
        f" GROUP BY h.employee_id, e.company_id, {key}"
    )


def upgrade():
    op.create_table('hours_totals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dimension', sa.Enum('person', 'age', 'month', 'delivery', 'course', 'provider', 'area', 'session', name='tally_dimension', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('key', sa.Integer(), nullable=False),
    sa.Column('individuals', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hours_totals'))
    )
    with op.batch_alter_table('hours_totals', schema=None) as batch_op:
        batch_op.create_index('ix_hours_totals_dimension_key', ['dimension', 'key'], unique=False,
                              postgresql_include=['individuals', 'minutes'])

    # An age tally's key becomes its band's first age (under 30: 0), -1 without a birth year.
    age = _age()
    _refill_age_tallies(
        f"CASE WHEN e.birth_year IS NULL THEN -1 WHEN {age} < 30 THEN 0 WHEN {age} < 40 THEN 30"
        f" WHEN {age} < 50 THEN 40 WHEN {age} < 60 THEN 50 ELSE 60 END"
    )
    # One row per dimension and key; the person dimension's key is the company.
    key = "CASE WHEN dimension = 'person' THEN company_id ELSE key END"
    op.execute(
        "INSERT INTO hours_totals (dimension, key, individuals, minutes)"
        f" SELECT dimension, {key}, COUNT(*), SUM(minutes) FROM hours_tallies GROUP BY dimension, {key}"
    )


def downgrade():
    with op.batch_alter_table('hours_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_hours_totals_dimension_key')

    op.drop_table('hours_totals')

    _refill_age_tallies(f"COALESCE({_age()}, -1)")
