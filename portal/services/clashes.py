"""Which employees are already booked elsewhere at the same time."""
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, or_, select

from portal.extensions import db
from portal.models import Booking, BookingStatus, Meeting, Session, SessionStatus

Span = tuple[datetime, datetime]


def clashing_employees(employee_ids, spans: Iterable[Span], *, except_session_id: int | None = None) -> set[int]:
    """The employees among `employee_ids` (ids or a subquery) with a booked meeting overlapping any span."""
    spans = list(spans)
    if not spans:
        return set()
    overlaps = or_(*(and_(Meeting.starts_at < ends, Meeting.ends_at > starts) for starts, ends in spans))
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
