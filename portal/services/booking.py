"""Booking seats: one or many employees in one action, the waitlist, cancelling and promotion.

Every decision on seats is taken under the session's write lock (services/locking.py), and the
seat counter is moved by a conditional update that the database's CHECK backs up: a session is
never overbooked, whatever runs at the same time.
"""
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime

from flask_babel import force_locale, gettext as _
from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from portal.extensions import db
from portal.i18n import day as format_day, moment
from portal.models import (
    Booking, BookingStatus, Course, Employee, Meeting, PlanItem, Role, Session, SessionStatus, User,
)
from portal.models.types import MAX_ID, utcnow
from portal.services import DomainError, audit, notifications, placement
from portal.services.binds import one_of
from portal.services.clashes import overlapping, span_values
from portal.services.locking import WITH_MEETINGS, lock_employees, lock_sessions
from portal.urls import external_url

BOOKED, WAITLISTED, REFUSED = "booked", "waitlisted", "refused"
MAX_AT_ONCE = 500  # employees in one booking request
# A session as its booking page shows it: read so under the lock, the page needs nothing more.
# Joined into the one statement that reads (or, booking, locks) the session: a booking page is one round trip.
AS_SHOWN = (joinedload(Session.course).joinedload(Course.provider),
            joinedload(Session.meetings).joinedload(Meeting.municipality))


@dataclass(frozen=True)
class Outcome:
    """What became of one employee in a booking request."""

    employee_id: int
    name: str
    result: str  # booked, waitlisted or refused
    reason: str = ""
    place: int | None = None  # on the waitlist


@dataclass(frozen=True)
class Clash:
    course_title: str
    starts_at: datetime


@dataclass(frozen=True)
class Booked:
    """A booking request's outcomes; the session as it was read under its lock (AS_SHOWN); and, of the
    people the caller shows beside them, the places they hold on the session after the request and their
    clashes, read under the same lock."""

    session: Session
    outcomes: list[Outcome]
    held: dict[int, BookingStatus]
    clashes: dict[int, Clash]


def book_employees(
    session_id: int, employee_ids: list[int], actor: User, plan_item: PlanItem | None = None,
    shown: Sequence[int] = (),
) -> Booked:
    """Book the actor's employees into the session: each is booked, waitlisted or refused with a reason.
    `shown`: the actor's employees the caller lists beside the outcomes (a booking page's roster): their
    clashes are looked up in the same statement as those of the people booked."""
    if actor.role != Role.HR:
        raise DomainError(_("Only a company's HR books its employees."))
    if plan_item is not None and plan_item.plan.company_id != actor.company_id:
        raise DomainError(_("That plan item belongs to another company."))
    session = _locked(session_id, AS_SHOWN)
    places, limit = _places(session.id), group_limit_of(session)
    # A seat freed while no one could take it goes to the line first.
    if places.waiting and promote_waitlist(session, actor, allowed=seats_allowed(session, limit)):
        places = _places(session.id)
    now = utcnow()
    wanted = [i for i in dict.fromkeys(employee_ids) if 0 < i <= MAX_ID][:MAX_AT_ONCE]  # the order given, each once
    employees = {e.id: e for e in lock_employees(wanted)}
    closed = _closed_reason(session, now)
    clashes = clash_details(list(dict.fromkeys([*wanted, *shown])), session)
    in_line, ours = places.waiting, places.booked.get(actor.company_id, 0)
    free = seats_allowed(session, limit) - session.seats_taken
    # A restriction that leaves fewer seats than the capacity refuses the rest: a place in line would
    # wait for a seat the restriction, not a cancellation, keeps.
    restricted = _restricted_reason(limit) if limit is not None and limit.size < session.capacity else ""
    outcomes, created = [], []
    for employee_id in wanted:
        employee = employees.get(employee_id)
        if employee is None or employee.company_id != actor.company_id:
            outcomes.append(Outcome(employee_id, "", REFUSED, _("Not one of your company's employees.")))
            continue
        reason = closed or _employee_refusal(employee, places.held.get(employee_id), clashes.get(employee_id))
        if reason:
            outcomes.append(Outcome(employee.id, employee.name, REFUSED, reason))
            continue
        if free > 0 and not _over_cap(session, ours, now):
            status, free, ours = BookingStatus.BOOKED, free - 1, ours + 1
            outcomes.append(Outcome(employee.id, employee.name, BOOKED))
        elif free <= 0 and restricted:
            outcomes.append(Outcome(employee.id, employee.name, REFUSED, restricted))
            continue
        else:
            status, in_line = BookingStatus.WAITLISTED, in_line + 1
            outcomes.append(Outcome(employee.id, employee.name, WAITLISTED, place=in_line))
        created.append({"session_id": session.id, "employee_id": employee.id, "company_id": employee.company_id,
                        "plan_item_id": plan_item.id if plan_item else None, "status": status,
                        "requested_at": now, "booked_by_id": actor.id})
    if created:
        # One statement for any number of employees, giving back their ids.
        new = db.session.execute(
            insert(Booking).returning(Booking.id, Booking.employee_id, Booking.company_id, Booking.status), created
        ).all()
        _take_seats(session, sum(1 for row in created if row["status"] == BookingStatus.BOOKED))
        audit.record_many(actor, "booking.created", "booking", [
            _event(booking_id, employee_id, company_id, session, None, status)
            for booking_id, employee_id, company_id, status in new
        ])
    listed = set(shown)
    held = {i: status for i, status in places.held.items() if i in listed}
    held |= {row["employee_id"]: row["status"] for row in created if row["employee_id"] in listed}
    return Booked(session, outcomes, held, {i: clash for i, clash in clashes.items() if i in listed})


def cancel_booking(booking: Booking, actor: User) -> list[Booking]:
    """Cancel a booking or waitlist place. A freed seat goes at once to the first in line the rules
    allow; returns the bookings promoted."""
    session = _locked(booking.session_id, WITH_MEETINGS)
    db.session.refresh(booking)
    now = utcnow()
    if booking.status == BookingStatus.CANCELLED:
        raise DomainError(_("The booking is already cancelled."))
    if booking.status == BookingStatus.BOOKED and actor.role != Role.PM and now > session.cancellation_deadline:
        raise DomainError(_("The cancellation deadline has passed (%(when)s). Only the programme office can cancel now.",
                            when=moment(session.cancellation_deadline)))
    previous = booking.status
    booking.status, booking.cancelled_at, booking.cancelled_by_id = BookingStatus.CANCELLED, now, actor.id
    db.session.flush()
    _audit(actor, "booking.cancelled", booking, session, previous, BookingStatus.CANCELLED)
    if previous != BookingStatus.BOOKED:
        return []
    return promote_waitlist(session, actor, freed=1)


def promote_waitlist(
    session: Session, actor: User | None = None, *, freed: int = 0, allowed: int | None = None,
) -> list[Booking]:
    """Give free seats to the waitlist in request order, skipping those the rules do not allow now
    (company seat cap, a clash, a deactivated employee); they keep their places. `freed` is seats
    the caller has just given up and not yet counted: the counter moves once. `allowed`: the seats
    that may be taken (seats_allowed), if the caller knows them. Needs the lock."""
    if allowed is None:
        allowed = seats_allowed(session, group_limit_of(session))
    promoted = _moving_up(session, allowed - session.seats_taken + freed)
    _take_seats(session, len(promoted) - freed)
    if promoted:
        db.session.flush()
        audit.record_many(actor, "booking.promoted", "booking", [
            _event(b.id, b.employee_id, b.company_id, session, BookingStatus.WAITLISTED, BookingStatus.BOOKED)
            for b in promoted
        ])
        _tell_promoted(session, promoted)
    return promoted


def group_limit_of(session: Session) -> placement.GroupLimit | None:
    """The smallest group a public-health restriction in force lets meet at one of the session's coming
    in-person meetings, if any does."""
    return placement.group_limit([(m.starts_at, m.municipality_id) for m in session.meetings])


def seats_allowed(session: Session, limit: placement.GroupLimit | None) -> int:
    """The seats that may be taken: the capacity, or fewer while a restriction limits the meetings."""
    return session.capacity if limit is None else min(session.capacity, limit.size)


def _restricted_reason(limit: placement.GroupLimit) -> str:
    if limit.size == 0:
        return _("A public-health restriction allows no in-person meetings on %(day)s.", day=format_day(limit.day))
    return _("A public-health restriction allows at most %(n)s people to meet in person on %(day)s, and as many "
             "are booked.", n=limit.size, day=format_day(limit.day))


def _moving_up(session: Session, free: int) -> list[Booking]:
    """The waitlisted bookings the free seats go to, now marked booked."""
    now = utcnow()
    if free <= 0 or session.status != SessionStatus.OPEN or now > session.booking_deadline:
        return []
    line = list(db.session.scalars(
        select(Booking)
        .where(Booking.session_id == session.id, Booking.status == BookingStatus.WAITLISTED)
        .options(joinedload(Booking.employee))
        .order_by(Booking.requested_at, Booking.id)
    ))
    if not line:
        return []
    lock_employees([b.employee_id for b in line])  # and read again, as they stand
    booked = _places(session.id).booked if company_seat_cap_active(session, now) else {}
    clashing = clash_details([b.employee_id for b in line], session)
    promoted = []
    for booking in line:
        if len(promoted) == free:
            break
        if booking.employee_id in clashing or not booking.employee.is_active:
            continue
        if _over_cap(session, booked.get(booking.company_id, 0), now):
            continue
        booking.status = BookingStatus.BOOKED
        booked[booking.company_id] = booked.get(booking.company_id, 0) + 1
        promoted.append(booking)
    return promoted


def sessions_with_released_caps() -> list[int]:
    """Open sessions whose per-company cap is released while seats are free and people wait."""
    now = utcnow()
    return db.session.scalars(
        select(Session.id)
        .where(
            Session.status == SessionStatus.OPEN, Session.company_seat_cap.is_not(None),
            Session.seat_cap_released_at <= now, Session.booking_deadline >= now,
            Session.seats_taken < Session.capacity,
            select(Booking.id).where(Booking.session_id == Session.id, Booking.status == BookingStatus.WAITLISTED).exists(),
        )
        .order_by(Session.id)
    ).all()


def release_seat_cap(session_id: int) -> int:
    """Give a session's free seats to its waitlist now that its cap is released; how many moved up."""
    return len(promote_waitlist(_locked(session_id, WITH_MEETINGS)))


def clash_details(employee_ids: list[int], session: Session) -> dict[int, Clash]:
    """For each employee booked elsewhere at the time of one of the session's meetings: where."""
    if not employee_ids or not session.meetings:
        return {}
    spans = [(m.starts_at, m.ends_at) for m in session.meetings]
    rows = db.session.execute(_clash_statement(len(spans), db.session.get_bind().dialect.name),
                              {"employee_ids": employee_ids, "session_id": session.id, **span_values(spans)})
    found: dict[int, Clash] = {}
    for employee_id, title, starts_at in rows:
        found.setdefault(employee_id, Clash(title, starts_at))
    return found


@lru_cache(maxsize=64)
def _clash_statement(spans: int, dialect: str) -> Select:
    """Built once per number of meetings: a booking runs it, and its page again for the people listed.

    The people's own bookings are read first (a handful each, through their index), then those
    sessions' meetings at the times asked: left to itself, PostgreSQL started from every meeting in
    the programme at those times and looked through each one's bookings (3.1 ms against 0.7 ms
    for 100 people at scale 1, and planning it took 1.8 ms against 0.6)."""
    theirs = (
        select(Booking.employee_id, Booking.session_id)
        .where(one_of(Booking.employee_id, "employee_ids", dialect), Booking.status == BookingStatus.BOOKED,
               Booking.session_id != bindparam("session_id"))
        .cte("booked_elsewhere").prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return (
        select(theirs.c.employee_id, Course.title, Meeting.starts_at)
        .join(Session, Session.id == theirs.c.session_id)
        .join(Course, Course.id == Session.course_id)
        .join(Meeting, Meeting.session_id == Session.id)
        .where(Session.status != SessionStatus.CANCELLED, overlapping(Meeting.starts_at, Meeting.ends_at, spans))
        .order_by(theirs.c.employee_id, Meeting.starts_at)
    )


def waitlist_places(session_id: int) -> dict[int, int]:
    """Booking id to place in line (1 is next), in request order."""
    ids = db.session.scalars(
        select(Booking.id)
        .where(Booking.session_id == session_id, Booking.status == BookingStatus.WAITLISTED)
        .order_by(Booking.requested_at, Booking.id)
    ).all()
    return {booking_id: place for place, booking_id in enumerate(ids, start=1)}


def company_seat_cap_active(session: Session, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return session.company_seat_cap is not None and (
        session.seat_cap_released_at is None or now < session.seat_cap_released_at
    )


# Rules and helpers

class NoSuchSession(DomainError):
    """The session asked for does not exist (or no longer does)."""


def _locked(session_id: int, options) -> Session:
    found = lock_sessions([session_id], *options)
    if not found:
        raise NoSuchSession(_("The session no longer exists."))
    return found[0]


def _closed_reason(session: Session, now: datetime) -> str:
    if session.status == SessionStatus.CANCELLED:
        return _("The session is cancelled.")
    if session.status == SessionStatus.COMPLETED:
        return _("The session has already taken place.")
    if session.status == SessionStatus.PLANNED:
        return _("The session is not open for booking yet.")
    if session.status == SessionStatus.POSTPONED:
        return _("The session is postponed; booking opens again when it has new dates.")
    if now > session.booking_deadline:
        return _("The booking deadline has passed (%(when)s).", when=moment(session.booking_deadline))
    return ""


def _employee_refusal(employee: Employee, held: BookingStatus | None, clash: Clash | None) -> str:
    if not employee.is_active or employee.erased_at is not None:
        return _("The employee is deactivated.")
    if held == BookingStatus.BOOKED:
        return _("Already booked on this session.")
    if held is not None:
        return _("Already on the waitlist of this session.")
    if clash is not None:
        return _("Booked on %(course)s at the same time (%(when)s).", course=clash.course_title, when=moment(clash.starts_at))
    return ""


def _over_cap(session: Session, company_booked: int, now: datetime) -> bool:
    return company_seat_cap_active(session, now) and company_booked >= session.company_seat_cap


@dataclass(frozen=True)
class Places:
    """Who holds a place on a session: the seats booked per company, how many wait in line, and each
    holder's status (booked or waitlisted)."""

    booked: dict[int, int]
    waiting: int
    held: dict[int, BookingStatus]


def _places(session_id: int) -> Places:
    """One read of the session's live bookings: no more rows than its seats and its line."""
    booked, waiting, held = {}, 0, {}
    for employee_id, company_id, status in db.session.execute(
        select(Booking.employee_id, Booking.company_id, Booking.status)
        .where(Booking.session_id == session_id, Booking.status != BookingStatus.CANCELLED)
    ):
        held[employee_id] = status
        if status == BookingStatus.BOOKED:
            booked[company_id] = booked.get(company_id, 0) + 1
        else:
            waiting += 1
    return Places(booked, waiting, held)


def _take_seats(session: Session, seats: int) -> None:
    """Move the seat counter; the condition (and the CHECK behind it) refuses any overbooking."""
    if seats == 0:
        return
    moved = db.session.execute(
        update(Session)
        .where(Session.id == session.id, Session.seats_taken + seats <= Session.capacity, Session.seats_taken + seats >= 0)
        .values(seats_taken=Session.seats_taken + seats)
        .returning(Session.seats_taken, Session.updated_at)
        .execution_options(synchronize_session=False)
    ).first()
    if moved is None:
        raise DomainError(_("The session has no seat left."))
    for name, value in zip(("seats_taken", "updated_at"), moved):
        set_committed_value(session, name, value)


def _audit(actor: User | None, action: str, booking: Booking, session: Session, before, after) -> None:
    audit.record_many(actor, action, "booking", [
        _event(booking.id, booking.employee_id, booking.company_id, session, before, after)
    ])


def _event(booking_id: int, employee_id: int, company_id: int, session: Session, before, after) -> dict:
    return {
        "object_id": booking_id, "company_id": company_id, "provider_id": session.course.provider_id,
        "data": {"session_id": session.id, "employee_id": employee_id,
                 "from": str(before) if before else None, "to": str(after)},
    }


def _tell_promoted(session: Session, promoted: list[Booking]) -> None:
    """The promoted employees by email, and their HR in the portal and by email."""
    link = external_url("catalogue.course", course_id=session.course_id)
    with force_locale("sv"):
        title = _("A seat is free: %(course)s", course=session.course.title)
        first = moment(session.meetings[0].starts_at) if session.meetings else ""
        body = _("A seat became free and the first in line has been booked on %(course)s, starting %(when)s.",
                 course=session.course.title, when=first)
        names: dict[int, list[str]] = {}
        for booking in promoted:
            names.setdefault(booking.company_id, []).append(booking.employee.name)
        # HR asked for before anything is written, so the emails all go in one statement.
        hr_users = notifications.hr_users_of(set(names))
        notifications.email_employees([b.employee for b in promoted], title, body)
        for hr in hr_users:
            text = body + "\n\n" + _("Booked from the waitlist: %(names)s", names=", ".join(sorted(names[hr.company_id])))
            notifications.notify(hr, "booking.promoted", title, text, link)
