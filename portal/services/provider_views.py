"""What a provider's pages show: its courses, a course's sessions, a session's seats and participants."""
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Booking, BookingStatus, Company, Course, Employee, Session, SessionStatus
from portal.models.types import utcnow
from portal.services.pagination import Page, paginate_rows


@dataclass(frozen=True)
class CourseRow:
    course_id: int
    title: str
    retired_at: datetime | None
    upcoming_sessions: int


def courses_of(provider_id: int, page: int, per_page: int = 25) -> Page[CourseRow]:
    upcoming = (
        select(func.count(Session.id))
        .where(Session.course_id == Course.id, Session.status.in_([SessionStatus.PLANNED, SessionStatus.OPEN, SessionStatus.POSTPONED]))
        .scalar_subquery()
    )
    statement = (
        select(Course.id, Course.title, Course.retired_at, upcoming)
        .where(Course.provider_id == provider_id)
        .order_by(Course.retired_at.is_not(None), Course.title, Course.id)
    )
    return paginate_rows(statement, page, per_page, CourseRow)


@dataclass(frozen=True)
class Seats:
    capacity: int
    booked: int
    waitlisted: int

    @property
    def left(self) -> int:
        return max(self.capacity - self.booked, 0)


def _seat_counts(session_ids) -> dict[int, tuple[int, int]]:
    rows = db.session.execute(
        select(
            Booking.session_id,
            func.count().filter(Booking.status == BookingStatus.BOOKED),
            func.count().filter(Booking.status == BookingStatus.WAITLISTED),
        )
        .where(Booking.session_id.in_(session_ids))
        .group_by(Booking.session_id)
    )
    return {session_id: (booked, waitlisted) for session_id, booked, waitlisted in rows}


def seats(session_id: int) -> Seats:
    capacity = db.session.scalar(select(Session.capacity).where(Session.id == session_id))
    booked, waitlisted = _seat_counts([session_id]).get(session_id, (0, 0))
    return Seats(capacity, booked, waitlisted)


@dataclass(frozen=True)
class SessionLine:
    session: Session
    first_meeting: datetime | None
    seats: Seats


def sessions_of_course(course_id: int) -> list[SessionLine]:
    """Every session of the course, newest first, with its seats: two queries in all."""
    sessions = list(
        db.session.scalars(select(Session).where(Session.course_id == course_id))
    )
    ids = [s.id for s in sessions]
    counts = _seat_counts(ids) if ids else {}
    lines = [
        SessionLine(s, s.starts_at, Seats(s.capacity, *counts.get(s.id, (0, 0)))) for s in sessions
    ]
    # Coming sessions first, soonest first; then past ones, latest first.
    now = utcnow()
    coming = sorted((line for line in lines if line.first_meeting and line.first_meeting >= now), key=_first)
    past = sorted((line for line in lines if not line.first_meeting or line.first_meeting < now), key=_first, reverse=True)
    return coming + past


def _first(line: SessionLine) -> tuple[datetime, int]:
    return (line.first_meeting or datetime.min.replace(tzinfo=timezone.utc), line.session.id)


@dataclass(frozen=True)
class Participant:
    """What a provider may know of a booked employee: name, company and the booking."""

    booking_id: int
    name: str
    company: str
    status: BookingStatus
    requested_at: datetime


def participants(session_id: int) -> list[Participant]:
    rows = db.session.execute(
        select(Booking.id, Employee.first_name, Employee.last_name, Company.name, Booking.status, Booking.requested_at)
        .join(Employee, Employee.id == Booking.employee_id)
        .join(Company, Company.id == Booking.company_id)
        .where(Booking.session_id == session_id, Booking.status != BookingStatus.CANCELLED)
        .order_by(Booking.status, Booking.requested_at, Booking.id)
    )
    return [Participant(b, f"{first} {last}", company, status, at) for b, first, last, company, status, at in rows]
