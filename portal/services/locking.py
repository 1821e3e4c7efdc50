"""Write locks taken before deciding on seats, so two requests never decide on the same seats at once.

PostgreSQL locks the session rows (SELECT … FOR UPDATE), waiting at most LOCK_WAIT (every connection's
lock_timeout, set when it connects: see portal/__init__.py). SQLite has no
row locks, and SQLAlchemy silently drops FOR UPDATE there; its driver would also begin the
transaction only at the first write, letting two readers race. So on SQLite the transaction that
decides is begun with BEGIN IMMEDIATE, which takes the database's write lock up front (waiting at
most the busy timeout). Either way a request that cannot get the lock in time fails with an
OperationalError, which the app answers with a "busy, try again" page, never a 500.
"""
from sqlalchemy import select, text
from sqlalchemy.orm import Session as OrmSession, joinedload

from portal.extensions import db
from portal.models import Employee, Session

LOCK_WAIT = "5s"
WITH_MEETINGS = (joinedload(Session.course), joinedload(Session.meetings))  # in the locking statement itself


def lock_sessions(session_ids: list[int], *options, skip_locked: bool = False) -> list[Session]:
    """Hold the write lock on these sessions until the transaction ends; returns them freshly read,
    with what the loader options name (WITH_MEETINGS: course and meetings) read afresh too, after
    the lock, so as they stand. `skip_locked`: leave out, rather than wait for, those another
    transaction holds (on PostgreSQL; SQLite's write lock is the whole database's)."""
    ids = sorted(set(session_ids))  # one order everywhere, so two lockers never deadlock
    statement = select(Session).where(Session.id.in_(ids)).options(*options)
    if _on_sqlite():
        _begin_immediate()
    else:
        statement = statement.with_for_update(of=Session, skip_locked=skip_locked)
    found = db.session.scalars(statement.order_by(Session.id).execution_options(populate_existing=True)).unique().all()
    return list(found)


def lock_employees(employee_ids: list[int]) -> list[Employee]:
    """Hold the employees while deciding on them, so one employee is never booked into two
    overlapping sessions by two requests at once; returns them, read as they stand. Take the
    session's lock first (SQLite's write lock already covers everything)."""
    ids = sorted(set(employee_ids))
    if not ids:
        return []
    statement = select(Employee).where(Employee.id.in_(ids)).order_by(Employee.id)
    if not _on_sqlite():
        statement = statement.with_for_update(of=Employee)
    found = list(db.session.scalars(statement.execution_options(populate_existing=True)))
    session = db.session()  # the request's ORM session itself, behind the scoped proxy
    held = session.info.get(_EMPLOYEES_HELD)
    if held is None or held[0] is not session.get_transaction():
        held = session.info[_EMPLOYEES_HELD] = (session.get_transaction(), set())
    held[1].update(ids)
    return found


_EMPLOYEES_HELD = "employees_held"  # in the ORM session's info: (its transaction, the employees it locked)


def employees_held(session: OrmSession) -> set[int]:
    """The employees the session's transaction has locked with lock_employees (none after it ends)."""
    held = session.info.get(_EMPLOYEES_HELD)
    return held[1] if held is not None and held[0] is session.get_transaction() else set()


def lock_employees_alone(employee_ids: list[int]) -> None:
    """Hold the employees when no session is locked first (hours HR logs), so two requests never
    both find room for more hours on the same day."""
    if _on_sqlite():
        _begin_immediate()
    else:
        lock_employees(employee_ids)


def lock_restrictions() -> None:
    """One restriction written at a time, so two clicks on "record" cannot both pass the duplicate check."""
    if _on_sqlite():
        _begin_immediate()
    else:
        db.session.execute(text("LOCK TABLE restrictions IN SHARE ROW EXCLUSIVE MODE"))


def _on_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _begin_immediate() -> None:
    connection = db.session.connection()
    # The driver opens a transaction only at a write, and a write holds the lock till the end;
    # reads before this one were outside any transaction, so nothing read can be stale.
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
