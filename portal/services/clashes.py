"""Which employees are already booked elsewhere at the same time."""
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select

from portal.extensions import db
from portal.models import Booking, BookingStatus, Meeting, Session, SessionStatus
from portal.models.catalogue import LONGEST_MEETING

Span = tuple[datetime, datetime]


def clashing_employees(employee_ids, spans: Iterable[Span], *, except_session_id: int | None = None) -> set[int]:
    """The employees among `employee_ids` (ids or a subquery) with a booked meeting overlapping any span."""
    spans = list(spans)
    if not spans:
        return set()
    overlaps = overlapping(Meeting.starts_at, Meeting.ends_at, spans)
    statement = (
        select(Booking.employee_id)
        .join(Session, Session.id == Booking.session_id)
        .join(Meeting, Meeting.session_id == Session.id)
        .where(
            Booking.status == BookingStatus.BOOKED,
            Session.status.notin_((SessionStatus.CANCELLED, SessionStatus.POSTPONED)),
            Booking.employee_id.in_(employee_ids),
            overlaps,
        )
        .distinct()
    )
    if except_session_id is not None:
        statement = statement.where(Booking.session_id != except_session_id)
    return set(db.session.scalars(statement))


def overlapping(starts_at, ends_at, spans: Iterable[Span]) -> ColumnElement[bool]:
    """A meeting (its start and end columns) overlaps one of the spans. No meeting lasts longer than
    LONGEST_MEETING, so one that overlaps starts at most that long before the span: saying so lets
    the database find the few candidates through the start index, never every booking's meetings."""
    return or_(*(
        and_(starts_at < ends, ends_at > starts, starts_at > starts - LONGEST_MEETING) for starts, ends in spans
    ))
