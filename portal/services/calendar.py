"""Calendar files: a session's meetings as iCalendar, and each company's private feed of its bookings."""
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from portal.extensions import db
from portal.models import Booking, BookingStatus, Company, Course, Employee, Meeting, Role, Session, SessionStatus, User
from portal.models.types import utcnow
from portal.services import DomainError
from portal.urls import external_url

PRODID = "-//portal//Ett kompetenslyft//SV"
FEED_HISTORY = timedelta(days=60)
# What secrets.token_urlsafe(32) gives; anything else is not worth a query.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
EVENT_STATUS = {
    SessionStatus.CANCELLED: "CANCELLED",
    SessionStatus.PLANNED: "TENTATIVE",
    SessionStatus.POSTPONED: "TENTATIVE",
}

def session_calendar(session: Session) -> bytes:
    """Every meeting of the session as an event; load the session with its course, provider and meetings."""
    calendar = _calendar()
    for meeting in session.meetings:
        calendar.add_component(_event(meeting, session))
    return calendar.to_ical()


def company_feed(company: Company) -> bytes:
    """The company's booked meetings from FEED_HISTORY ago on, naming its own booked employees only."""
    meetings = _booked_meetings(company)
    names = _booked_names(company, {meeting.session_id for meeting in meetings})
    calendar = _calendar()
    calendar.add("x-wr-calname", _("%(company)s: bookings", company=company.name))
    for meeting in meetings:
        event = _event(meeting, meeting.session, names[meeting.session_id])
        calendar.add_component(event)
    return calendar.to_ical()


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    return calendar


def _event(meeting: Meeting, session: Session, booked: Iterable[str] = ()) -> Event:
    course = session.course
    event = Event()
    # Meetings are moved in place, so the id names the same event after a move; SEQUENCE says which is newer.
    event.add("uid", f"meeting-{meeting.id}@portal")
    event.add("sequence", session.ical_sequence)
    event.add("dtstamp", utcnow())
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("summary", course.title)
    event.add("status", EVENT_STATUS.get(session.status, "CONFIRMED"))
    event.add("location", _location(meeting))
    event.add("url", external_url("catalogue.course", course_id=course.id))
    event.add("description", _description(meeting, course, booked))
    return event


def _location(meeting: Meeting) -> str:
    if meeting.municipality is None:
        return meeting.online_url or meeting.venue
    if meeting.municipality.name in meeting.venue:
        return meeting.venue
    return ", ".join(part for part in (meeting.venue, meeting.municipality.name) if part)


def _description(meeting: Meeting, course: Course, booked: Iterable[str]) -> str:
    lines = [_("Provider: %(provider)s", provider=course.provider.name)]
    if meeting.online_url:
        lines.append(_("Online: %(link)s", link=meeting.online_url))
    names = ", ".join(booked)
    if names:
        lines.append(_("Booked: %(names)s", names=names))
    return "\n".join(lines)


def _booked_meetings(company: Company) -> list[Meeting]:
    booked_sessions = select(Booking.session_id).where(
        Booking.company_id == company.id, Booking.status == BookingStatus.BOOKED
    )
    return list(db.session.scalars(
        select(Meeting)
        .join(Meeting.session)
        .join(Session.course)
        .where(
            Meeting.session_id.in_(booked_sessions),
            Session.status != SessionStatus.CANCELLED,
            Meeting.starts_at >= utcnow() - FEED_HISTORY,
        )
        .options(
            contains_eager(Meeting.session).contains_eager(Session.course).joinedload(Course.provider),
            joinedload(Meeting.municipality),
        )
        .order_by(Meeting.starts_at, Meeting.id)
    ))


def _booked_names(company: Company, session_ids: set[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    rows = db.session.execute(
        select(Booking.session_id, Employee.first_name, Employee.last_name)
        .join(Employee, Employee.id == Booking.employee_id)
        .where(
            Booking.company_id == company.id,
            Employee.company_id == company.id,
            Booking.status == BookingStatus.BOOKED,
            Booking.session_id.in_(session_ids),
        )
        .order_by(Employee.last_name, Employee.first_name, Employee.id)
    )
    for session_id, first_name, last_name in rows:
        found[session_id].append(f"{first_name} {last_name}")
    return found


# The feed's address

def renew_calendar_token(actor: User) -> Company:
    """Give the actor's company a new feed address; an earlier address stops working at once."""
    company = _own_company(actor)
    company.calendar_token = secrets.token_urlsafe(32)
    db.session.flush()
    return company


def revoke_calendar_token(actor: User) -> Company:
    """Turn the company's feed off: its address stops working."""
    company = _own_company(actor)
    company.calendar_token = None
    db.session.flush()
    return company


def company_by_calendar_token(token: str) -> Company | None:
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    return db.session.scalars(select(Company).where(Company.calendar_token == token)).first()


def _own_company(actor: User) -> Company:
    if actor.role != Role.HR or actor.company is None:
        raise DomainError(_("Only a company's HR can manage its calendar feed."))
    return actor.company
