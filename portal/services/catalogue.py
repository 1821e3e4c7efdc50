"""A provider's catalogue: courses, their sessions and meetings, and telling everyone booked
when a session moves, is postponed or is cancelled."""
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask_babel import force_locale, gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.i18n import clock, moment, to_local
from portal.i18n import day as format_day
from portal.models import (
    Attendance, Booking, BookingStatus, CompetenceArea, Course, CourseFormat, CourseLevel, Meeting,
    Municipality, Session, SessionStatus, User,
)
from portal.models.catalogue import LONGEST_MEETING
from portal.models.types import utcnow
from portal.services import DomainError, InvalidInput, audit, notifications, placement
from portal.services.calendar import session_calendar
from portal.services.booking import promote_waitlist
from portal.services.clashes import clashing_employees, overlapping, span_values
from portal.services.demand import tell_companies_of_new_session
from portal.services.locking import lock_sessions
from portal.services.overview import current_programme
from portal.urls import external_url

LIVE = (BookingStatus.BOOKED, BookingStatus.WAITLISTED)
MAX_MEETINGS = 30
SCHEDULABLE = (SessionStatus.PLANNED, SessionStatus.OPEN, SessionStatus.POSTPONED)


@dataclass
class CourseData:
    title: str
    description: str
    competence_area_ids: list[int]
    format: CourseFormat
    nominal_minutes: int
    level: CourseLevel
    language: str
    certified: bool = False
    shared_niche: bool = False


@dataclass
class MeetingData:
    starts_at: datetime
    ends_at: datetime
    venue: str = ""
    municipality_id: int | None = None
    online_url: str = ""


@dataclass
class SessionData:
    capacity: int
    booking_deadline: datetime
    cancellation_deadline: datetime
    min_participants: int = 0
    company_seat_cap: int | None = None
    seat_cap_released_at: datetime | None = None
    note: str = ""
    meetings: list[MeetingData] = field(default_factory=list)


# Courses

def create_course(actor: User, data: CourseData) -> Course:
    course = Course(provider_id=actor.provider_id)
    _apply_course(course, data)
    db.session.add(course)
    db.session.flush()
    audit.record(actor, "course.created", "course", course.id, provider_id=course.provider_id, title=course.title)
    return course


def update_course(course: Course, actor: User, data: CourseData) -> Course:
    _check_owner(course, actor)
    _apply_course(course, data)
    db.session.flush()
    audit.record(actor, "course.updated", "course", course.id, provider_id=course.provider_id, title=course.title)
    return course


def retire_course(course: Course, actor: User) -> Course:
    """Retired courses leave the catalogue and take no new sessions; running sessions go on."""
    _check_owner(course, actor)
    if course.retired_at is None:
        course.retired_at = utcnow()
        audit.record(actor, "course.retired", "course", course.id, provider_id=course.provider_id)
    return course


def reinstate_course(course: Course, actor: User) -> Course:
    _check_owner(course, actor)
    if course.retired_at is not None:
        course.retired_at = None
        audit.record(actor, "course.reinstated", "course", course.id, provider_id=course.provider_id)
    return course


def _apply_course(course: Course, data: CourseData) -> None:
    ids = set(data.competence_area_ids)
    areas = list(db.session.scalars(select(CompetenceArea).where(CompetenceArea.id.in_(ids)))) if ids else []
    errors = {}
    if not areas or len(areas) != len(ids):
        errors["competence_area_ids"] = _("Choose one or more competence areas from the list.")
    if not data.title.strip():
        errors["title"] = _("Give the course a title.")
    if not 1 <= data.nominal_minutes <= 2000 * 60:
        errors["nominal_hours"] = _("Nominal hours must be between 0.5 and 2,000.")
    if errors:
        raise InvalidInput(errors)
    course.title = data.title.strip()
    course.description = data.description.strip()
    course.competence_areas = sorted(areas, key=lambda area: area.id)
    course.format = data.format
    course.nominal_minutes = data.nominal_minutes
    course.level = data.level
    course.language = data.language
    course.certified = data.certified
    course.shared_niche = data.shared_niche


def _check_owner(course: Course, actor: User) -> None:
    if course.provider_id != actor.provider_id:
        raise DomainError(_("Only the course's own provider can change it."))


# Sessions

def create_session(course: Course, actor: User, data: SessionData, *, publish: bool) -> Session:
    """A new session with its meetings; published (open for booking) or kept as planned."""
    _check_owner(course, actor)
    if course.retired_at is not None:
        raise DomainError(_("The course is retired; reinstate it before adding sessions."))
    errors = _meeting_errors(course.format, data.meetings) | _session_errors(data, booked=0, meetings=data.meetings)
    errors |= _deadline_errors(data) | _venue_errors(course.provider_id, data.meetings)
    errors = errors or _restriction_errors(data.capacity, data.meetings)
    if errors:
        raise InvalidInput(errors)
    session = Session(course=course, status=SessionStatus.OPEN if publish else SessionStatus.PLANNED)
    _apply_settings(session, data)
    session.meetings = [_new_meeting(m) for m in data.meetings]
    db.session.add(session)
    db.session.flush()
    audit.record(actor, "session.created", "session", session.id, provider_id=course.provider_id, status=str(session.status))
    if publish:
        tell_companies_of_new_session(session)
    return session


def update_session(session: Session, actor: User, data: SessionData) -> Session:
    """Change capacity, seat cap, deadlines and note; the meetings are changed on their own.
    Seats a larger capacity frees go to the waitlist at once."""
    _check_schedulable(session, actor)
    errors = _session_errors(data, booked=session.seats_taken, meetings=meetings_as_data(session.meetings))
    errors |= _deadline_errors(data, session)
    if not errors and session.postponed_by_id is None:  # one a restriction postponed waits for its lift anyway
        errors = _restriction_errors(data.capacity, meetings_as_data(session.meetings))
    if errors:
        raise InvalidInput(errors)
    before = {"capacity": session.capacity, "company_seat_cap": session.company_seat_cap}
    _apply_settings(session, data)
    db.session.flush()
    audit.record(actor, "session.updated", "session", session.id, provider_id=session.course.provider_id,
                 before=before, after={"capacity": session.capacity, "company_seat_cap": session.company_seat_cap})
    promote_waitlist(session, actor)
    return session


def publish_session(session: Session, actor: User) -> Session:
    _check_schedulable(session, actor)
    if session.status == SessionStatus.PLANNED:
        session.status = SessionStatus.OPEN
        audit.record(actor, "session.published", "session", session.id, provider_id=session.course.provider_id,
                     **{"from": "planned", "to": "open"})
        tell_companies_of_new_session(session)
    return session


def add_meeting(session: Session, actor: User, meeting: MeetingData) -> Session:
    _check_open_or_planned(session, actor)
    proposed = meetings_as_data(session.meetings) + [meeting]
    index = len(session.meetings)
    errors = _meeting_errors(session.course.format, [meeting], first_index=index) | _overlap_errors(proposed)
    errors |= _venue_errors(session.course.provider_id, [meeting], session.id, first_index=index)
    # An earlier first meeting must not leave the deadlines after the start.
    errors |= {
        f"meetings-{index}-starts_at": message
        for message in _session_errors(_settings_of(session), booked=0, meetings=proposed).values()
    }
    if len(proposed) > MAX_MEETINGS:
        errors[f"meetings-{index}-starts_at"] = _("A session has at most %(n)s meetings.", n=MAX_MEETINGS)
    refused = {} if errors else _restriction_errors(session.capacity, [meeting])
    errors |= {f"meetings-{index}-starts_at": message for message in refused.values()}
    if errors:
        raise InvalidInput(errors)
    session.meetings.append(_new_meeting(meeting))
    return _schedule_changed(session, actor, "session.meeting_added")


def remove_meeting(session: Session, actor: User, meeting: Meeting) -> Session:
    _check_open_or_planned(session, actor)
    if meeting.session_id != session.id:
        raise DomainError(_("That meeting belongs to another session."))
    if len(session.meetings) == 1:
        raise DomainError(_("A session needs at least one meeting. Cancel the session instead."))
    if db.session.scalar(select(func.count(Attendance.id)).where(Attendance.meeting_id == meeting.id)):
        raise DomainError(_("Attendance has been taken for this meeting, so it cannot be removed."))
    session.meetings.remove(meeting)
    return _schedule_changed(session, actor, "session.meeting_removed")


class ClashesToConfirm(DomainError):
    """New dates on which booked employees would clash: the provider must see the count and confirm it."""

    def __init__(self, count: int):
        super().__init__(_("%(n)s booked employees would then clash with another of their bookings.", n=count))
        self.count = count


def clashing_booked_employees(session: Session, meetings: list[MeetingData]) -> set[int]:
    """The session's booked employees who would clash with another of their bookings on these dates."""
    booked = select(Booking.employee_id).where(Booking.session_id == session.id, Booking.status == BookingStatus.BOOKED)
    spans = [(m.starts_at, m.ends_at) for m in meetings]
    return clashing_employees(booked, spans, except_session_id=session.id)


def change_session_dates(
    session: Session, actor: User, meetings: list[MeetingData], booking_deadline: datetime,
    cancellation_deadline: datetime, *, confirmed_clashes: int | None = None,
) -> Session:
    """Move the session to new dates. Bookings and the waitlist are kept; a session the provider
    postponed goes back to the status it had. If booked employees would clash, nothing is saved
    until the provider confirms that number (ClashesToConfirm)."""
    _check_schedulable(session, actor)
    if session.status != SessionStatus.POSTPONED and _as_before(session, meetings, booking_deadline, cancellation_deadline):
        # Saving the form as it was would tell everyone booked of "new dates" that are the old ones.
        raise DomainError(_("Nothing has changed: the meetings and deadlines are as they were, so no one has been told."))
    data = replace(_settings_of(session), booking_deadline=booking_deadline,
                   cancellation_deadline=cancellation_deadline, meetings=meetings)
    existing = list(session.meetings)
    unchanged = {index for index, new in enumerate(meetings[:len(existing)]) if _same_time(existing[index], new)}
    errors = _meeting_errors(session.course.format, meetings, keep=unchanged)
    errors |= _session_errors(data, booked=0, meetings=meetings) | _attended_meeting_errors(existing, meetings)
    errors |= _deadline_errors(data, session)
    if session.postponed_by_id is None:  # a postponed one's dates pass the rescheduling rules, venues among them
        errors |= _venue_errors(session.course.provider_id, meetings, session.id, keep=unchanged)
    if session.postponed_by_id is None and not errors:
        errors = _restriction_errors(session.capacity, meetings)
    elif session.postponed_by_id is not None and not errors:
        # A restriction postponed it: the dates must pass the same rules as the proposals.
        errors = placement.chosen_date_errors(
            session, [(m.starts_at, m.ends_at) for m in meetings], [(m.venue, m.municipality_id) for m in meetings],
        )
    if errors:
        raise InvalidInput(errors)
    clashes = len(clashing_booked_employees(session, meetings))
    if clashes and confirmed_clashes != clashes:
        raise ClashesToConfirm(clashes)
    placement.close_proposals(session.id, actor)
    return apply_new_dates(session, actor, meetings, booking_deadline, cancellation_deadline)


def apply_new_dates(
    session: Session, actor: User | None, meetings: list[MeetingData], booking_deadline: datetime,
    cancellation_deadline: datetime,
) -> Session:
    """Give the session these meetings and deadlines; a postponed session opens again. Everyone
    booked and their HR are told, with the calendar file, and HR learns of new clashes."""
    # Meetings are updated in place, so calendar entries keep their identity and only move.
    existing = list(session.meetings)
    for index, new in enumerate(meetings):
        if index < len(existing):
            _copy_meeting(existing[index], new)
        else:
            session.meetings.append(_new_meeting(new))
    for extra in existing[len(meetings):]:
        session.meetings.remove(extra)
    session.booking_deadline, session.cancellation_deadline = booking_deadline, cancellation_deadline
    if session.status == SessionStatus.POSTPONED:
        session.status = SessionStatus.OPEN
        session.postponed_by_id = None
        session.postponed_at = None
    _schedule_changed(session, actor, "session.dates_changed")
    promote_waitlist(session, actor)  # seats freed while it was postponed
    return session


def _as_before(session: Session, meetings: list[MeetingData], booking_deadline: datetime,
               cancellation_deadline: datetime) -> bool:
    """The session's meetings (times and places, as they would be stored) and deadlines are these already."""
    stored = [replace(m, venue=m.venue.strip(), online_url=m.online_url.strip()) for m in meetings]
    return (stored == meetings_as_data(list(session.meetings)) and session.booking_deadline == booking_deadline
            and session.cancellation_deadline == cancellation_deadline)


def _same_time(meeting: Meeting, new: MeetingData) -> bool:
    return meeting.starts_at == new.starts_at and meeting.ends_at == new.ends_at


def _attended_meeting_errors(existing: list[Meeting], meetings: list[MeetingData]) -> dict[str, str]:
    """A meeting whose attendance is taken has happened: it keeps its time and stays."""
    attended = _attended_meeting_ids([m.id for m in existing])
    errors = {}
    for index, meeting in enumerate(existing):
        if meeting.id not in attended:
            continue
        if index >= len(meetings):
            errors["meetings"] = _("Meeting %(n)s has attendance taken and cannot be removed.", n=index + 1)
        elif not _same_time(meeting, meetings[index]):
            errors[f"meetings-{index}-starts_at"] = _("Attendance has been taken for this meeting, so it cannot move.")
    return errors


def _attended_meeting_ids(meeting_ids: list[int]) -> set[int]:
    if not meeting_ids:
        return set()
    return set(db.session.scalars(select(Attendance.meeting_id).where(Attendance.meeting_id.in_(meeting_ids))))


def postpone_session(session: Session, actor: User, reason: str = "") -> Session:
    """Postpone a published session without new dates ("date not yet known"); bookings and the
    waitlist are kept. A planned session is not bookable yet: change its dates instead."""
    _check_schedulable(session, actor)
    if session.status == SessionStatus.POSTPONED:
        raise DomainError(_("The session is already postponed."))
    if session.status == SessionStatus.PLANNED:
        raise DomainError(_("A planned session is not published yet: change its dates instead of postponing it."))
    previous = session.status
    session.status = SessionStatus.POSTPONED
    session.postponed_at = utcnow()
    session.ical_sequence += 1
    db.session.flush()
    audit.record(actor, "session.postponed", "session", session.id, provider_id=session.course.provider_id,
                 reason=reason, **{"from": str(previous), "to": "postponed"})
    with force_locale("sv"):
        title = _("Postponed: %(course)s", course=session.course.title)
        body = _("The session has been postponed and its new dates are not yet known. Your booking is kept; "
                 "you will be told the new dates.")
        tell_everyone(session, "session.postponed", title, _with_reason(body, reason), calendar_file(session))
    return session


def cancel_session(session: Session, actor: User, reason: str = "") -> Session:
    """Cancel: every booking and waitlist place ends, everyone is told; the session stays visible."""
    lock_sessions([session.id])
    _check_owner(session.course, actor)
    if session.status in (SessionStatus.CANCELLED, SessionStatus.COMPLETED):
        raise DomainError(_("A cancelled or completed session cannot be cancelled."))
    previous = session.status
    session.status = SessionStatus.CANCELLED
    session.seats_taken = 0  # every booking ends below
    session.ical_sequence += 1
    placement.close_proposals(session.id, actor)
    with force_locale("sv"):
        title = _("Cancelled: %(course)s", course=session.course.title)
        body = _("The session has been cancelled. Your booking has been cancelled as well.")
        tell_everyone(session, "session.cancelled", title, _with_reason(body, reason), calendar_file(session))
    now = utcnow()
    for booking in _live_bookings(session):
        audit.record(actor, "booking.cancelled", "booking", booking.id, company_id=booking.company_id,
                     provider_id=session.course.provider_id, reason="session cancelled",
                     **{"from": str(booking.status), "to": "cancelled"})
        booking.status, booking.cancelled_at, booking.cancelled_by_id = BookingStatus.CANCELLED, now, actor.id
    db.session.flush()
    audit.record(actor, "session.cancelled", "session", session.id, provider_id=session.course.provider_id,
                 reason=reason, **{"from": str(previous), "to": "cancelled"})
    return session


# Rules

def _meeting_errors(
    course_format: CourseFormat, meetings: list[MeetingData], first_index: int = 0, keep: set[int] = frozenset(),
) -> dict[str, str]:
    """What is wrong with each meeting; those in `keep` stay as they were and may lie in the past."""
    errors: dict[str, str] = {}
    if not meetings:
        return {"meetings": _("A session needs at least one meeting.")}
    if len(meetings) > MAX_MEETINGS:
        return {"meetings": _("A session has at most %(n)s meetings.", n=MAX_MEETINGS)}
    now = utcnow()
    known_municipalities = _existing_municipalities({m.municipality_id for m in meetings if m.municipality_id})
    programme = current_programme()
    for offset, meeting in enumerate(meetings):
        key = f"meetings-{first_index + offset}-"
        if programme is not None and offset not in keep and to_local(meeting.starts_at).date() > programme.period_end:
            errors[key + "starts_at"] = _("The programme period ends %(day)s; its hours would not count.",
                                          day=format_day(programme.period_end))
        if meeting.ends_at <= meeting.starts_at:
            errors[key + "ends_at"] = _("The meeting must end after it starts.")
        elif meeting.ends_at - meeting.starts_at > LONGEST_MEETING:
            errors[key + "ends_at"] = _("A meeting lasts at most 24 hours.")
        if meeting.starts_at <= now and offset not in keep:
            errors[key + "starts_at"] = _("The meeting must be in the future.")
        in_person = bool(meeting.venue.strip()) or meeting.municipality_id is not None
        if meeting.municipality_id is not None and meeting.municipality_id not in known_municipalities:
            errors[key + "municipality_id"] = _("Choose a municipality from the list.")
        if course_format == CourseFormat.IN_PERSON or (course_format == CourseFormat.HYBRID and in_person):
            if not meeting.venue.strip():
                errors[key + "venue"] = _("An in-person meeting needs a venue.")
            if meeting.municipality_id is None:
                errors[key + "municipality_id"] = _("An in-person meeting needs a municipality.")
        if course_format == CourseFormat.DIGITAL and not meeting.online_url.strip():
            errors[key + "online_url"] = _("A digital meeting needs a link.")
        if course_format == CourseFormat.HYBRID and not in_person and not meeting.online_url.strip():
            errors[key + "online_url"] = _("Give a venue, a link, or both.")
    return errors | _overlap_errors(meetings, first_index)


def _overlap_errors(meetings: list[MeetingData], first_index: int = 0) -> dict[str, str]:
    errors = {}
    indexed = sorted(enumerate(meetings), key=lambda pair: pair[1].starts_at)
    for (_earlier_index, earlier), (later_index, later) in zip(indexed, indexed[1:]):
        if later.starts_at < earlier.ends_at:
            if later_index >= first_index:
                errors[f"meetings-{later_index}-starts_at"] = _("This meeting overlaps another meeting of the session.")
            else:  # the new meeting is the earlier one
                errors[f"meetings-{first_index}-starts_at"] = _("This meeting overlaps another meeting of the session.")
    return errors


def _deadline_errors(data: SessionData, before: Session | None = None) -> dict[str, str]:
    """A booking deadline set (or moved) to a moment already past would show a session no one can book."""
    if (before is None or data.booking_deadline != before.booking_deadline) and data.booking_deadline <= utcnow():
        return {"booking_deadline": _("The booking deadline has already passed; choose a later one.")}
    return {}


def _session_errors(data: SessionData, *, booked: int, meetings: list[MeetingData]) -> dict[str, str]:
    errors = {}
    if data.capacity < 1:
        errors["capacity"] = _("The capacity must be at least 1.")
    elif data.capacity < booked:
        errors["capacity"] = _("%(n)s employees are already booked; the capacity cannot be lower.", n=booked)
    if data.company_seat_cap is not None and not 1 <= data.company_seat_cap <= data.capacity:
        errors["company_seat_cap"] = _("The seat cap per company must be between 1 and the capacity.")
    if data.min_participants < 0 or data.min_participants > data.capacity:
        errors["min_participants"] = _("The minimum must be between 0 and the capacity.")
    if meetings:
        first = min(m.starts_at for m in meetings)
        if data.booking_deadline > first:
            errors["booking_deadline"] = _("The booking deadline must be before the first meeting.")
        if data.cancellation_deadline > first:
            errors["cancellation_deadline"] = _("The cancellation deadline must be before the first meeting.")
        if data.seat_cap_released_at is not None and data.seat_cap_released_at > first:
            errors["seat_cap_released_at"] = _("Release the seat cap before the first meeting.")
    return errors


def _venue_errors(
    provider_id: int, meetings: list[MeetingData], session_id: int | None = None, *, first_index: int = 0,
    keep: set[int] = frozenset(),
) -> dict[str, str]:
    """In-person meetings in a room another of the provider's sessions uses at the same time (one query)."""
    placed = [(offset, m) for offset, m in enumerate(meetings)
              if offset not in keep and placement.venue_key(m.venue, m.municipality_id) is not None]
    if not placed:
        return {}
    spans = [(m.starts_at, m.ends_at) for _, m in placed]
    statement = (
        select(Meeting.venue, Meeting.municipality_id, Meeting.starts_at, Meeting.ends_at)
        .join(Session, Session.id == Meeting.session_id).join(Course, Course.id == Session.course_id)
        .where(Course.provider_id == provider_id, Session.status.in_(placement.RUNNING),
               Meeting.municipality_id.is_not(None), overlapping(Meeting.starts_at, Meeting.ends_at, len(spans)))
    )
    if session_id is not None:
        statement = statement.where(Session.id != session_id)
    taken = db.session.execute(statement, span_values(spans)).all()
    errors = {}
    for offset, meeting in placed:
        room = placement.venue_key(meeting.venue, meeting.municipality_id)
        if any(placement.venue_key(venue, place) == room and starts < meeting.ends_at and meeting.starts_at < ends
               for venue, place, starts, ends in taken):
            errors[f"meetings-{first_index + offset}-venue"] = _("Another of your sessions uses this venue then.")
    return errors


def _restriction_errors(capacity: int, meetings: list[MeetingData]) -> dict[str, str]:
    """More seats than a public-health restriction in force lets meet at one of the in-person meetings."""
    limit = placement.group_limit([(m.starts_at, m.municipality_id) for m in meetings])
    if limit is None or capacity <= limit.size:
        return {}
    if limit.size == 0:
        return {f"meetings-{limit.index}-starts_at": _(
            "A public-health restriction allows no in-person meetings here on %(day)s: choose a day after it, "
            "or hold the meeting online.", day=format_day(limit.day))}
    return {"capacity": _(
        "A public-health restriction allows at most %(n)s people to meet in person here on %(day)s: lower the "
        "capacity to %(n)s, or choose a day after it.", n=limit.size, day=format_day(limit.day))}


def _check_schedulable(session: Session, actor: User) -> None:
    """The session may change: re-read under its lock, so a change made meanwhile is seen."""
    lock_sessions([session.id])
    _check_owner(session.course, actor)
    if session.status not in SCHEDULABLE:
        raise DomainError(_("A cancelled or completed session cannot be changed."))


def _check_open_or_planned(session: Session, actor: User) -> None:
    _check_schedulable(session, actor)
    if session.status == SessionStatus.POSTPONED:
        raise DomainError(_("The session is postponed: give it new dates with “Change dates”."))


def _settings_of(session: Session) -> SessionData:
    return SessionData(
        capacity=session.capacity, booking_deadline=session.booking_deadline,
        cancellation_deadline=session.cancellation_deadline, min_participants=session.min_participants,
        company_seat_cap=session.company_seat_cap, seat_cap_released_at=session.seat_cap_released_at,
        note=session.note, meetings=meetings_as_data(session.meetings),
    )


def calendar_file(session: Session) -> notifications.Attachment:
    """The session's calendar file as it now is: same event ids, a higher sequence."""
    return notifications.Attachment(f"kurstillfalle-{session.id}.ics", "text/calendar", session_calendar(session).decode())


def _existing_municipalities(ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(db.session.scalars(select(Municipality.id).where(Municipality.id.in_(ids))))


def _apply_settings(session: Session, data: SessionData) -> None:
    session.capacity = data.capacity
    session.min_participants = data.min_participants
    session.company_seat_cap = data.company_seat_cap
    session.seat_cap_released_at = data.seat_cap_released_at if data.company_seat_cap else None
    session.booking_deadline = data.booking_deadline
    session.cancellation_deadline = data.cancellation_deadline
    session.note = data.note.strip()


def _new_meeting(data: MeetingData) -> Meeting:
    meeting = Meeting()
    _copy_meeting(meeting, data)
    return meeting


def _copy_meeting(meeting: Meeting, data: MeetingData) -> None:
    meeting.starts_at, meeting.ends_at = data.starts_at, data.ends_at
    meeting.venue = data.venue.strip()
    meeting.municipality_id = data.municipality_id
    meeting.online_url = data.online_url.strip() or None


def meetings_as_data(meetings: list[Meeting]) -> list[MeetingData]:
    return [
        MeetingData(m.starts_at, m.ends_at, m.venue, m.municipality_id, m.online_url or "") for m in meetings
    ]


def _schedule_changed(session: Session, actor: User | None, action: str) -> Session:
    session.ical_sequence += 1
    db.session.flush()
    db.session.refresh(session, ["meetings"])
    audit.record(actor, action, "session", session.id, provider_id=session.course.provider_id,
                 meetings=[[m.starts_at.isoformat(), m.ends_at.isoformat()] for m in session.meetings])
    clashing = clashing_booked_employees(session, meetings_as_data(session.meetings))
    with force_locale("sv"):
        title = _("New dates: %(course)s", course=session.course.title)
        lines = [f"- {moment(m.starts_at)}–{clock(m.ends_at)}" for m in session.meetings]
        body = _("The session's meetings have changed. Your booking is kept. The meetings are now:") + "\n" + "\n".join(lines)
        tell_everyone(session, "session.dates_changed", title, body, calendar_file(session), clashing)
    return session


def _live_bookings(session: Session) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.session_id == session.id, Booking.status.in_(LIVE))
            .options(selectinload(Booking.employee))
            .order_by(Booking.id)
        )
    )


def _with_reason(body: str, reason: str) -> str:
    return body + ("\n\n" + _("Reason: %(reason)s", reason=reason.strip()) if reason.strip() else "")


def tell_everyone(
    session: Session, kind: str, title: str, body: str, attachment: notifications.Attachment | None = None,
    clashing: set[int] = frozenset(),
) -> None:
    """Everyone booked or waitlisted by email, and their companies' HR in the portal and by email;
    HR also learns which of its employees the change leaves with a clash."""
    bookings = _live_bookings(session)
    notifications.email_employees([booking.employee for booking in bookings], title, body, attachment)
    names_by_company: dict[int, list[str]] = {}
    clashes_by_company: dict[int, list[str]] = {}
    for booking in bookings:
        names_by_company.setdefault(booking.company_id, []).append(booking.employee.name)
        if booking.employee_id in clashing and booking.status == BookingStatus.BOOKED:
            clashes_by_company.setdefault(booking.company_id, []).append(booking.employee.name)
    link = external_url("catalogue.course", course_id=session.course_id)
    for hr in notifications.hr_users_of(set(names_by_company)):
        text = body + "\n\n" + _("Your employees: %(names)s", names=", ".join(sorted(names_by_company[hr.company_id])))
        if hr.company_id in clashes_by_company:
            text += "\n\n" + _(
                "These of your employees now have another booking at the same time: %(names)s. "
                "You may cancel one of the bookings; a cancelled seat goes to the waitlist.",
                names=", ".join(sorted(clashes_by_company[hr.company_id])),
            )
        notifications.notify(hr, kind, title, text, link, attachment)
