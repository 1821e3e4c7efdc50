"""Meeting reminders: a few days before each meeting, to the HR of everyone booked and to each
employee with an email address; once per meeting and time, never for postponed or cancelled ones."""
from datetime import datetime, timedelta

from flask_babel import force_locale, gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.i18n import clock, moment
from portal.models import Booking, BookingStatus, Meeting, MeetingReminder, Session, SessionStatus
from portal.models.types import utcnow
from portal.services import notifications
from portal.services.locking import lock_sessions
from portal.urls import external_url


def meetings_due(now: datetime, days_before: int) -> list[int]:
    """Meetings of open sessions starting within `days_before` days and not yet reminded at their time."""
    reminded = select(MeetingReminder.id).where(
        MeetingReminder.meeting_id == Meeting.id, MeetingReminder.starts_at == Meeting.starts_at
    ).exists()
    return list(db.session.scalars(
        select(Meeting.id)
        .join(Session, Session.id == Meeting.session_id)
        .where(Session.status == SessionStatus.OPEN, Meeting.starts_at > now,
               Meeting.starts_at <= now + timedelta(days=days_before), ~reminded)
        .order_by(Meeting.starts_at, Meeting.id)
    ))


def send_reminders(now: datetime | None = None, days_before: int = 2) -> int:
    """Remind everyone of the meetings due; each meeting in its own transaction. Returns how many
    meetings were reminded. Two schedulers at once send each reminder once: the session is locked
    and the (meeting, time) pair is unique."""
    now = now or utcnow()
    reminded = 0
    for meeting_id in meetings_due(now, days_before):
        try:
            reminded += _remind(meeting_id, now)
            db.session.commit()
        except IntegrityError:  # the other scheduler sent it
            db.session.rollback()
    return reminded


def _remind(meeting_id: int, now: datetime) -> int:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        return 0
    session = lock_sessions([meeting.session_id])[0]
    db.session.refresh(meeting)
    if session.status != SessionStatus.OPEN or meeting.starts_at <= now or db.session.scalar(
        select(MeetingReminder.id).where(MeetingReminder.meeting_id == meeting.id, MeetingReminder.starts_at == meeting.starts_at)
    ):
        return 0
    db.session.add(MeetingReminder(meeting_id=meeting.id, starts_at=meeting.starts_at, sent_at=now))
    db.session.flush()
    bookings = list(db.session.scalars(
        select(Booking).where(Booking.session_id == session.id, Booking.status == BookingStatus.BOOKED)
        .options(selectinload(Booking.employee)).order_by(Booking.id)
    ))
    if not bookings:
        return 1
    with force_locale("sv"):
        title = _("Reminder: %(course)s %(when)s", course=session.course.title, when=moment(meeting.starts_at))
        place = ", ".join(part for part in (meeting.venue, meeting.municipality.name if meeting.municipality else "") if part)
        body = _("A meeting of %(course)s is coming up: %(when)s–%(ends)s.", course=session.course.title,
                 when=moment(meeting.starts_at), ends=clock(meeting.ends_at))
        if place:
            body += "\n" + _("Place: %(place)s", place=place)
        if meeting.online_url:
            body += "\n" + _("Online: %(link)s", link=meeting.online_url)
        notifications.email_employees([b.employee for b in bookings], title, body)
        names: dict[int, list[str]] = {}
        for booking in bookings:
            names.setdefault(booking.company_id, []).append(booking.employee.name)
        link = external_url("catalogue.course", course_id=session.course_id)
        for hr in notifications.hr_users_of(set(names)):
            text = body + "\n\n" + _("Your employees: %(names)s", names=", ".join(sorted(names[hr.company_id])))
            notifications.notify(hr, "meeting.reminder", title, text, link)
    return 1
