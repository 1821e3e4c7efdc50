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
"""
from collections.abc import Iterable
from itertools import chain

from sqlalchemy import ColumnElement, Integer, Select, case, cast, delete, event, func, inspect, literal, literal_column, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession

from portal.models import Course, Delivery, Employee, HoursEntry, HoursTally, TallyDimension
from portal.models.catalogue import course_competence_areas
from portal.services.figures import counted_hours

DELIVERY_KEYS = {Delivery.IN_PERSON: 1, Delivery.DIGITAL: 2}
NONE_KEY = 0  # no course, no provider, no area; and the one key of a person's total
AGE_NOT_STATED_KEY = -1


def key_of(dimension: TallyDimension) -> ColumnElement[int]:
    """The tally key of an hours entry for a dimension, as SQL over its columns (and its person's, or,
    for a provider or an area, its course's; see `summed`).

    Constants are literal SQL, not parameters, so the same expression can be grouped by on PostgreSQL."""
    year = func.extract("year", HoursEntry.entry_date)
    none = literal_column(str(NONE_KEY))
    if dimension == TallyDimension.PERSON:
        return none
    if dimension == TallyDimension.AGE:
        return func.coalesce(cast(year, Integer) - Employee.birth_year, literal_column(str(AGE_NOT_STATED_KEY)))
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
    return HoursEntry.session_id


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


def _fill(connection: Connection, *where: ColumnElement[bool]) -> None:
    every = union_all(*[
        summed(dimension, *where).add_columns(literal(dimension.value).label("dimension"))
        for dimension in TallyDimension
    ]).subquery()
    connection.execute(HoursTally.__table__.insert().from_select(
        ["employee_id", "company_id", "key", "minutes", "dimension"],
        select(every.c.employee_id, every.c.company_id, every.c.key, every.c.minutes, every.c.dimension),
    ))


def refresh(connection: Connection, employee_ids: Iterable[int]) -> None:
    """Rebuild these people's tallies from their entries, holding their rows while doing it."""
    ids = sorted(set(employee_ids))
    if not ids:
        return
    if connection.dialect.name != "sqlite":  # SQLite's single writer already serialises this
        # FOR NO KEY UPDATE: it queues two rebuilders of one person, but not behind the key-share locks
        # their own new hours entries already hold on the person (FOR UPDATE would deadlock on those).
        connection.execute(
            select(Employee.id).where(Employee.id.in_(ids)).order_by(Employee.id).with_for_update(key_share=True)
        )
    connection.execute(delete(HoursTally).where(HoursTally.employee_id.in_(ids)))
    _fill(connection, HoursEntry.employee_id.in_(ids))


def rebuild_all(connection: Connection) -> None:
    """Every tally from every entry: after a bulk load that bypassed the ORM."""
    connection.execute(delete(HoursTally))
    _fill(connection)


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
        people.update(session.connection().scalars(
            select(HoursEntry.employee_id).where(HoursEntry.course_id.in_(courses)).distinct()
        ))
    people.discard(None)
    return people


def _after_flush(session: OrmSession, _context) -> None:
    people = _people_to_refresh(session)
    if people:
        refresh(session.connection(), people)


def keep_in_step() -> None:
    """Listen to every flush of every session (once per process)."""
    if not event.contains(OrmSession, "after_flush", _after_flush):
        event.listen(OrmSession, "after_flush", _after_flush)
