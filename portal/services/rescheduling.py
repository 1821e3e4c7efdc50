"""New dates for sessions a restriction postponed: proposals made when it lifts or eases, which the
provider confirms (or the programme confirms at once), and what confirming does."""
from dataclasses import asdict, dataclass
from datetime import date, datetime, time

from flask_babel import force_locale, gettext as _
from sqlalchemy import exists, func, select, text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from portal.extensions import db
from portal.i18n import clock, day as format_day, from_local, moment
from portal.models import (
    Course, Programme, ProposalStatus, ProposedMeeting, RescheduleProposal, Session, SessionStatus, User,
)
from portal.models.types import utcnow
from portal.services import DomainError, InvalidInput, audit, notifications, placement
from portal.services.catalogue import MeetingData, apply_new_dates, meetings_as_data
from portal.services.locking import WITH_MEETINGS, lock_sessions
from portal.services.slots import Rule, Slot, find_slot
from portal.urls import external_url


@dataclass
class RescheduleReport:
    proposed: int = 0
    confirmed: int = 0
    unplaceable: int = 0
    waiting: int = 0  # a restriction with no end still stops them
    busy: int = 0  # locked by a booking or another scheduler: the next run tries again

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def sessions_to_reschedule(restriction_id: int | None = None) -> list[int]:
    """Sessions a restriction postponed with no proposal waiting, the soonest first."""
    waiting = exists().where(RescheduleProposal.session_id == Session.id, RescheduleProposal.status.in_(placement.ACTIVE))
    statement = (
        select(Session.id)
        .where(Session.status == SessionStatus.POSTPONED, Session.postponed_by_id.is_not(None), ~waiting)
        .order_by(Session.starts_at, Session.id)
    )
    if restriction_id is not None:
        statement = statement.where(Session.postponed_by_id == restriction_id)
    return list(db.session.scalars(statement))


def reschedule(restriction_id: int | None = None, today: date | None = None) -> RescheduleReport:
    """Propose new dates for every postponed session that may now run, BATCH sessions per transaction.
    Safe to run twice or from two processes at once: each session is locked (one another process
    holds is left for the next run), a batch holds its providers' venues while it places them
    (placement.hold_venues), and a session never has two proposals waiting (a unique index is the
    last word)."""
    today = today or placement.today()
    report = RescheduleReport()
    rules, settings = placement.current_rules(today), placement.Settings.load()
    audience = Audience()
    waiting = sessions_to_reschedule(restriction_id)
    for done in range(0, len(waiting), BATCH):
        batch = waiting[done:done + BATCH]
        if done % STATISTICS_EVERY == 0:
            _refresh_statistics()
        outcomes = _placed(batch, rules, today, settings, audience)
        if outcomes is None:  # one session's failure parks none of the others: each goes again alone
            outcomes = [(_placed([session_id], rules, today, settings, audience) or ["busy"])[0] for session_id in batch]
        for outcome in outcomes:
            if outcome in ("proposed", "confirmed", "unplaceable", "waiting", "busy"):
                setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _placed(
    session_ids: list[int], rules: tuple[Rule, ...], today: date, settings: placement.Settings, audience: "Audience",
) -> list[str] | None:
    """Propose dates for these sessions in one transaction and commit it; None if it failed (rolled back)."""
    try:
        _commit_without_waiting_for_disk()
        outcomes = propose(session_ids, rules, today, settings, audience)
        db.session.commit()
        return outcomes
    except (OperationalError, IntegrityError, DataError):  # busy, raced, or a value the database refused
        db.session.rollback()
        return None


# Sessions placed in one transaction: what else is on is read once for them all (two queries),
# and their proposals, audit events and notifications are written together. A session another
# transaction holds is skipped, not waited for, so a batch never waits on a booking.
BATCH = 50
STATISTICS_EVERY = 2 * BATCH  # sessions proposed between two looks at the proposal tables' statistics


def _refresh_statistics() -> None:
    """On PostgreSQL, let the planner see how many proposals there are now. A run may add a thousand
    to tables its statistics last saw empty; planned as if nearly empty, finding what else is on read
    every proposed meeting once per proposal, and a run took 147 s instead of 13."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ANALYZE reschedule_proposals, proposed_meetings"))
        db.session.commit()


def _commit_without_waiting_for_disk() -> None:
    """On PostgreSQL, this batch's transaction commits without waiting for its log to reach the
    disk: the job's work can be redone, and if the server crashed in that instant the proposals (with
    their notifications) would be lost whole and made again by the next run. A run of 1,000 sessions
    waited a second for the disk otherwise. Nothing else the portal writes is committed this way."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit = off"))


class Audience:
    """Whom the job tells: each provider's users and the programme office, asked once for a whole run
    (a user added or deactivated in the seconds a run takes is told, or not, by the next one), and
    asked before a batch's notifications are made, so those are written together."""

    def __init__(self) -> None:
        self._providers: dict[int, list[notifications.Recipient]] = {}
        self._office: list[notifications.Recipient] | None = None

    def ask(self, provider_ids: set[int], office: bool = False) -> None:
        unknown = provider_ids - self._providers.keys()
        if unknown:
            self._providers.update(notifications.provider_recipients(unknown))
        if office and self._office is None:
            self._office = notifications.office_recipients()

    def provider(self, provider_id: int) -> list[notifications.Recipient]:
        self.ask({provider_id})
        return self._providers[provider_id]

    def office(self) -> list[notifications.Recipient]:
        self.ask(set(), office=True)
        return self._office


def propose(
    session_ids: list[int], rules: tuple[Rule, ...], today: date, settings: placement.Settings,
    audience: Audience | None = None,
) -> list[str]:
    """Propose dates for these postponed sessions, in this order; returns what became of each:
    proposed, confirmed, unplaceable, waiting (a restriction still stops it), settled (a proposal
    is already waiting, or it is no longer postponed) or busy (another transaction holds it)."""
    locked = lock_sessions(session_ids, *WITH_MEETINGS, skip_locked=True)
    outcomes = dict.fromkeys(session_ids, "busy")
    placing = _ready(locked, rules, today, settings, outcomes)
    placement.hold_venues({session.course.provider_id for session, _ in placing})
    busy = placement.Busy([session for session, _ in placing],
                          min((from_local(earliest, time(0, 0)) for _, earliest in placing), default=utcnow()))
    made = []
    for session, earliest in placing:
        request = placement.slot_request(session, earliest, settings)
        slot = find_slot(request, busy.constraints(session, rules))
        proposal = RescheduleProposal(session_id=session.id, restriction_id=session.postponed_by_id, earliest_day=earliest)
        if slot is None:
            proposal.status = ProposalStatus.UNPLACEABLE
        else:
            busy.take(session, _fill(proposal, session, slot))
        db.session.add(proposal)
        made.append((session, earliest, request.latest, proposal))
    db.session.flush()  # every proposal and its meetings, a statement each
    _record(made)
    audience = audience or Audience()
    audience.ask({session.course.provider_id for session, *_ in made},
                 office=any(proposal.status == ProposalStatus.UNPLACEABLE for *_, proposal in made))
    for session, earliest, latest, proposal in made:
        if proposal.status == ProposalStatus.UNPLACEABLE:
            _tell_unplaceable(session, earliest, latest, audience)
            outcomes[session.id] = "unplaceable"
        elif settings.auto_confirm:
            _confirm(proposal, session, None)
            outcomes[session.id] = "confirmed"
        else:
            _tell_proposed(session, proposal, audience)
            outcomes[session.id] = "proposed"
    return list(outcomes.values())


def _ready(
    locked: list[Session], rules: tuple[Rule, ...], today: date, settings: placement.Settings, outcomes: dict[int, str],
) -> list[tuple[Session, date]]:
    """The locked sessions that are still postponed with nothing proposed and may run again, each with
    the first day new dates may start; the others' outcomes noted."""
    by_id = {session.id: session for session in locked}
    settled = placement.with_active_proposal(list(by_id))
    ready = []
    for session_id in outcomes:
        session = by_id.get(session_id)
        if session is None:
            continue  # another transaction holds it
        if session.status != SessionStatus.POSTPONED or session.postponed_by_id is None or session.id in settled:
            outcomes[session.id] = "settled"  # another scheduler, or the provider, got there first
            continue
        earliest = placement.earliest_day(session, rules, today, settings=settings)
        if earliest is None:
            outcomes[session.id] = "waiting"
        else:
            ready.append((session, earliest))
    return ready


def _record(made: list[tuple[Session, date, date, RescheduleProposal]]) -> None:
    """The audit events of a batch's proposals, one statement per kind."""
    proposed, unplaceable = [], []
    for session, earliest, latest, proposal in made:
        event = {"object_id": session.id, "company_id": None, "provider_id": session.course.provider_id}
        if proposal.status == ProposalStatus.UNPLACEABLE:
            unplaceable.append(event | {"data": {"earliest": earliest.isoformat(), "period_end": latest.isoformat()}})
        else:
            proposed.append(event | {"data": {
                "proposal_id": proposal.id, "clashes": proposal.clash_count,
                "meetings": [[m.starts_at.isoformat(), m.ends_at.isoformat()] for m in proposal.meetings]}})
    audit.record_many(None, "session.dates_proposed", "session", proposed)
    audit.record_many(None, "session.unplaceable", "session", unplaceable)


def _fill(proposal: RescheduleProposal, session: Session, slot: Slot) -> list[tuple[tuple[datetime, datetime], str | None]]:
    """Give the proposal the slot's dates; returns them with each moving meeting's venue, for the rest of the batch."""
    proposal.status = ProposalStatus.PROPOSED
    proposal.clash_count = slot.clashes
    moving = placement.meetings_to_move(session).meetings
    proposal.meetings = [
        ProposedMeeting(meeting_id=meeting.id, starts_at=starts, ends_at=ends)
        for meeting, (starts, ends) in zip(moving, slot.spans)
    ]
    return [(span, placement.venue_key(m.venue, m.municipality_id)) for m, span in zip(moving, slot.spans)]


# Confirming

def confirm_proposal(proposal: RescheduleProposal, actor: User) -> bool:
    """The provider confirms the proposed dates. If they no longer hold (a new restriction, the venue
    taken meanwhile, the first date passed), the proposal is replaced by a fresh one and False returned."""
    session = lock_sessions([proposal.session_id])[0]
    if session.course.provider_id != actor.provider_id:
        raise DomainError(_("Only the course's own provider can change it."))
    db.session.refresh(proposal)
    if proposal.status != ProposalStatus.PROPOSED or session.status != SessionStatus.POSTPONED:
        raise DomainError(_("These dates are no longer waiting for confirmation."))
    if not _still_holds(proposal, session):
        placement.close_proposals(session.id, None)
        today = placement.today()
        propose([session.id], placement.current_rules(today), today, placement.Settings.load())
        return False
    _confirm(proposal, session, actor)
    return True


def _still_holds(proposal: RescheduleProposal, session: Session) -> bool:
    if min(m.starts_at for m in proposal.meetings) <= utcnow():
        return False
    data = _meetings_with(proposal, session)
    errors = placement.chosen_date_errors(
        session, [(m.starts_at, m.ends_at) for m in data], [(m.venue, m.municipality_id) for m in data],
    )
    return not errors


def _meetings_with(proposal: RescheduleProposal, session: Session) -> list[MeetingData]:
    """The session's meetings with the proposed dates in place of the old ones."""
    moved = {m.meeting_id: m for m in proposal.meetings}
    data = meetings_as_data(session.meetings)
    for index, meeting in enumerate(session.meetings):
        if meeting.id in moved:
            data[index].starts_at, data[index].ends_at = moved[meeting.id].starts_at, moved[meeting.id].ends_at
    return data


def proposed_dates(proposal: RescheduleProposal, session: Session) -> tuple[list[MeetingData], datetime, datetime]:
    """The session's meetings and deadlines as confirming the proposal would make them."""
    return _meetings_with(proposal, session), *_moved_deadlines(session, proposal)


def _confirm(proposal: RescheduleProposal, session: Session, actor: User | None) -> None:
    data, booking_deadline, cancellation_deadline = proposed_dates(proposal, session)
    proposal.status, proposal.decided_at = ProposalStatus.CONFIRMED, utcnow()
    proposal.decided_by_id = actor.id if actor else None
    db.session.flush()
    apply_new_dates(session, actor, data, booking_deadline, cancellation_deadline)


def _moved_deadlines(session: Session, proposal: RescheduleProposal) -> tuple[datetime, datetime]:
    """The deadlines move with the first meeting, keeping their distance before it; those that
    would then have passed are set halfway to it, so HR may still cancel a booking that now clashes."""
    old_first = min(m.starts_at for m in session.meetings if m.id in {p.meeting_id for p in proposal.meetings})
    new_first = min(m.starts_at for m in proposal.meetings)
    if any(m.starts_at < old_first for m in session.meetings):  # under way: the deadlines have passed anyway
        return session.booking_deadline, session.cancellation_deadline
    shift, now = new_first - old_first, utcnow()
    halfway = now + (new_first - now) / 2
    return (max(session.booking_deadline + shift, halfway).replace(microsecond=0),
            max(session.cancellation_deadline + shift, halfway).replace(microsecond=0))


# Telling

def _tell_proposed(session: Session, proposal: RescheduleProposal, audience: Audience) -> None:
    with force_locale("sv"):
        title = _("New dates proposed: %(course)s", course=session.course.title)
        lines = [f"- {moment(m.starts_at)}–{clock(m.ends_at)}" for m in proposal.meetings]
        body = _("The restriction that postponed the session no longer stops it. Proposed dates:") + "\n" + "\n".join(lines)
        body += "\n\n" + _("%(n)s booked employees would have another booking at the same time. "
                           "Confirm the dates or choose others in the portal.", n=proposal.clash_count)
        link = external_url("provider.session", session_id=session.id)
        for user in audience.provider(session.course.provider_id):
            notifications.notify(user, "session.dates_proposed", title, body, link)


def _tell_unplaceable(session: Session, earliest: date, last: date, audience: Audience) -> None:
    with force_locale("sv"):
        title = _("No new dates found: %(course)s", course=session.course.title)
        body = _("The session may run again from %(earliest)s, but no dates for all its meetings fit before the "
                 "programme period ends %(last)s. Choose dates yourself or cancel the session.",
                 earliest=format_day(earliest), last=format_day(last))
        for user in audience.provider(session.course.provider_id):
            notifications.notify(user, "session.unplaceable", title, body, external_url("provider.session", session_id=session.id))
        for user in audience.office():
            notifications.notify(user, "session.unplaceable", title, body,
                                 external_url("restrictions.show", restriction_id=session.postponed_by_id))


# Settings

def update_settings(programme: Programme, actor: User, notice_days: int, auto_confirm: bool) -> Programme:
    if not 0 <= notice_days <= 365:
        raise InvalidInput({"notice_days": _("Between 0 and 365 days.")})
    before = {"notice_days": programme.notice_days, "auto_confirm_reschedule": programme.auto_confirm_reschedule}
    programme.notice_days, programme.auto_confirm_reschedule = notice_days, auto_confirm
    audit.record(actor, "programme.rescheduling_settings", "programme", programme.id, before=before,
                 after={"notice_days": notice_days, "auto_confirm_reschedule": auto_confirm})
    return programme


# Pages

def proposal_for(session: Session) -> RescheduleProposal | None:
    if session.status != SessionStatus.POSTPONED:
        return None
    return placement.active_proposal(session.id)


def proposals_waiting(provider_id: int) -> int:
    return db.session.scalar(
        select(func.count(RescheduleProposal.id))
        .join(Session, Session.id == RescheduleProposal.session_id).join(Course, Course.id == Session.course_id)
        .where(Course.provider_id == provider_id, RescheduleProposal.status.in_(placement.ACTIVE))
    ) or 0

