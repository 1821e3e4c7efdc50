"""A session's dates: when its first meeting starts and its last ends, kept on the session itself.

The catalogue, the start pages and the rescheduling job filter and order sessions by their dates.
Read from the meetings, that is a look-up per session for every session a filter leaves; kept on the
session (models.catalogue.Session.starts_at and ends_at) it is a column and an index. They are derived
data and never set on their own. Every flush that adds, moves or deletes a meeting, or moves one to
another session, gives the sessions concerned their dates from their meetings as the database then
holds them: SQLAlchemy hooks note the sessions before the flush and set the dates in one UPDATE after
it, so no writer of meetings through the ORM can forget it, whichever side of the relationship it uses.
A bulk UPDATE or DELETE of meetings bypasses the ORM and these hooks (nothing in the portal does one);
the data generator writes sessions with COPY and gives them their dates itself.
"""
from sqlalchemy import Update, bindparam, event, func, inspect, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.attributes import set_committed_value

from portal.models import Meeting, Session

# In the ORM session's info: the sessions (objects and ids) a flush concerns, and then their dates as read.
NOTED, DATED = "sessions_to_date", "sessions_dated"


def _changed(meeting: Meeting) -> bool:
    state = inspect(meeting)
    return any(state.attrs[name].history.has_changes() for name in ("starts_at", "ends_at", "session_id", "session"))


def _sessions_of(meeting: Meeting) -> tuple[set[Session], set[int]]:
    """The sessions the meeting belonged to or belongs to now, by object and by id."""
    state, objects, ids = inspect(meeting), set(), set()
    for value in state.attrs.session.history.sum():
        if value is not None:
            objects.add(value)
    for value in (*state.attrs.session_id.history.sum(), meeting.session_id):  # its own, loaded if it was expired
        if value is not None:
            ids.add(value)
    return objects, ids


def _before_flush(session: OrmSession, _context, _instances) -> None:
    objects, ids = set(), set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Session):
            if instance in session.new or inspect(instance).attrs.meetings.history.has_changes():
                objects.add(instance)
        elif isinstance(instance, Meeting):
            if instance in session.new or instance in session.deleted or _changed(instance):
                found_objects, found_ids = _sessions_of(instance)
                objects |= found_objects
                ids |= found_ids
    if objects or ids:
        noted_objects, noted_ids = session.info.setdefault(NOTED, (set(), set()))
        noted_objects |= objects
        noted_ids |= ids


def _after_flush(session: OrmSession, _context) -> None:
    noted_objects, noted_ids = session.info.pop(NOTED, (set(), set()))
    ids = noted_ids | {dated.id for dated in noted_objects if dated.id is not None}
    if not ids:
        return
    rows = session.connection().execute(_dating_statement(), {"ids": sorted(ids)}).all()
    # The objects in memory hold what the database now holds (as if just read), without another statement.
    session.info[DATED] = rows


def _after_flush_postexec(session: OrmSession, _context) -> None:
    for session_id, starts_at, ends_at in session.info.pop(DATED, ()):
        dated = session.identity_map.get(inspect(Session).identity_key_from_primary_key((session_id,)))
        if dated is not None:
            set_committed_value(dated, "starts_at", starts_at)
            set_committed_value(dated, "ends_at", ends_at)


def _dating_statement() -> Update:
    table, meetings = Session.__table__, Meeting.__table__
    of_it = meetings.c.session_id == table.c.id
    return (
        update(table)
        .where(table.c.id.in_(bindparam("ids", expanding=True)))
        # updated_at as it was: the dates follow the meetings, whose change is what the session records.
        .values(starts_at=select(func.min(meetings.c.starts_at)).where(of_it).scalar_subquery(),
                ends_at=select(func.max(meetings.c.ends_at)).where(of_it).scalar_subquery(),
                updated_at=table.c.updated_at)
        .returning(table.c.id, table.c.starts_at, table.c.ends_at)
    )


def keep_in_step() -> None:
    """Listen to every flush of every session (once per process)."""
    for name, listener in (("before_flush", _before_flush), ("after_flush", _after_flush),
                           ("after_flush_postexec", _after_flush_postexec)):
        if not event.contains(OrmSession, name, listener):
            event.listen(OrmSession, name, listener)
