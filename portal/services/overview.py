"""What each role's start page shows, gathered in a handful of aggregate queries."""
from dataclasses import dataclass
from functools import cache
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, exists, func, or_, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import (
    Booking, BookingStatus, Company, Course, Employee, EmploymentStatus, HoursEntry,
    Municipality, Programme, Provider, Region, Restriction, Session, SessionStatus,
    TallyDimension,
)
from portal.models.types import utcnow
from portal.services import tallies
from portal.services.figures import pending_hours
from portal.services.pagination import Page, paginate_rows


DEADLINE_NEARS = timedelta(days=14)


@dataclass(frozen=True)
class SessionRow:
    session_id: int
    course_title: str
    status: SessionStatus
    first_meeting: datetime | None
    capacity: int
    booked: int
    waitlisted: int
    min_participants: int
    booking_deadline: datetime
    ours: int = 0  # the company's own booked employees, on a company page

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.booked, 0)

    @property
    def under_minimum_near_deadline(self) -> bool:
        """Too few booked while the booking deadline is at most two weeks away."""
        now = utcnow()
        return self.booked < self.min_participants and now <= self.booking_deadline <= now + DEADLINE_NEARS


def current_programme() -> Programme | None:
    return db.session.scalars(select(Programme).order_by(Programme.id).limit(1)).first()


def _waitlisted():
    return (
        select(func.count(Booking.id))
        .where(Booking.session_id == Session.id, Booking.status == BookingStatus.WAITLISTED)
        .correlate(Session).scalar_subquery()
    )


def _session_rows(statement) -> list[SessionRow]:
    return [SessionRow(*row) for row in db.session.execute(statement)]


COMING = [SessionStatus.PLANNED, SessionStatus.OPEN, SessionStatus.POSTPONED]


def upcoming_sessions_of_provider(provider_id: int, limit: int = 25) -> list[SessionRow]:
    """Booked seats and dates are the session's own (kept with the bookings and the meetings); the
    waiting list is read per session listed, never aggregated over every booking."""
    statement = (
        select(
            Session.id, Course.title, Session.status, Session.starts_at, Session.capacity, Session.seats_taken,
            _waitlisted(), Session.min_participants, Session.booking_deadline,
        )
        .join(Course, Course.id == Session.course_id)
        .where(Course.provider_id == provider_id, Session.status.in_(COMING), Session.ends_at >= utcnow())
        .order_by(Session.starts_at, Session.id)
        .limit(limit)
    )
    return _session_rows(statement)


def upcoming_sessions_of_company(company_id: int, limit: int = 10) -> list[SessionRow]:
    """The company's coming sessions (first meeting ahead), soonest first: the sessions in date order
    through the index on their dates, until the tenth the company has people on."""
    found = db.session.execute(_company_sessions_statement(), {"company_id": company_id, "now": utcnow(), "limit": limit})
    return [SessionRow(*row) for row in found]


@cache
def _company_sessions_statement() -> Select:
    """Built once (every HR start page runs it), with the company, the time and the limit bound per call."""
    company_id, now = bindparam("company_id"), bindparam("now", type_=Session.starts_at.type)
    ours = (
        select(func.count(Booking.id))
        .where(Booking.session_id == Session.id, Booking.company_id == company_id,
               Booking.status == BookingStatus.BOOKED)
        .correlate(Session).scalar_subquery()
    )
    return (
        select(
            Session.id, Course.title, Session.status, Session.starts_at, Session.capacity, Session.seats_taken,
            _waitlisted(), Session.min_participants, Session.booking_deadline, ours,
        )
        .join(Course, Course.id == Session.course_id)
        .where(
            Session.starts_at >= now,
            Session.status.in_(COMING),
            exists().where(Booking.session_id == Session.id, Booking.company_id == company_id,
                           Booking.status != BookingStatus.CANCELLED),
        )
        .order_by(Session.starts_at, Session.id)
        .limit(bindparam("limit"))
    )


@dataclass(frozen=True)
class CompanyOverview:
    company: Company
    active_employees: int
    by_status: dict[EmploymentStatus, int]
    individuals_trained: int
    counted_minutes: int
    pending_minutes: int
    upcoming: list[SessionRow]


def company_overview(company: Company) -> CompanyOverview:
    """The company's figures in one statement (its active employees per employment status, the people
    trained and their hours, the hours waiting for verification) and its coming sessions in another.
    The people trained and their hours are the company's key in the programme's totals (services/tallies)."""
    trained = tallies.totals(TallyDimension.PERSON, company.id)
    active = select(*[func.count().filter(Employee.employment_status == status).label(status.value)
                      for status in EmploymentStatus]).where(
        Employee.company_id == company.id, Employee.is_active).subquery()
    pending = (
        select(func.coalesce(func.sum(HoursEntry.minutes), 0))
        .where(pending_hours(), HoursEntry.company_id == company.id).scalar_subquery()
    )
    figures = db.session.execute(select(
        *[select(func.coalesce(func.sum(column), 0)).scalar_subquery() for column in (trained.c.individuals, trained.c.minutes)],
        pending, *active.c,
    )).one()
    by_status = dict(zip(EmploymentStatus, figures[3:]))
    return CompanyOverview(
        company=company,
        active_employees=sum(by_status.values()),
        by_status=by_status,
        individuals_trained=int(figures[0]),
        counted_minutes=int(figures[1]),
        pending_minutes=figures[2],
        upcoming=upcoming_sessions_of_company(company.id),
    )


@dataclass(frozen=True)
class CompanyRow:
    company_id: int
    name: str
    region: str
    individuals: int
    minutes: int


@dataclass(frozen=True)
class ProgrammeOverview:
    programme: Programme | None
    companies: int
    providers: int
    individuals: int
    minutes: int
    postponed_sessions: int
    restrictions_in_force: list[Restriction]
    company_rows: Page[CompanyRow]


COMPANIES_PER_PAGE = 25


def programme_overview(page: int = 1) -> ProgrammeOverview:
    """The programme's figures from its totals: the person dimension's keys are the companies, so the
    headline is their sum and each company's row its own key, as on the company's start page."""
    per_company = tallies.totals(TallyDimension.PERSON)
    individuals, minutes = db.session.execute(
        select(func.coalesce(func.sum(per_company.c.individuals), 0), func.coalesce(func.sum(per_company.c.minutes), 0))
    ).one()
    company_rows = paginate_rows(
        select(
            Company.id, Company.name, Region.name,
            func.coalesce(per_company.c.individuals, 0), func.coalesce(per_company.c.minutes, 0),
        )
        .join(Municipality, Municipality.id == Company.municipality_id)
        .join(Region, Region.id == Municipality.region_id)
        .outerjoin(per_company, per_company.c.key == Company.id)
        .order_by(Company.name, Company.id),
        page,
        COMPANIES_PER_PAGE,
        CompanyRow,
    )
    today = utcnow().date()
    restrictions = list(
        db.session.scalars(
            select(Restriction)
            .where(Restriction.in_force_from <= today)
            .where(or_(Restriction.lifted_on.is_(None), Restriction.lifted_on > today))
            .options(selectinload(Restriction.changes))
            .order_by(Restriction.in_force_from)
        )
    )
    return ProgrammeOverview(
        programme=current_programme(),
        companies=company_rows.total,
        providers=db.session.scalar(select(func.count(Provider.id))) or 0,
        individuals=int(individuals),
        minutes=int(minutes),
        postponed_sessions=db.session.scalar(
            select(func.count(Session.id)).where(Session.status == SessionStatus.POSTPONED)
        ) or 0,
        restrictions_in_force=restrictions,
        company_rows=company_rows,
    )
