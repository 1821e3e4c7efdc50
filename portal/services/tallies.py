"""Hours tallies: each person's counted minutes per figure key, kept in step with their hours entries.

The programme report counts individuals per company, course, month and so on. Counted live, that is a
distinct count over every hours entry per figure: seconds for a national programme. A tally holds one
row per person and key, so a figure becomes a plain count of rows (models.hours.HoursTally).

Tallies are derived data and never edited on their own: whenever a flush inserts, changes or deletes
hours entries, the people concerned have their tallies rebuilt from their entries in the same
transaction (an SQLAlchemy `after_flush` hook, so no writer of hours can forget it). Rebuilding per
person, rather than adding and subtracting, means a tally can never drift from the entries. The
person's row is locked first so two transactions never rebuild the same person at once. The data
generator writes hours with COPY and calls `rebuild_all` instead.

The programme-wide figures are kept apart, in `hours_totals` (models.hours.HoursTotal): each rebuild
appends what the people's tallies held, negated, and what they hold now, so a key's figure is the sum of
its rows and the programme-wide report reads a few thousand rows instead of a million tallies. A scheduled
job `compact`s those rows now and then.
"""
from collections.abc import Iterable
from functools import cache
from itertools import chain, pairwise

from sqlalchemy import (
    CTE, ColumnElement, Executable, FromClause, Insert, Integer, Select, Subquery, bindparam, case, cast, delete, event, func,
    insert, inspect, literal, literal_column, or_, select, union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql.util import ClauseAdapter

from portal.models import Course, Delivery, Employee, HoursEntry, HoursTally, HoursTotal, TallyDimension
from portal.models.catalogue import course_competence_areas
from portal.services.binds import one_of
from portal.services.figures import counted_hours
from portal.services.locking import employees_held

DELIVERY_KEYS = {Delivery.IN_PERSON: 1, Delivery.DIGITAL: 2}
NONE_KEY = 0  # no course, no provider, no area; and the one key of a person's total
AGE_NOT_STATED_KEY = -1
# Each age band's first age: under 30, 30–39, 40–49, 50–59, 60 and over. An age tally's key is its band's.
AGE_BANDS = (0, 30, 40, 50, 60)


def key_of(dimension: TallyDimension) -> ColumnElement[int]:
    """The tally key of an hours entry for a dimension, as SQL over its columns (and its person's, or,
    for a provider or an area, its course's; see `summed`).

    Constants are literal SQL, not parameters, so the same expression can be grouped by on PostgreSQL."""
    year = func.extract("year", HoursEntry.entry_date)
    none = literal_column(str(NONE_KEY))
    if dimension == TallyDimension.PERSON:
        return none
    if dimension == TallyDimension.AGE:
        age = cast(year, Integer) - Employee.birth_year
        return case(
            (Employee.birth_year.is_(None), literal_column(str(AGE_NOT_STATED_KEY))),
            *[(age < literal_column(str(following)), literal_column(str(first)))
              for first, following in pairwise(AGE_BANDS)],
            else_=literal_column(str(AGE_BANDS[-1])),
        )
    if dimension == TallyDimension.MONTH:
        return cast(year * literal_column("100") + func.extract("month", HoursEntry.entry_date), Integer)
    if dimension == TallyDimension.DELIVERY:
        return case(*[(HoursEntry.delivery == literal_column(f"'{delivery.value}'"), literal_column(str(key)))
                      for delivery, key in DELIVERY_KEYS.items()])
    if dimension == TallyDimension.COURSE:
        return func.coalesce(HoursEntry.course_id, none)
    if dimension == TallyDimension.PROVIDER:
        return func.coalesce(Course.provider_id, none)
    if dimension == TallyDimension.AREA:
        return func.coalesce(course_competence_areas.c.competence_area_id, none)
    return HoursEntry.session_id.expression


def summed(dimension: TallyDimension, *where: ColumnElement[bool]) -> Select:
    """(employee_id, company_id, key, minutes): each person's counted minutes per key, from the entries."""
    key = key_of(dimension)
    statement = (
        select(HoursEntry.employee_id, Employee.company_id, key.label("key"),
               func.sum(HoursEntry.minutes).label("minutes"))
        .join(Employee, Employee.id == HoursEntry.employee_id)
        .where(counted_hours(), *where)
        .group_by(HoursEntry.employee_id, Employee.company_id)
    )
    if dimension != TallyDimension.PERSON:  # its key is a constant, and a constant is no grouping
        statement = statement.group_by(key)
    if dimension == TallyDimension.PROVIDER:
        statement = statement.outerjoin(Course, Course.id == HoursEntry.course_id)
    if dimension == TallyDimension.AREA:  # a course in two areas counts its hours in both
        statement = statement.outerjoin(
            course_competence_areas, course_competence_areas.c.course_id == HoursEntry.course_id
        )
    if dimension == TallyDimension.SESSION:
        statement = statement.where(HoursEntry.session_id.is_not(None))
    return statement


def _fill(*where: ColumnElement[bool]) -> Insert:
    """Insert the tallies of the counted entries `where` says, every dimension's. The entries are read once
    (with their person's company and birth year and their course's provider) and each dimension sums that
    read: eight reads of the entries, each joined anew, took longer to plan than to run."""
    counted = (
        select(HoursEntry.employee_id, Employee.company_id, HoursEntry.minutes, HoursEntry.entry_date,
               HoursEntry.delivery, HoursEntry.course_id, HoursEntry.session_id, Employee.birth_year,
               Course.provider_id)
        .join(Employee, Employee.id == HoursEntry.employee_id)
        .outerjoin(Course, Course.id == HoursEntry.course_id)
        .where(counted_hours(), *where)
        .cte("counted").prefix_with("MATERIALIZED", dialect="postgresql")
    )
    every = union_all(*[_summed_from(counted, dimension) for dimension in TallyDimension]).subquery()
    return HoursTally.__table__.insert().from_select(
        ["employee_id", "company_id", "key", "minutes", "dimension"],
        select(every.c.employee_id, every.c.company_id, every.c.key, every.c.minutes, every.c.dimension),
    )


def _summed_from(counted: CTE, dimension: TallyDimension) -> Select:
    """`summed`, over the entries already read into `counted`: the same keys (`key_of`, its columns read
    from there), and the dimension's name beside them."""
    key = ClauseAdapter(counted).traverse(key_of(dimension))
    statement = (
        select(counted.c.employee_id, counted.c.company_id, key.label("key"),
               func.sum(counted.c.minutes).label("minutes"), literal(dimension.value).label("dimension"))
        .group_by(counted.c.employee_id, counted.c.company_id)
    )
    if dimension != TallyDimension.PERSON:  # its key is a constant, and a constant is no grouping
        statement = statement.group_by(key)
    if dimension == TallyDimension.AREA:  # a course in two areas counts its hours in both
        statement = statement.outerjoin(
            course_competence_areas, course_competence_areas.c.course_id == counted.c.course_id
        )
    if dimension == TallyDimension.SESSION:
        statement = statement.where(counted.c.session_id.is_not(None))
    return statement


TALLY_ROW = (HoursTally.dimension, HoursTally.key, HoursTally.company_id, HoursTally.minutes)


def _into_totals(rows: FromClause, sign: int) -> Insert:
    """One row per dimension and key of these tally rows, appended to the totals: their count and minutes,
    negated when they are gone. The person dimension's key there is the company (see HoursTotal)."""
    key = case((rows.c.dimension == literal_column(f"'{TallyDimension.PERSON.value}'"), rows.c.company_id),
               else_=rows.c.key)
    individuals, minutes = func.count(), func.sum(rows.c.minutes)
    if sign < 0:
        individuals, minutes = -individuals, -minutes
    return insert(HoursTotal).from_select(
        ["dimension", "key", "individuals", "minutes"],
        select(rows.c.dimension, key, individuals, minutes).group_by(rows.c.dimension, key),
    )


def refresh(connection: Connection, employee_ids: Iterable[int], held: set[int] = frozenset()) -> None:
    """Rebuild these people's tallies from their entries, holding their rows while doing it (unless the
    transaction already `held` them all), and move the totals by the difference."""
    ids = sorted(set(employee_ids))
    if not ids:
        return
    on_postgres = connection.dialect.name != "sqlite"
    if on_postgres and not held.issuperset(ids):
        # FOR NO KEY UPDATE: it queues two rebuilders of one person, but not behind the key-share locks
        # their own new hours entries already hold on the person (FOR UPDATE would deadlock on those).
        connection.execute(_lock_statement(), {"ids": ids})
    for statement in _refresh_statements(connection.dialect.name):
        connection.execute(statement, {"ids": ids})


@cache
def _lock_statement() -> Select:
    ids = bindparam("ids", expanding=True)
    return select(Employee.id).where(Employee.id.in_(ids)).order_by(Employee.id).with_for_update(key_share=True)


@cache
def _refresh_statements(dialect: str) -> tuple[Executable, ...]:
    """The statements of a rebuild, for the people bound as `ids`. Every attendance mark and hours entry runs
    them: built once, since building the eight dimensions' statement cost more than running it."""
    theirs, their_entries = one_of(HoursTally.employee_id, "ids", dialect), one_of(HoursEntry.employee_id, "ids", dialect)
    if dialect == "sqlite":
        # SQLite's single writer already serialises this. It has no DELETE or INSERT inside a WITH, so the
        # totals read the tallies before and after.
        held = select(*TALLY_ROW).where(theirs).subquery()
        return _into_totals(held, -1), delete(HoursTally).where(theirs), _fill(their_entries), _into_totals(held, +1)
    return (
        # The totals count the very rows each statement deletes or inserts, in the same statement.
        _into_totals(delete(HoursTally).where(theirs).returning(*TALLY_ROW).cte("gone"), -1),
        _into_totals(_fill(their_entries).returning(*TALLY_ROW).cte("filled"), +1),
    )


def rebuild_all(connection: Connection) -> None:
    """Every tally from every entry, and the totals from them, one row per key: after a bulk load that
    bypassed the ORM."""
    connection.execute(delete(HoursTotal))
    connection.execute(delete(HoursTally))
    connection.execute(_fill())
    connection.execute(_into_totals(HoursTally.__table__, +1))


def compact(connection: Connection) -> tuple[int, int]:
    """Collapse the totals to one row per dimension and key, leaving out the keys that come to nothing.
    Returns how many rows there were and how many there are.

    Exact while tallies are rebuilt alongside: the rows summed are the rows deleted, and rows appended
    meanwhile are left for the next time. The caller commits."""
    row = (HoursTotal.dimension, HoursTotal.key, HoursTotal.individuals, HoursTotal.minutes)
    if connection.dialect.name == "sqlite":
        # One writer at a time: from the first write on, no row comes between; one appended before it,
        # after `last` was read, is left for the next time.
        last, before = connection.execute(select(func.max(HoursTotal.id), func.count())).one()
        logged = HoursTotal.id <= (last or 0)
        after = connection.execute(_collapsed(select(*row).where(logged).subquery())).rowcount
        connection.execute(delete(HoursTotal).where(logged))
        return before, after
    # One statement, so the rows it deletes and the rows it sums are the same snapshot's.
    gone = delete(HoursTotal).returning(*row).cte("gone")
    kept = _collapsed(gone).returning(HoursTotal.id).cte("kept")
    before, after = connection.execute(select(*[
        select(func.count()).select_from(rows).scalar_subquery() for rows in (gone, kept)
    ])).one()
    return before, after


def _collapsed(rows: FromClause) -> Insert:
    individuals, minutes = func.sum(rows.c.individuals), func.sum(rows.c.minutes)
    return insert(HoursTotal).from_select(
        ["dimension", "key", "individuals", "minutes"],
        select(rows.c.dimension, rows.c.key, individuals, minutes).group_by(rows.c.dimension, rows.c.key)
        .having(or_(individuals != 0, minutes != 0)),
    )


def totals(dimension: TallyDimension, *keys: int) -> Subquery:
    """(key, individuals, minutes) of each key of the dimension (or of these keys only), programme-wide: the
    sums of its rows in the totals (the person dimension's keys are the companies), keys no one is in left out."""
    individuals = func.sum(HoursTotal.individuals)
    statement = (
        select(HoursTotal.key, individuals.label("individuals"), func.sum(HoursTotal.minutes).label("minutes"))
        .where(HoursTotal.dimension == dimension).group_by(HoursTotal.key).having(individuals > 0)
    )
    if keys:
        statement = statement.where(HoursTotal.key.in_(keys))
    return statement.subquery(f"{dimension}_totals")


def _people_to_refresh(session: OrmSession) -> set[int]:
    """Whose tallies this flush changes: the people of hours entries written, changed or deleted, people
    whose birth year changed, and everyone with hours on a course whose competence areas changed."""
    people, courses = set(), []
    for item in chain(session.new, session.dirty, session.deleted):
        if isinstance(item, HoursEntry):
            people.add(item.employee_id)
            people.update(inspect(item).attrs.employee_id.history.deleted)  # hours moved to someone else
        elif isinstance(item, Course) and inspect(item).attrs.competence_areas.history.has_changes():
            courses.append(item.id)
        elif isinstance(item, Employee) and item not in session.new and inspect(item).attrs.birth_year.history.has_changes():
            people.add(item.id)  # their ages change
    if courses:
        connection = session.connection()
        if connection.dialect.name != "sqlite":  # SQLite's single writer already serialises this
            # Hours written on the course meanwhile hold its row (their foreign key) until they commit, and
            # wait for this lock after it: either way they are among the people read next, or they read the
            # new areas when they rebuild their own tallies.
            connection.execute(select(Course.id).where(Course.id.in_(courses)).order_by(Course.id).with_for_update())
        people.update(connection.scalars(
            select(HoursEntry.employee_id).where(HoursEntry.course_id.in_(courses)).distinct()
        ))
    people.discard(None)
    return people


def _after_flush(session: OrmSession, _context) -> None:
    people = _people_to_refresh(session)
    if people:
        refresh(session.connection(), people, employees_held(session))


def keep_in_step() -> None:
    """Listen to every flush of every session (once per process)."""
    if not event.contains(OrmSession, "after_flush", _after_flush):
        event.listen(OrmSession, "after_flush", _after_flush)
