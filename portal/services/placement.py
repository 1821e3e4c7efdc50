"""Where a session postponed by a restriction may go: the rules and what else is on, read from the
database for the slot finder (services/slots.py), and the same checks for dates a provider picks."""
from bisect import insort
from dataclasses import dataclass
from functools import cache
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, null, select, text, union_all, update
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.i18n import day as format_day, local_zone
from portal.models import (
    Booking, BookingStatus, Course, Meeting, Municipality, ProposalStatus, ProposedMeeting, RescheduleProposal,
    Restriction, RestrictionScope, Session, SessionStatus, User,
)
from portal.models.types import utcnow
from portal.services.overview import current_programme
from portal.services.slots import Constraints, Rule, SlotRequest, Span, breaches, release_day, sittings_of

ACTIVE = (ProposalStatus.PROPOSED, ProposalStatus.UNPLACEABLE)
# Sessions whose meetings take place (postponed ones' old dates do not).
RUNNING = (SessionStatus.PLANNED, SessionStatus.OPEN, SessionStatus.COMPLETED)
DEFAULT_NOTICE_DAYS = 14
# Without a programme period, the search still ends somewhere.
LONGEST_SEARCH = timedelta(days=2 * 365)


@dataclass(frozen=True)
class Settings:
    """The programme's settings the placement reads, read once for a whole run of the job."""

    notice_days: int = DEFAULT_NOTICE_DAYS
    period_end: date | None = None
    auto_confirm: bool = False

    @classmethod
    def load(cls) -> "Settings":
        programme = current_programme()
        if programme is None:
            return cls()
        return cls(programme.notice_days, programme.period_end, programme.auto_confirm_reschedule)


def venue_key(venue: str, municipality_id: int | None) -> str | None:
    """The same room, however its name was typed; None for a meeting online."""
    if municipality_id is None:
        return None
    return f"{municipality_id}:{' '.join(venue.split()).casefold()}"


def today() -> date:
    """Today in the programme's time zone."""
    return utcnow().astimezone(local_zone()).date()


# Restrictions

def rule_of(restriction: Restriction, region_municipalities: dict[int, set[int]]) -> Rule:
    return Rule(
        municipalities=scope_municipalities(
            restriction.scope, [r.id for r in restriction.regions], [m.id for m in restriction.municipalities],
            region_municipalities,
        ),
        in_force_from=restriction.in_force_from, lifted_on=restriction.lifted_on, limits=tuple(restriction.limits()),
    )


def scope_municipalities(
    scope: RestrictionScope, region_ids: list[int], municipality_ids: list[int], region_municipalities: dict[int, set[int]],
) -> frozenset[int] | None:
    if scope == RestrictionScope.COUNTRY:
        return None
    if scope == RestrictionScope.REGIONS:
        return frozenset(m for region_id in region_ids for m in region_municipalities.get(region_id, ()))
    return frozenset(municipality_ids)


def municipalities_by_region() -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    for municipality_id, region_id in db.session.execute(select(Municipality.id, Municipality.region_id)):
        found.setdefault(region_id, set()).add(municipality_id)
    return found


def current_rules(today: date) -> tuple[Rule, ...]:
    """Every restriction that can still stop a meeting from today on, as rules: one statement (every
    booking and cancellation asks), two when one covers whole regions."""
    restrictions = db.session.scalars(
        select(Restriction)
        .where((Restriction.lifted_on.is_(None)) | (Restriction.lifted_on > today))
        .options(joinedload(Restriction.regions), joinedload(Restriction.municipalities),
                 joinedload(Restriction.changes))
        .order_by(Restriction.id)
    ).unique().all()
    regions = municipalities_by_region() if any(r.scope == RestrictionScope.REGIONS for r in restrictions) else {}
    return tuple(rule_of(restriction, regions) for restriction in restrictions)


@dataclass(frozen=True)
class GroupLimit:
    """The most people the restrictions in force let meet at once at some coming in-person meeting."""

    size: int  # 0: no in-person meeting at all
    day: date  # the day of the first meeting it holds to that
    index: int  # that meeting's place among those asked about


def group_limit(meetings: list[tuple[datetime, int | None]]) -> GroupLimit | None:
    """For meetings still to come (each its start and municipality; online ones have none): the smallest
    group a restriction in force then allows at one of them, or None where none limits them."""
    now = utcnow()
    coming = [(index, starts, place) for index, (starts, place) in enumerate(meetings)
              if place is not None and starts >= now]
    if not coming:
        return None
    rules, zone = current_rules(today()), local_zone()
    limits = [
        GroupLimit(limit, day, index)
        for index, starts, place in coming for day in [starts.astimezone(zone).date()]
        for limit in (rule.limit_on(place, day) for rule in rules) if limit is not None
    ]
    return min(limits, key=lambda found: (found.size, found.day)) if limits else None


# What moves

@dataclass(frozen=True)
class Move:
    """The meetings of a postponed session that get new dates, and the end of those that keep theirs."""

    meetings: list[Meeting]
    not_before: datetime | None


def meetings_to_move(session: Session) -> Move:
    """Meetings that began before the session was postponed have happened and keep their dates."""
    cut = session.postponed_at
    kept = [m for m in session.meetings if cut is not None and m.starts_at < cut]
    moving = [m for m in session.meetings if m not in kept]
    return Move(moving, max((m.ends_at for m in kept), default=None))


def in_person_places(meetings) -> set[int]:
    return {m.municipality_id for m in meetings if m.municipality_id is not None}


def earliest_day(
    session: Session, rules: tuple[Rule, ...], today: date, places: set[int] | None = None, *, keep_planned: bool = True,
    settings: Settings | None = None,
) -> date | None:
    """The first day new dates may start: the day the restrictions let the session's booked group
    meet again in its places, or today if later, plus the programme's notice period, and never before
    the session's own first meeting (unless `keep_planned` is off: a provider may choose earlier).
    None while a restriction without an end still stops it."""
    moving = meetings_to_move(session).meetings
    if places is None:
        places = in_person_places(moving)
    released = release_day(rules, places, session.seats_taken)
    if released is None:
        return None
    earliest = max(released, today) + timedelta(days=(settings or Settings.load()).notice_days)
    # Never earlier than it was planned: a session whose dates come after the lift keeps them if it can.
    planned = min((m.starts_at for m in moving), default=None) if keep_planned else None
    return max(earliest, planned.astimezone(local_zone()).date()) if planned else earliest


def last_day(earliest: date, settings: Settings) -> date:
    return settings.period_end or earliest + LONGEST_SEARCH


def slot_request(session: Session, earliest: date, settings: Settings) -> SlotRequest:
    move = meetings_to_move(session)
    zone = local_zone()
    sittings = sittings_of(
        [((m.starts_at, m.ends_at), venue_key(m.venue, m.municipality_id), m.municipality_id) for m in move.meetings], zone,
    )
    return SlotRequest(sittings=sittings, earliest=earliest, latest=last_day(earliest, settings),
                       booked=session.seats_taken, not_before=move.not_before)


# What else is on

VENUES_LOCK = 7201  # the first key of the advisory locks that give one placer at a time a provider's venues


def hold_venues(provider_ids: set[int]) -> None:
    """Until the transaction ends, no other transaction places sessions of these providers: what else is on
    is read after this, so two placers (the nightly run and a lift, or two lifts) each see the other's
    dates instead of giving one venue to two sessions. PostgreSQL only: SQLite's write lock is the
    whole database's. The locks are taken in provider order, so two placers never deadlock."""
    if not provider_ids or db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(
        text("SELECT pg_advisory_xact_lock(:key, provider_id) FROM unnest(CAST(:providers AS integer[])) AS provider_id"),
        {"key": VENUES_LOCK, "providers": sorted(provider_ids)},
    )


class Busy:
    """What else is on for sessions placed together (the job places a batch in one transaction):
    each provider's in-person venues in use, and each booked employee's other meetings, read in two
    queries for the whole batch. Dates found for one session of the batch are added with `take`,
    so the next session of the batch sees them as the database would once they were written."""

    def __init__(self, sessions: list[Session], since: datetime):
        self._venues: dict[int, dict[str, list[tuple[datetime, datetime, int]]]] = {}
        self._employees: dict[int, dict[int, list[Span]]] = {session.id: {} for session in sessions}
        self._sessions_of: dict[int, set[int]] = {}  # employee -> the batch's sessions they are booked on
        if not sessions:
            return
        found = db.session.execute(_venues_statement(), {
            "provider_ids": sorted({s.course.provider_id for s in sessions}), "since": since})
        for provider_id, session_id, venue, municipality_id, starts, ends in found:
            venues = self._venues.setdefault(provider_id, {})
            venues.setdefault(venue_key(venue, municipality_id), []).append((starts, ends, session_id))
        for venues in self._venues.values():
            for spans in venues.values():
                spans.sort()
        found = db.session.execute(_employees_statement(), {"session_ids": list(self._employees), "since": since})
        for session_id, employee_id, starts, ends in found:
            spans = self._employees[session_id].setdefault(employee_id, [])
            self._sessions_of.setdefault(employee_id, set()).add(session_id)
            if starts is not None:
                spans.append((starts, ends))

    def constraints(self, session: Session, rules: tuple[Rule, ...]) -> Constraints:
        """The session's constraints as they stand: its own meetings and proposed dates take nothing from it."""
        venues = {
            key: [(starts, ends) for starts, ends, session_id in spans if session_id != session.id]
            for key, spans in self._venues.get(session.course.provider_id, {}).items()
        }
        return Constraints(zone=local_zone(), venue_busy=venues, rules=rules, employee_busy=self._employees[session.id])

    def take(self, session: Session, meetings: list[tuple[Span, str | None]]) -> None:
        """New dates for the session (each meeting's span and venue key): its in-person venues are
        taken, and its booked employees are busy then in every other session of the batch."""
        venues = self._venues.setdefault(session.course.provider_id, {})
        for (starts, ends), key in meetings:
            if key is not None:
                insort(venues.setdefault(key, []), (starts, ends, session.id))
        spans = [span for span, _key in meetings]
        for employee_id in self._employees[session.id]:
            for other in self._sessions_of[employee_id] - {session.id}:
                self._employees[other][employee_id].extend(spans)


def constraints_for(session: Session, rules: tuple[Rule, ...], since: datetime) -> Constraints:
    """The provider's venues in use and the booked employees' other meetings from `since` on."""
    return Busy([session], since).constraints(session, rules)


# The job asks these two for every batch it places: built once, with the values bound per call
# (building them anew each time cost as much as running them).

@cache
def _venues_statement() -> Select:
    """The providers' in-person venues in use from `since` on: held or planned meetings, and dates
    proposed for their postponed sessions; each row names its provider and session."""
    provider_ids, since = bindparam("provider_ids", expanding=True), bindparam("since")
    held = (
        select(Course.provider_id, Session.id, Meeting.venue, Meeting.municipality_id, Meeting.starts_at, Meeting.ends_at)
        .join(Session, Session.id == Meeting.session_id).join(Course, Course.id == Session.course_id)
        .where(Course.provider_id.in_(provider_ids), Session.status.in_(RUNNING),
               Meeting.municipality_id.is_not(None), Meeting.ends_at > since)
    )
    proposed = (
        select(Course.provider_id, Session.id, Meeting.venue, Meeting.municipality_id,
               ProposedMeeting.starts_at, ProposedMeeting.ends_at)
        .join(ProposedMeeting, ProposedMeeting.meeting_id == Meeting.id)
        .join(RescheduleProposal, RescheduleProposal.id == ProposedMeeting.proposal_id)
        .join(Session, Session.id == RescheduleProposal.session_id).join(Course, Course.id == Session.course_id)
        .where(Course.provider_id.in_(provider_ids), RescheduleProposal.status == ProposalStatus.PROPOSED,
               Meeting.municipality_id.is_not(None), ProposedMeeting.ends_at > since)
    )
    return union_all(held, proposed)


@cache
def _employees_statement() -> Select:
    """Each session's booked people and their other bookings (each read once, as common tables),
    those bookings' meetings and proposed dates; a row without a span for each booked person, so
    one with nothing else on is still there (those rows take their types from the first part)."""
    session_ids, since = bindparam("session_ids", expanding=True), bindparam("since")
    here = select(Booking.session_id, Booking.employee_id).where(
        Booking.session_id.in_(session_ids), Booking.status == BookingStatus.BOOKED).cte("booked_here")
    elsewhere = (
        select(here.c.session_id, here.c.employee_id, Booking.session_id.label("other_id"))
        .select_from(here).join(Booking, Booking.employee_id == here.c.employee_id)
        .where(Booking.status == BookingStatus.BOOKED, Booking.session_id != here.c.session_id)
        .cte("booked_elsewhere")
    )
    others = (
        select(elsewhere.c.session_id, elsewhere.c.employee_id, Meeting.starts_at, Meeting.ends_at)
        .join(Session, Session.id == elsewhere.c.other_id).join(Meeting, Meeting.session_id == Session.id)
        .where(Session.status.in_(RUNNING), Meeting.ends_at > since)
    )
    proposed = (
        select(elsewhere.c.session_id, elsewhere.c.employee_id, ProposedMeeting.starts_at, ProposedMeeting.ends_at)
        .join(RescheduleProposal, RescheduleProposal.session_id == elsewhere.c.other_id)
        .join(ProposedMeeting, ProposedMeeting.proposal_id == RescheduleProposal.id)
        .where(RescheduleProposal.status == ProposalStatus.PROPOSED, ProposedMeeting.ends_at > since)
    )
    return union_all(others, proposed, select(here.c.session_id, here.c.employee_id, null(), null()))


# Dates a provider picks

def chosen_date_errors(session: Session, spans: list[Span], places: list[tuple[str, int | None]]) -> dict[str, str]:
    """The same rules as the proposals, for the dates a provider types for a session a restriction
    postponed: each meeting that moves must pass them. `places` are each meeting's venue and municipality."""
    rules, settings = current_rules(today()), Settings.load()
    earliest = earliest_day(session, rules, today(), {m for _venue, m in places if m is not None}, keep_planned=False,
                            settings=settings)
    waiting = active_proposal(session.id)
    if earliest is not None and waiting is not None:
        earliest = min(earliest, waiting.earliest_day)  # the notice counts from when dates were proposed
    if earliest is None:
        return {"meetings": _("A public-health restriction that is still in force postponed this session. "
                              "New dates are proposed when it is lifted.")}
    existing = session.meetings
    moving = [index for index, span in enumerate(spans)
              if index >= len(existing) or (existing[index].starts_at, existing[index].ends_at) != span]
    if not moving:
        return {}
    zone = local_zone()
    sittings = sittings_of([(spans[i], venue_key(*places[i]), places[i][1]) for i in moving], zone)
    request = SlotRequest(sittings=sittings, earliest=earliest, latest=last_day(earliest, settings),
                          booked=session.seats_taken, not_before=meetings_to_move(session).not_before)
    constraints = constraints_for(session, rules, min(spans[i][0] for i in moving))
    messages = {
        "working_day": _("Choose a working day: not a weekend or a public holiday."),
        "too_early": _("The earliest start is %(day)s: the restriction's end plus %(n)s days' notice.",
                       day=format_day(earliest), n=settings.notice_days),
        "past_period": _("The programme period ends %(day)s.", day=format_day(request.latest)),
        "before_held": _("The meetings that have been held come first."),
        "venue_taken": _("Another of your sessions uses this venue then."),
        "restricted": _("A restriction in force then does not allow this many people to meet in person."),
    }
    ordered = sorted(moving, key=lambda i: spans[i])
    errors = {}
    for index, rule in breaches(request, constraints, tuple(spans[i] for i in ordered)):
        errors.setdefault(f"meetings-{ordered[index]}-starts_at", messages[rule])
    return errors


# Proposals

def active_proposal(session_id: int) -> RescheduleProposal | None:
    return db.session.scalars(
        select(RescheduleProposal)
        .where(RescheduleProposal.session_id == session_id, RescheduleProposal.status.in_(ACTIVE))
        .options(selectinload(RescheduleProposal.meetings))
    ).first()


def with_active_proposal(session_ids: list[int]) -> set[int]:
    """Those of the sessions that have a proposal waiting."""
    return set(db.session.scalars(
        select(RescheduleProposal.session_id)
        .where(RescheduleProposal.session_id.in_(session_ids), RescheduleProposal.status.in_(ACTIVE))
    ))


def close_proposals(session_id: int, actor: User | None, status: ProposalStatus = ProposalStatus.REPLACED) -> None:
    """The session's waiting proposal is settled: confirmed, or replaced by the provider's own dates or a cancellation."""
    _close(RescheduleProposal.session_id == session_id, actor, status)


def close_proposals_of_restriction(restriction_id: int, actor: User | None) -> None:
    """Every waiting proposal made when the restriction was lifted is replaced (it is lifted on another day now)."""
    _close(RescheduleProposal.restriction_id == restriction_id, actor, ProposalStatus.REPLACED)


def _close(which, actor: User | None, status: ProposalStatus) -> None:
    db.session.execute(
        update(RescheduleProposal)
        .where(which, RescheduleProposal.status.in_(ACTIVE))
        .values(status=status, decided_at=utcnow(), decided_by_id=actor.id if actor else None)
        .execution_options(synchronize_session=False)
    )
