"""What the booking pages show: the roster to pick from, and the bookings to follow and cancel."""
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, or_, select

from portal.extensions import db
from portal.models import Booking, BookingStatus, Company, Course, Employee, Role, Session, SessionStatus, User
from portal.models.types import utcnow
from portal.services.booking import Clash, clash_details
from portal.services.pagination import Page, paginate_rows
from portal.services.roster_views import every_word_in

PICK_LIMIT = 100


@dataclass(frozen=True)
class Candidate:
    employee_id: int
    name: str
    job_role: str
    status: BookingStatus | None  # already booked or waitlisted on this session
    clash: Clash | None


@dataclass(frozen=True)
class Roster:
    """The company's people a booking page lists, as read: each with the place held on the session then,
    and no clash yet."""

    people: list[Candidate]

    @property
    def ids(self) -> list[int]:
        return [person.employee_id for person in self.people]

    def candidates(self, clashes: dict[int, Clash], held: dict[int, BookingStatus] | None = None) -> list[Candidate]:
        """The people with their clashes; with `held`, their places on the session as read since (a
        booking request's, under its lock) rather than as read with the roster."""
        return [replace(person, clash=clashes.get(person.employee_id),
                        status=person.status if held is None else held.get(person.employee_id))
                for person in self.people]


def roster(session_id: int, company_id: int, text: str = "", selected: Sequence[int] = ()) -> Roster:
    """The company's active employees to pick from: those matching the text, and those already picked."""
    live = (
        select(Booking.employee_id, Booking.status)
        .where(Booking.session_id == session_id, Booking.status != BookingStatus.CANCELLED)
        .subquery()
    )
    wanted = every_word_in(Employee.first_name + " " + Employee.last_name + " " + Employee.job_role, text) \
        if text.split() else None
    if selected:
        wanted = or_(Employee.id.in_(list(selected)), wanted) if wanted is not None else None
    statement = (
        select(Employee.id, Employee.first_name, Employee.last_name, Employee.job_role, live.c.status)
        .outerjoin(live, live.c.employee_id == Employee.id)
        .where(Employee.company_id == company_id, Employee.is_active, Employee.erased_at.is_(None))
        .order_by(Employee.last_name, Employee.first_name, Employee.id)
        .limit(PICK_LIMIT)
    )
    if wanted is not None:
        statement = statement.where(wanted)
    return Roster([Candidate(i, f"{first} {last}", role, status, None)
                   for i, first, last, role, status in db.session.execute(statement)])


def candidates(session: Session, company_id: int, text: str = "", selected: Sequence[int] = ()) -> list[Candidate]:
    """The roster with each person's clash with the session, if any."""
    listed = roster(session.id, company_id, text, selected)
    return listed.candidates(clash_details(listed.ids, session))


@dataclass(frozen=True)
class BookingRow:
    booking_id: int
    employee: str
    company: str
    session_id: int
    course_id: int
    course_title: str
    first_meeting: datetime | None
    status: BookingStatus
    place: int | None
    cancellation_deadline: datetime

    @property
    def cancellable_by_hr(self) -> bool:
        return self.status == BookingStatus.WAITLISTED or utcnow() <= self.cancellation_deadline


def bookings_for(user: User, page: int, session_id: int | None = None, per_page: int = 25) -> Page[BookingRow]:
    """Live bookings of coming sessions: HR sees its company's, the programme office everyone's."""
    place = func.row_number().over(partition_by=Booking.session_id, order_by=(Booking.requested_at, Booking.id))
    waiting = select(Booking.id.label("booking_id"), place.label("place")).where(Booking.status == BookingStatus.WAITLISTED)
    if session_id is not None:
        waiting = waiting.where(Booking.session_id == session_id)
    elif user.role == Role.HR:  # only the sessions the company is in, not the whole programme's lines
        waiting = waiting.where(Booking.session_id.in_(
            select(Booking.session_id).where(Booking.company_id == user.company_id, Booking.status == BookingStatus.WAITLISTED)
        ))
    line = waiting.subquery()
    statement = (
        select(
            Booking.id, Employee.first_name + " " + Employee.last_name, Company.name, Session.id, Course.id,
            Course.title, Session.starts_at, Booking.status, line.c.place, Session.cancellation_deadline,
        )
        .join(Employee, Employee.id == Booking.employee_id)
        .join(Company, Company.id == Booking.company_id)
        .join(Session, Session.id == Booking.session_id)
        .join(Course, Course.id == Session.course_id)
        .outerjoin(line, line.c.booking_id == Booking.id)
        .where(
            Booking.status != BookingStatus.CANCELLED,
            Session.status.in_([SessionStatus.OPEN, SessionStatus.PLANNED, SessionStatus.POSTPONED]),
            Session.ends_at >= utcnow(),
        )
        .order_by(Session.starts_at, Session.id, Booking.status, line.c.place, Employee.last_name, Booking.id)
    )
    if user.role == Role.HR:
        statement = statement.where(Booking.company_id == user.company_id)
    if session_id is not None:
        statement = statement.where(Booking.session_id == session_id)
    return paginate_rows(statement, page, per_page, BookingRow)
