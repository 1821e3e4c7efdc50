"""Personal data on request (GDPR): all the programme holds about one employee, erasure that keeps
the anonymous totals, and the retention rule that purges old attendance registers.

Erasure anonymises instead of deleting: the person's row stays, without name, email, job role,
gender or birth year, so their company's hours and participant counts do not change. Their
bookings on sessions still to come are cancelled (a freed seat goes to the waitlist), and their
name is struck from the notifications and mails the portal wrote about them.
"""
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, delete, func, or_, select, update

from portal.extensions import db
from portal.i18n import from_local, to_local
from portal.models import (
    Attendance, AuditEvent, Booking, BookingStatus, Company, Course, Employee, Gender, HoursEntry, Meeting,
    Notification, OutboxEmail, PlanItem, Programme, Provider, Role, Session, SessionStatus, User,
)
from portal.models.plans import plan_item_employees
from portal.models.types import utcnow
from portal.services import DomainError, InvalidInput, audit
from portal.services.booking import cancel_booking
from portal.services.locking import lock_employees, lock_sessions
from portal.services.pagination import Page, paginate_rows
from portal.services.roster_views import every_word_in
from portal.services.search import upcoming

PER_PAGE = 50
ERASED_FIRST_NAME, ERASED_LAST_NAME = "Raderad", "person"
RETENTION_YEARS = (1, 50)


@dataclass(frozen=True)
class PersonRow:
    employee_id: int
    first_name: str
    last_name: str
    email: str | None
    company: str
    is_active: bool
    erased_at: datetime | None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Erasure:
    cancelled: int  # bookings and waitlist places on sessions still to come
    promoted: int  # people given the freed seats from the waitlist


def find_people(text: str = "", page: int = 1) -> Page[PersonRow]:
    """Employees of every company found by name or email, erased ones too: two queries."""
    haystack = Employee.first_name + " " + Employee.last_name + " " + func.coalesce(Employee.email, "")
    statement = (
        select(Employee.id, Employee.first_name, Employee.last_name, Employee.email, Company.name,
               Employee.is_active, Employee.erased_at)
        .join(Company, Company.id == Employee.company_id)
        .where(every_word_in(haystack, text))
        .order_by(Employee.last_name, Employee.first_name, Employee.id)
    )
    return paginate_rows(statement, page, PER_PAGE, PersonRow)


def person_summary(employee: Employee) -> dict[str, int]:
    """What erasing the person would touch, counted in one query."""
    live = Booking.status.in_([BookingStatus.BOOKED, BookingStatus.WAITLISTED])
    return dict(zip(("bookings", "coming", "minutes"), db.session.execute(select(
        select(func.count(Booking.id)).where(Booking.employee_id == employee.id).scalar_subquery(),
        _coming_bookings(employee.id).with_only_columns(func.count(Booking.id)).where(live).scalar_subquery(),
        select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(HoursEntry.employee_id == employee.id)
        .scalar_subquery(),
    )).one()))


def person_data(employee: Employee) -> dict[str, Any]:
    """Everything the portal holds about the person, as JSON-ready data (the right of access)."""
    company = db.session.get(Company, employee.company_id)
    return {
        "exported_at": utcnow().isoformat(),
        "person": {
            "id": employee.id, "first_name": employee.first_name, "last_name": employee.last_name,
            "email": employee.email, "job_role": employee.job_role,
            "employment_status": str(employee.employment_status), "gender": str(employee.gender),
            "birth_year": employee.birth_year, "active": employee.is_active,
            "erased_at": _iso(employee.erased_at), "added_at": _iso(employee.created_at),
            "company": {"name": company.name, "org_number": company.org_number},
        },
        "bookings": _bookings_of(employee.id),
        "attendance": _attendance_of(employee.id),
        "hours": _hours_of(employee.id),
        "plan_needs": _plan_needs_of(employee.id),
        "messages": _messages_about(employee),
        "history": _history_of(employee.id),
    }


def erase(actor: User, employee: Employee) -> Erasure:
    """Anonymise the person: their totals stay, their name and details go, their coming bookings
    are cancelled and the waitlist moves up. Cannot be undone."""
    if actor.role != Role.PM:
        raise DomainError(_("Only the programme office erases a person's data."))
    coming = _coming_bookings(employee.id).where(Booking.status.in_([BookingStatus.BOOKED, BookingStatus.WAITLISTED]))
    # Sessions first, then the person: the order the booking service locks in, so the two never deadlock.
    lock_sessions(db.session.scalars(coming.with_only_columns(Booking.session_id)).all())
    lock_employees([employee.id])
    db.session.refresh(employee)
    if employee.erased_at is not None:
        raise DomainError(_("This person's data has already been erased."))
    name, email = employee.name, employee.email
    # Inactive first, so a seat freed below is never offered back to the person.
    employee.is_active = False
    db.session.flush()
    promoted = cancelled = 0
    for booking in db.session.scalars(coming.order_by(Booking.id)).all():
        promoted += len(cancel_booking(booking, actor))
        cancelled += 1
    employee.first_name, employee.last_name = ERASED_FIRST_NAME, ERASED_LAST_NAME
    employee.email, employee.job_role, employee.gender, employee.birth_year = None, "", Gender.NOT_STATED, None
    employee.erased_at = utcnow()
    db.session.execute(update(HoursEntry).where(HoursEntry.employee_id == employee.id).values(note=""))
    _strike_from_messages(employee.company_id, name, email)
    db.session.flush()
    audit.record(actor, "employee.erased", "employee", employee.id, company_id=employee.company_id,
                 cancelled=cancelled, promoted=promoted)
    return Erasure(cancelled=cancelled, promoted=promoted)


def set_retention(actor: User, years: int | None) -> Programme:
    if actor.role != Role.PM:
        raise DomainError(_("Only the programme office sets how long attendance is kept."))
    low, high = RETENTION_YEARS
    if years is not None and not low <= years <= high:
        raise InvalidInput({"retention_years": _("Give a number of years from %(low)d to %(high)d, or leave it empty.",
                                                 low=low, high=high)})
    programme = _programme()
    if programme.retention_years != years:
        programme.retention_years = years
        db.session.flush()
        audit.record(actor, "programme.retention_set", "programme", programme.id, years=years)
    return programme


def retention_years() -> int | None:
    return db.session.scalar(select(Programme.retention_years).order_by(Programme.id).limit(1))


def sessions_due_for_purge(years: int | None, today: date | None = None) -> int:
    """How many sessions' registers the retention rule purges now (or would, with this setting)."""
    if years is None:
        return 0
    return db.session.scalar(_due(years, today).with_only_columns(func.count(Session.id))) or 0


def purge_expired_attendance(today: date | None = None) -> int:
    """Purge the attendance registers of sessions that ended more than the retention period ago:
    who was present or absent at which meeting, and who marked it. The hours those meetings gave
    stay with their session, so every total and report is unchanged. Returns the sessions purged."""
    years = retention_years()
    if years is None:
        return 0
    session_ids = db.session.scalars(_due(years, today).with_only_columns(Session.id).order_by(Session.id)).all()
    if not session_ids:
        return 0
    lock_sessions(session_ids)
    registers = select(Attendance.id).join(Meeting, Meeting.id == Attendance.meeting_id).where(
        Meeting.session_id.in_(session_ids))
    db.session.execute(update(HoursEntry).where(HoursEntry.attendance_id.in_(registers)).values(attendance_id=None)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(Attendance).where(Attendance.id.in_(registers)).execution_options(synchronize_session=False))
    db.session.execute(update(Session).where(Session.id.in_(session_ids)).values(attendance_purged_at=utcnow())
                       .execution_options(synchronize_session=False))
    audit.record_many(None, "session.attendance_purged", "session", [
        {"object_id": session_id, "data": {"retention_years": years}} for session_id in session_ids
    ])
    return len(session_ids)


# What erasure and the export read

def _coming_bookings(employee_id: int) -> Select:
    """The person's bookings on sessions that have not begun (a postponed one has not either)."""
    return (
        select(Booking).join(Session, Session.id == Booking.session_id)
        .where(Booking.employee_id == employee_id, upcoming(),
               or_(Session.status == SessionStatus.POSTPONED, Session.starts_at > utcnow()))
    )


def _due(years: int, today: date | None) -> Select:
    """Sessions whose last meeting ended more than `years` years ago and still have a register."""
    today = today or to_local(utcnow()).date()
    try:
        cutoff_day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cutoff_day = today.replace(year=today.year - years, day=28)
    cutoff = from_local(cutoff_day, time.min)
    return select(Session).where(Session.attendance_purged_at.is_(None), Session.ends_at < cutoff)


def _strike_from_messages(company_id: int, name: str, email: str | None) -> None:
    """The person's name out of what the portal wrote to their HR and the programme office, and
    the mails to their own address gone."""
    readers = select(User.id).where(or_(User.company_id == company_id, User.role == Role.PM))
    stand_in = f"{ERASED_FIRST_NAME} {ERASED_LAST_NAME}"
    db.session.execute(
        update(Notification).where(Notification.user_id.in_(readers))
        .values(title=func.replace(Notification.title, name, stand_in), body=func.replace(Notification.body, name, stand_in))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(OutboxEmail).where(OutboxEmail.to_address.in_(select(User.email).where(User.id.in_(readers))))
        .values(subject=func.replace(OutboxEmail.subject, name, stand_in),
                body_text=func.replace(OutboxEmail.body_text, name, stand_in))
        .execution_options(synchronize_session=False)
    )
    if email:
        db.session.execute(delete(OutboxEmail).where(func.lower(OutboxEmail.to_address) == email.lower())
                           .execution_options(synchronize_session=False))


def _bookings_of(employee_id: int) -> list[dict]:
    rows = db.session.execute(
        select(Booking.id, Booking.status, Booking.requested_at, Booking.cancelled_at, Session.id, Course.title,
               Provider.name, Session.starts_at, Session.ends_at)
        .join(Session, Session.id == Booking.session_id).join(Course, Course.id == Session.course_id)
        .join(Provider, Provider.id == Course.provider_id)
        .where(Booking.employee_id == employee_id)
        .order_by(Booking.requested_at, Booking.id)
    )
    return [{"booking": booking_id, "status": str(status), "requested_at": _iso(requested),
             "cancelled_at": _iso(cancelled), "session": session_id, "course": title, "provider": provider,
             "first_meeting": _iso(first), "last_meeting": _iso(last)}
            for booking_id, status, requested, cancelled, session_id, title, provider, first, last in rows]


def _attendance_of(employee_id: int) -> list[dict]:
    rows = db.session.execute(
        select(Meeting.starts_at, Meeting.ends_at, Course.title, Attendance.status, Attendance.recorded_at)
        .join(Booking, Booking.id == Attendance.booking_id).join(Meeting, Meeting.id == Attendance.meeting_id)
        .join(Session, Session.id == Meeting.session_id).join(Course, Course.id == Session.course_id)
        .where(Booking.employee_id == employee_id).order_by(Meeting.starts_at)
    )
    return [{"meeting_start": _iso(start), "meeting_end": _iso(end), "course": title, "status": str(status),
             "recorded_at": _iso(recorded)} for start, end, title, status, recorded in rows]


def _hours_of(employee_id: int) -> list[dict]:
    rows = db.session.execute(
        select(HoursEntry, Course.title).outerjoin(Course, Course.id == HoursEntry.course_id)
        .where(HoursEntry.employee_id == employee_id).order_by(HoursEntry.entry_date, HoursEntry.id)
    )
    return [{"date": entry.entry_date.isoformat(), "minutes": entry.minutes, "source": str(entry.source),
             "delivery": str(entry.delivery), "course": title, "description": entry.description, "note": entry.note,
             "verification": str(entry.verification), "rejection_reason": entry.rejection_reason}
            for entry, title in rows]


def _plan_needs_of(employee_id: int) -> list[dict]:
    rows = db.session.execute(
        select(PlanItem.id, PlanItem.target_year, PlanItem.target_quarter, PlanItem.note)
        .join(plan_item_employees, plan_item_employees.c.plan_item_id == PlanItem.id)
        .where(plan_item_employees.c.employee_id == employee_id).order_by(PlanItem.id)
    )
    return [{"plan_item": item_id, "year": year, "quarter": quarter, "note": note}
            for item_id, year, quarter, note in rows]


def _messages_about(employee: Employee) -> list[dict]:
    """Mails to the person's own address, and notifications to their HR that name them."""
    mails = db.session.execute(
        select(OutboxEmail.subject, OutboxEmail.created_at, OutboxEmail.status)
        .where(func.lower(OutboxEmail.to_address) == (employee.email or "").lower()).order_by(OutboxEmail.id)
    ) if employee.email else []
    notes = db.session.execute(
        select(Notification.title, Notification.created_at).join(User, User.id == Notification.user_id)
        .where(User.company_id == employee.company_id, Notification.body.contains(employee.name, autoescape=True))
        .order_by(Notification.id)
    )
    return ([{"kind": "email to the person", "subject": subject, "at": _iso(at), "status": str(status)}
             for subject, at, status in mails]
            + [{"kind": "notification to their HR", "subject": title, "at": _iso(at)} for title, at in notes])


def _history_of(employee_id: int) -> list[dict]:
    """The audit trail of the person and of their bookings and attendance (names of fields, never values)."""
    about = or_(
        and_(AuditEvent.object_type == "employee", AuditEvent.object_id == employee_id),
        and_(AuditEvent.object_type.in_(["booking", "attendance"]),
             AuditEvent.data["employee_id"].as_integer() == employee_id),
    )
    rows = db.session.execute(
        select(AuditEvent.action, AuditEvent.created_at, AuditEvent.data).where(about).order_by(AuditEvent.id)
    )
    return [{"action": action, "at": _iso(at), "details": data} for action, at, data in rows]


def _programme() -> Programme:
    programme = db.session.scalars(select(Programme).order_by(Programme.id).limit(1)).first()
    if programme is None:
        raise DomainError(_("No programme is set up yet."))
    return programme


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None

