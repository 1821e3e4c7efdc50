"""Which employees are already booked elsewhere at the same time."""
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, or_, select

from portal.extensions import db
from portal.models import Booking, BookingStatus, Meeting, Session, SessionStatus
from portal.models.catalogue import LONGEST_MEETING

Span = tuple[datetime, datetime]


def clashing_employees(employee_ids, spans: Iterable[Span], *, except_session_id: int | None = None) -> set[int]:
    """The employees among `employee_ids` (ids or a subquery) with a booked meeting overlapping any span."""
    spans = list(spans)
    if not spans:
        return set()
    statement = (
        select(Booking.employee_id)
        .join(Session, Session.id == Booking.session_id)
        .join(Meeting, Meeting.session_id == Session.id)
        .where(
            Booking.status == BookingStatus.BOOKED,
            Session.status.notin_((SessionStatus.CANCELLED, SessionStatus.POSTPONED)),
            Booking.employee_id.in_(employee_ids),
            overlapping(Meeting.starts_at, Meeting.ends_at, len(spans)),
        )
        .distinct()
    )
    if except_session_id is not None:
        statement = statement.where(Booking.session_id != except_session_id)
    return set(db.session.scalars(statement, span_values(spans)))


def overlapping(starts_at, ends_at, spans: int) -> ColumnElement[bool]:
    """A meeting (its start and end columns) overlaps one of `spans` spans, bound as parameters
    (`span_values`), so a statement built once serves any spans. No meeting lasts longer than
    LONGEST_MEETING, so one that overlaps starts at most that long before the span: saying so lets
    the database find the few candidates through the start index, never every booking's meetings."""
    return or_(*(
        and_(starts_at < bindparam(f"span_ends_{i}"), ends_at > bindparam(f"span_starts_{i}"),
             starts_at > bindparam(f"span_earliest_{i}"))
        for i in range(spans)
    ))


def span_values(spans: list[Span]) -> dict[str, datetime]:
    """The parameters `overlapping` binds, for these spans."""
    values = {}
    for i, (starts, ends) in enumerate(spans):
        values |= {f"span_starts_{i}": starts, f"span_ends_{i}": ends, f"span_earliest_{i}": starts - LONGEST_MEETING}
    return values
