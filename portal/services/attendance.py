"""Attendance per meeting, as the provider takes it; an attended meeting yields its hours once."""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, select

from portal.extensions import db
from portal.i18n import day as format_day
from portal.i18n import to_local
from portal.models import (
    Attendance, AttendanceStatus, Booking, BookingStatus, Company, Delivery, Employee, HoursEntry, HoursSource,
    Meeting, Role, User, Verification,
)
from portal.models.types import MAX_ID, utcnow
from portal.services import DomainError, audit
from portal.services.hours import MAX_DAY_MINUTES, minutes_on_day
from portal.services.locking import WITH_MEETINGS, lock_employees, lock_sessions


def has_started(meeting: Meeting) -> bool:
    return meeting.starts_at <= utcnow()


class NotOnSession(DomainError):
    """A booking asked for is not one of the meeting's session's (or does not exist)."""


def mark(meeting: Meeting, booking_id: int, status: AttendanceStatus | str, actor: User) -> Attendance:
    """Record whether one booked employee attended the meeting; changeable afterwards. The booking is
    read here, under the session's lock: NotOnSession if it is not one of the session's."""
    return record_attendance(meeting, {booking_id: status}, actor)[0]


def mark_all_present(meeting: Meeting, actor: User) -> list[Attendance]:
    """Everyone booked on the session attended the meeting."""
    _check(meeting, actor)
    booked = db.session.scalars(
        select(Booking.id).where(Booking.session_id == meeting.session_id, Booking.status == BookingStatus.BOOKED)
    ).all()
    return record_attendance(meeting, dict.fromkeys(booked, AttendanceStatus.ATTENDED), actor)


def record_attendance(
    meeting: Meeting, statuses: Mapping[int, AttendanceStatus | str] | Iterable[int], actor: User,
) -> list[Attendance]:
    """Record attendance for bookings of the meeting's session, given as booking id → status (or as
    booking ids alone: those attended): all of them or, if a rule refuses one, none. Attended
    creates the meeting's hours for the person, absent removes them; recording the same again
    changes nothing."""
    _check(meeting, actor)
    if not isinstance(statuses, Mapping):
        statuses = dict.fromkeys(statuses, AttendanceStatus.ATTENDED)
    try:
        wanted = {int(booking_id): AttendanceStatus(status) for booking_id, status in statuses.items()}
    except (TypeError, ValueError):
        raise DomainError(_("Mark each person as attended or absent.")) from None
    if not wanted:
        return []
    if not all(0 < booking_id <= MAX_ID for booking_id in wanted):
        raise NotOnSession(_("Only people booked on this session can be marked."))
    # The session's lock keeps a booking from being cancelled while it is marked; the employees'
    # keeps HR from logging hours for the same day at the same moment.
    # Kept in a variable: the identity map holds objects weakly, and `meeting.session` is found in it
    # (no statement) only while something holds the locked session.
    # The meetings are read again with it: the meeting may have moved or gone since the page was loaded.
    held = lock_sessions([meeting.session_id], *WITH_MEETINGS)
    if not held or meeting not in held[0].meetings:
        raise DomainError(_("The meeting is no longer part of the session."))
    _check(meeting, actor)
    bookings = {
        b.id: b for b in db.session.scalars(
            select(Booking).where(Booking.id.in_(wanted), Booking.session_id == meeting.session_id)
            .execution_options(populate_existing=True)
        )
    }
    if len(bookings) < len(wanted):
        raise NotOnSession(_("Only people booked on this session can be marked."))
    if any(b.status != BookingStatus.BOOKED for b in bookings.values()):
        raise DomainError(_("Only people booked on this session can be marked."))
    lock_employees([b.employee_id for b in bookings.values()])
    existing, entries = {}, {}  # by booking, and the hours each recorded attendance gave
    for attendance, entry in db.session.execute(
        select(Attendance, HoursEntry).outerjoin(HoursEntry, HoursEntry.attendance_id == Attendance.id)
        .where(Attendance.meeting_id == meeting.id, Attendance.booking_id.in_(wanted))
        .execution_options(populate_existing=True)
    ):
        existing[attendance.booking_id] = attendance
        if entry is not None:
            entries[attendance.id] = entry
    day = to_local(meeting.starts_at).date()
    gaining = [
        bookings[booking_id].employee_id for booking_id, status in wanted.items()
        if status == AttendanceStatus.ATTENDED
        and (booking_id not in existing or existing[booking_id].id not in entries)
    ]
    _check_day(gaining, day, meeting.minutes)

    now, provider_id, course_id = utcnow(), meeting.session.course.provider_id, meeting.session.course_id
    recorded, events = [], []
    for booking_id, status in wanted.items():
        booking, attendance = bookings[booking_id], existing.get(booking_id)
        before = attendance.status if attendance else None
        if attendance is None:
            attendance = Attendance(booking_id=booking_id, meeting_id=meeting.id, status=status,
                                    recorded_by_id=actor.id, recorded_at=now)
            db.session.add(attendance)
            db.session.flush()
        elif before != status:
            attendance.status, attendance.recorded_by_id = status, actor.id
        entry = entries.get(attendance.id)
        if status == AttendanceStatus.ATTENDED and entry is None:
            db.session.add(HoursEntry(
                employee_id=booking.employee_id, company_id=booking.company_id, entry_date=day, minutes=meeting.minutes,
                source=HoursSource.ATTENDANCE, attendance_id=attendance.id, session_id=meeting.session_id,
                course_id=course_id,
                delivery=Delivery.IN_PERSON if meeting.municipality_id else Delivery.DIGITAL,
                verification=Verification.VERIFIED, verified_by_id=actor.id, verified_at=now,
                created_by_id=actor.id, created_at=now,
            ))
        elif status == AttendanceStatus.ABSENT and entry is not None:
            db.session.delete(entry)
        if before != status:
            events.append({
                "object_id": attendance.id, "company_id": booking.company_id, "provider_id": provider_id,
                "data": {"meeting_id": meeting.id, "booking_id": booking_id, "employee_id": booking.employee_id,
                         "from": str(before) if before else None, "to": str(status)},
            })
        recorded.append(attendance)
    db.session.flush()
    audit.record_many(actor, "attendance.recorded", "attendance", events)
    return recorded


def _check(meeting: Meeting, actor: User) -> None:
    if actor.role != Role.PROVIDER or meeting.session.course.provider_id != actor.provider_id:
        raise DomainError(_("Only the course's provider takes attendance."))
    if not has_started(meeting):
        raise DomainError(_("Attendance can be taken once the meeting has started."))
    if meeting.session.attendance_purged_at is not None:
        raise DomainError(_("The session's attendance register has been purged under the retention rule."))


def _check_day(employee_ids: list[int], day: date, minutes: int) -> None:
    """Nobody gets more than 24 hours of training on one day."""
    if not employee_ids:
        return
    totals = minutes_on_day(employee_ids, day)
    over = [employee_id for employee_id in employee_ids if totals.get(employee_id, 0) + minutes > MAX_DAY_MINUTES]
    if over:
        names = db.session.execute(
            select(Employee.first_name, Employee.last_name).where(Employee.id.in_(over))
            .order_by(Employee.last_name, Employee.first_name)
        ).all()
        raise DomainError(_(
            "%(names)s would have more than 24 hours of training on %(day)s. Nothing was saved.",
            names=", ".join(f"{first} {last}" for first, last in names), day=format_day(day),
        ))


@dataclass(frozen=True)
class RegisterRow:
    """What the provider sees of one booked person: name, company and attendance; nothing more."""

    booking_id: int
    name: str
    company: str
    status: AttendanceStatus | None


def register(meeting: Meeting, booking_id: int | None = None) -> list[RegisterRow]:
    """Everyone booked on the meeting's session (or the one booking), with what is recorded for
    this meeting: one query."""
    statement = (
        select(Booking.id, Employee.first_name, Employee.last_name, Company.name, Attendance.status)
        .join(Employee, Employee.id == Booking.employee_id)
        .join(Company, Company.id == Booking.company_id)
        .outerjoin(Attendance, and_(Attendance.booking_id == Booking.id, Attendance.meeting_id == meeting.id))
        .where(Booking.session_id == meeting.session_id, Booking.status == BookingStatus.BOOKED)
        .order_by(Employee.last_name, Employee.first_name, Booking.id)
    )
    if booking_id is not None:
        statement = statement.where(Booking.id == booking_id)
    return [RegisterRow(found_id, f"{first} {last}", company, status)
            for found_id, first, last, company, status in db.session.execute(statement)]
