"""A session's dates: when its first meeting starts and its last ends, kept on the session itself.

The catalogue, the start pages and the rescheduling job filter and order sessions by their dates.
Read from the meetings, that is a look-up per session for every session a filter leaves; kept on the
session (models.catalogue.Session.starts_at and ends_at) it is a column and an index. They are derived
data and never set on their own: before every flush, a session whose meetings were added, removed or
moved takes its dates from its meetings (an SQLAlchemy `before_flush` hook, so no writer of meetings can
forget it). The data generator writes sessions with COPY and gives them their dates itself.
"""
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session as OrmSession

from portal.models import Meeting, Session


def _moved(meeting: Meeting) -> bool:
    state = inspect(meeting)
    return state.attrs.starts_at.history.has_changes() or state.attrs.ends_at.history.has_changes()


def _sessions_to_date(session: OrmSession) -> set[Session]:
    """Sessions new, with meetings added or removed, or with a meeting new, moved or deleted."""
    found: set[Session] = set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Session):
            if instance in session.new or inspect(instance).attrs.meetings.history.has_changes():
                found.add(instance)
        elif isinstance(instance, Meeting):
            changed = instance in session.new or instance in session.deleted or _moved(instance)
            if changed and instance.session is not None:
                found.add(instance.session)
    return {found_session for found_session in found if found_session not in session.deleted}


def _before_flush(session: OrmSession, _context, _instances) -> None:
    for dated in _sessions_to_date(session):
        meetings = [meeting for meeting in dated.meetings if meeting not in session.deleted]
        starts_at = min((meeting.starts_at for meeting in meetings), default=None)
        ends_at = max((meeting.ends_at for meeting in meetings), default=None)
        if (dated.starts_at, dated.ends_at) != (starts_at, ends_at):
            dated.starts_at, dated.ends_at = starts_at, ends_at


def keep_in_step() -> None:
    """Listen to every flush of every session (once per process)."""
    if not event.contains(OrmSession, "before_flush", _before_flush):
        event.listen(OrmSession, "before_flush", _before_flush)
