"""Public-health restrictions (pm): recording, easing or tightening, lifting, and postponing at once
every in-person session that a restriction stops."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import force_locale, gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.i18n import day as format_day, from_local, local_zone
from portal.models import (
    Booking, BookingStatus, Course, Meeting, Municipality, ProposalStatus, Provider, Region, RescheduleProposal, Restriction,
    RestrictionChange, RestrictionScope, Session, SessionStatus, User,
)
from portal.models.types import utcnow
from portal.services import DomainError, InvalidInput, audit, notifications, placement
from portal.services.catalogue import calendar_file, tell_everyone
from portal.services.locking import lock_restrictions, lock_sessions
from portal.services.overview import current_programme
from portal.services.slots import Rule
from portal.urls import external_url

LARGEST_GROUP = 10_000


@dataclass
class RestrictionData:
    scope: RestrictionScope
    region_ids: list[int]
    municipality_ids: list[int]
    in_force_from: date
    max_group_size: int | None  # None: no in-person meetings at all
    description: str


@dataclass(frozen=True)
class Impact:
    """What saving would postpone: sessions, and the companies and employees booked on them."""

    session_ids: list[int]
    companies: int
    employees: int

    @property
    def sessions(self) -> int:
        return len(self.session_ids)


class ImpactToConfirm(DomainError):
    """The impact differs from what pm saw in the preview: show it again before saving."""

    def __init__(self, impact: Impact):
        super().__init__(_("%(n)s sessions would be postponed. Check the preview and save again.", n=impact.sessions))
        self.impact = impact


# Recording

def preview_restriction(data: RestrictionData) -> Impact:
    _check(data)
    return impact_of(_rule_from(data))


def record_restriction(actor: User, data: RestrictionData, *, confirmed_sessions: int | None) -> Restriction:
    """Save the restriction and postpone what it stops, if pm saw that number in the preview."""
    lock_restrictions()
    _check(data)
    if _already_recorded(data):
        raise DomainError(_("This restriction is already recorded."))
    restriction = Restriction(
        scope=data.scope, in_force_from=data.in_force_from, max_group_size=data.max_group_size,
        description=data.description.strip(), created_by_id=actor.id,
        regions=_regions(data.region_ids) if data.scope == RestrictionScope.REGIONS else [],
        municipalities=_municipalities(data.municipality_ids) if data.scope == RestrictionScope.MUNICIPALITIES else [],
    )
    db.session.add(restriction)
    db.session.flush()
    audit.record(actor, "restriction.recorded", "restriction", restriction.id, scope=str(data.scope),
                 in_force_from=data.in_force_from.isoformat(), max_group_size=data.max_group_size)
    _postpone_confirmed(restriction, actor, confirmed_sessions)
    return restriction


def _check(data: RestrictionData) -> None:
    errors = {}
    if data.scope == RestrictionScope.REGIONS and (not data.region_ids or len(_regions(data.region_ids)) != len(set(data.region_ids))):
        errors["region_ids"] = _("Choose one or more regions from the list.")
    if data.scope == RestrictionScope.MUNICIPALITIES and (
        not data.municipality_ids or len(_municipalities(data.municipality_ids)) != len(set(data.municipality_ids))
    ):
        errors["municipality_ids"] = _("Choose one or more municipalities from the list.")
    errors |= _group_size_errors(data.max_group_size)
    if not data.description.strip():
        errors["description"] = _("Describe the restriction: who decided it and what it says.")
    if errors:
        raise InvalidInput(errors)


def _already_recorded(data: RestrictionData) -> bool:
    """The same restriction, still in force or ahead: a second click on "record", never meant."""
    same = db.session.scalars(
        select(Restriction)
        .where(Restriction.scope == data.scope, Restriction.in_force_from == data.in_force_from,
               Restriction.description == data.description.strip(), Restriction.lifted_on.is_(None),
               Restriction.max_group_size.is_(None) if data.max_group_size is None
               else Restriction.max_group_size == data.max_group_size)
        .options(selectinload(Restriction.regions), selectinload(Restriction.municipalities))
    )
    places = set(data.region_ids) | set(data.municipality_ids)
    return any({r.id for r in found.regions} | {m.id for m in found.municipalities} == places for found in same)


def _group_size_errors(size: int | None) -> dict[str, str]:
    if size is not None and not 1 <= size <= LARGEST_GROUP:
        return {"max_group_size": _("A group size is between 1 and %(n)s; leave it empty for no in-person meetings.",
                                    n=f"{LARGEST_GROUP:,}".replace(",", " "))}
    return {}


def _regions(ids: list[int]) -> list[Region]:
    return list(db.session.scalars(select(Region).where(Region.id.in_(set(ids))).order_by(Region.id))) if ids else []


def _municipalities(ids: list[int]) -> list[Municipality]:
    if not ids:
        return []
    return list(db.session.scalars(select(Municipality).where(Municipality.id.in_(set(ids))).order_by(Municipality.id)))


def _rule_from(data: RestrictionData) -> Rule:
    regions = placement.municipalities_by_region() if data.scope == RestrictionScope.REGIONS else {}
    municipalities = placement.scope_municipalities(data.scope, data.region_ids, data.municipality_ids, regions)
    return Rule(municipalities=municipalities, in_force_from=data.in_force_from, lifted_on=None,
                limits=((data.in_force_from, data.max_group_size),))


# Easing, tightening, lifting

def preview_group_size(restriction: Restriction, effective_from: date, max_group_size: int | None) -> Impact:
    _check_change(restriction, effective_from, max_group_size)
    return impact_of(_changed_rule(restriction, effective_from, max_group_size))


def change_group_size(
    restriction: Restriction, actor: User, effective_from: date, max_group_size: int | None, *,
    confirmed_sessions: int | None,
) -> Restriction:
    """A new group size from a date on. A smaller one postpones what it stops; a larger one may let
    postponed sessions run again, which the rescheduling job (or the caller) then proposes."""
    _check_change(restriction, effective_from, max_group_size)
    change = next((c for c in restriction.changes if c.effective_from == effective_from), None)
    if change is None:
        change = RestrictionChange(effective_from=effective_from, created_by_id=actor.id)
        restriction.changes.append(change)
    change.max_group_size = max_group_size
    db.session.flush()
    db.session.refresh(restriction, ["changes"])
    audit.record(actor, "restriction.group_size_changed", "restriction", restriction.id,
                 effective_from=effective_from.isoformat(), max_group_size=max_group_size)
    _postpone_confirmed(restriction, actor, confirmed_sessions)
    return restriction


def _check_change(restriction: Restriction, effective_from: date, max_group_size: int | None) -> None:
    errors = _group_size_errors(max_group_size)
    if restriction.lifted_on is not None and restriction.lifted_on <= placement.today():
        raise DomainError(_("The restriction has been lifted and can no longer change."))
    if effective_from < max(restriction.in_force_from, placement.today()):
        errors["effective_from"] = _("Choose a day from %(day)s on.", day=format_day(max(restriction.in_force_from, placement.today())))
    elif restriction.lifted_on is not None and effective_from >= restriction.lifted_on:
        errors["effective_from"] = _("The restriction is lifted %(day)s; choose an earlier day.", day=format_day(restriction.lifted_on))
    if errors:
        raise InvalidInput(errors)


def _changed_rule(restriction: Restriction, effective_from: date, max_group_size: int | None) -> Rule:
    limits = [(starts, size) for starts, size in restriction.limits() if starts != effective_from or starts == restriction.in_force_from]
    limits = sorted(limits + [(effective_from, max_group_size)], key=lambda limit: limit[0])
    rule = placement.rule_of(restriction, placement.municipalities_by_region())
    return Rule(municipalities=rule.municipalities, in_force_from=rule.in_force_from, lifted_on=rule.lifted_on,
                limits=tuple(limits))


def lift_restriction(restriction: Restriction, actor: User, lifted_on: date) -> Restriction:
    """From `lifted_on` on the restriction stops no one. Call rescheduling for it afterwards."""
    if restriction.lifted_on is not None and restriction.lifted_on <= placement.today():
        raise DomainError(_("The restriction has already been lifted."))
    if lifted_on < restriction.in_force_from:
        raise InvalidInput({"lifted_on": _("The restriction cannot be lifted before it came into force (%(day)s).",
                                           day=format_day(restriction.in_force_from))})
    if lifted_on < placement.today() - timedelta(days=365):
        raise InvalidInput({"lifted_on": _("Choose a day within the last year or later.")})
    programme = current_programme()
    if programme is not None and lifted_on > programme.period_end:
        raise InvalidInput({"lifted_on": _(
            "Choose a day within the programme period, which ends %(day)s. A restriction that outlasts it can "
            "simply stay in force.", day=format_day(programme.period_end))})
    if restriction.lifted_on is not None and lifted_on != restriction.lifted_on:
        # A new lift date: what was proposed (or found no room) from the old one is withdrawn, so the
        # run that follows proposes from this one.
        placement.close_proposals_of_restriction(restriction.id, actor)
    restriction.lifted_on = lifted_on
    db.session.flush()
    audit.record(actor, "restriction.lifted", "restriction", restriction.id, lifted_on=lifted_on.isoformat())
    return restriction


# Who is stopped

def impact_of(rule: Rule) -> Impact:
    """The open sessions with an in-person meeting ahead that the rule stops, and who is booked on them."""
    session_ids = _stopped_sessions(rule)
    if not session_ids:
        return Impact([], 0, 0)
    companies, employees = db.session.execute(
        select(func.count(func.distinct(Booking.company_id)), func.count(func.distinct(Booking.employee_id)))
        .where(Booking.session_id.in_(session_ids), Booking.status == BookingStatus.BOOKED)
    ).one()
    return Impact(session_ids, companies, employees)


def _stopped_sessions(rule: Rule) -> list[int]:
    now = utcnow()
    smallest = min((size or 0) for _starts, size in rule.limits)
    statement = (
        select(Session.id, Session.seats_taken, Meeting.municipality_id, Meeting.starts_at)
        .join(Meeting, Meeting.session_id == Session.id)
        .where(Session.status == SessionStatus.OPEN, Session.seats_taken > smallest,
               Meeting.municipality_id.is_not(None),
               Meeting.starts_at >= max(now, from_local(rule.in_force_from, time(0, 0))))
        .order_by(Session.id)
    )
    if rule.lifted_on is not None:
        statement = statement.where(Meeting.starts_at < from_local(rule.lifted_on, time(0, 0)))
    if rule.municipalities is not None:
        statement = statement.where(Meeting.municipality_id.in_(sorted(rule.municipalities)))
    zone = local_zone()
    stopped: list[int] = []
    for session_id, booked, municipality_id, starts_at in db.session.execute(statement):
        if (not stopped or stopped[-1] != session_id) and rule.forbids(municipality_id, starts_at.astimezone(zone).date(), booked):
            stopped.append(session_id)
    return stopped


def _postpone_confirmed(restriction: Restriction, actor: User, confirmed_sessions: int | None) -> None:
    rule = placement.rule_of(restriction, placement.municipalities_by_region())
    found = impact_of(rule)
    if confirmed_sessions is None or found.sessions != confirmed_sessions:
        raise ImpactToConfirm(found)
    postpone_stopped(restriction, actor, rule, found.session_ids)


def postpone_stopped(restriction: Restriction, actor: User | None, rule: Rule, session_ids: list[int]) -> list[Session]:
    """Postpone these sessions for the restriction: bookings and waitlists stay; everyone booked,
    their HR and the provider are told why."""
    now, zone = utcnow(), local_zone()
    postponed = []
    for session in lock_sessions(session_ids):
        # Re-read under the lock: a booking or change meanwhile decides afresh.
        ahead = [m for m in session.meetings if m.starts_at >= now]
        if session.status != SessionStatus.OPEN or not any(
            rule.forbids(m.municipality_id, m.starts_at.astimezone(zone).date(), session.seats_taken) for m in ahead
        ):
            continue
        session.status = SessionStatus.POSTPONED
        session.postponed_by_id = restriction.id
        session.postponed_at = now
        session.ical_sequence += 1
        postponed.append(session)
    db.session.flush()
    for session in postponed:
        audit.record(actor, "session.postponed", "session", session.id, provider_id=session.course.provider_id,
                     restriction_id=restriction.id, **{"from": "open", "to": "postponed"})
        _tell_postponed(session, restriction)
    return postponed


def _tell_postponed(session: Session, restriction: Restriction) -> None:
    with force_locale("sv"):
        title = _("Postponed: %(course)s", course=session.course.title)
        body = _("The session has been postponed because of a public-health restriction: %(restriction)s\n\n"
                 "Your booking is kept. New dates are proposed when the restriction is lifted, and you will be told them.",
                 restriction=restriction.description)
        tell_everyone(session, "session.postponed", title, body, calendar_file(session))
        to_provider = _("%(booked)s booked are more than the restriction allows in person: %(restriction)s\n\n"
                        "The bookings are kept. When the restriction is lifted or eased, new dates are proposed "
                        "for you to confirm.", booked=session.seats_taken, restriction=restriction.description)
        link = external_url("provider.session", session_id=session.id)
        for user in notifications.provider_users_of(session.course.provider_id):
            notifications.notify(user, "session.postponed", title, to_provider, link)


# Lists

def restrictions_list() -> list[Restriction]:
    return list(db.session.scalars(
        select(Restriction)
        .options(selectinload(Restriction.regions), selectinload(Restriction.municipalities),
                 selectinload(Restriction.changes))
        .order_by(Restriction.in_force_from.desc(), Restriction.id.desc())
    ))


@dataclass(frozen=True)
class SessionRow:
    session_id: int
    course_id: int
    course: str
    provider: str
    first_meeting: datetime | None
    booked: int
    status: SessionStatus
    proposal: ProposalStatus | None


def sessions_postponed_by(restriction_id: int) -> list[SessionRow]:
    """The sessions the restriction postponed that have not yet got new dates, with their proposal's state."""
    return _session_rows(Session.postponed_by_id == restriction_id)


def unplaceable_sessions() -> list[SessionRow]:
    """Postponed sessions for which no dates fit before the programme period ends: pm follows them up."""
    flagged = select(RescheduleProposal.session_id).where(RescheduleProposal.status == ProposalStatus.UNPLACEABLE)
    return _session_rows(Session.id.in_(flagged))


def sessions_needing_dates(provider_id: int) -> list[SessionRow]:
    """The provider's postponed sessions with proposed dates to confirm, or none found in the period."""
    waiting = select(RescheduleProposal.session_id).where(RescheduleProposal.status.in_(placement.ACTIVE))
    return _session_rows(Session.id.in_(waiting) & Session.course.has(provider_id=provider_id))


def session_rows(session_ids: list[int]) -> list[SessionRow]:
    return _session_rows(Session.id.in_(session_ids)) if session_ids else []


def _session_rows(where) -> list[SessionRow]:
    proposal = (
        select(RescheduleProposal.status)
        .where(RescheduleProposal.session_id == Session.id, RescheduleProposal.status.in_(placement.ACTIVE))
        .limit(1).scalar_subquery()
    )
    rows = db.session.execute(
        select(Session.id, Course.id, Course.title, Provider.name, Session.starts_at, Session.seats_taken, Session.status, proposal)
        .join(Course, Course.id == Session.course_id).join(Provider, Provider.id == Course.provider_id)
        .where(where)
        .order_by(Session.starts_at, Session.id)
    )
    return [SessionRow(*row) for row in rows]
