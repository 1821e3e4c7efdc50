"""Finding sessions in the catalogue: filters and free-text search, and what a course page shows."""
from collections import defaultdict
from dataclasses import dataclass, replace
from functools import cache
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, literal, null, or_, select, union_all
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.i18n import from_local, swedish_order
from portal.models import (
    Booking, BookingStatus, CompetenceArea, Course, CourseFormat, Meeting, Municipality, Provider, Region,
    Session, SessionStatus,
)
from portal.models.catalogue import course_competence_areas
from portal.models.types import utcnow
from portal.services.folding import fold, fold_text
from portal.services.pagination import Page, paginate_rows

PER_PAGE = 20
MAX_SEARCH_WORDS = 8


@dataclass(frozen=True)
class CatalogueFilters:
    """What the user asks for; None (or empty, or False) means "any"."""

    text: str = ""
    area: str | None = None  # competence area code
    format: CourseFormat | None = None
    region: str | None = None  # region code
    municipality: str | None = None  # municipality code
    date_from: date | None = None
    date_to: date | None = None
    certified: bool = False
    seats_left: bool = False


@dataclass(frozen=True)
class CatalogueRow:
    session_id: int
    course_id: int
    course_title: str
    provider: str
    format: CourseFormat
    status: SessionStatus
    first_meeting: datetime
    capacity: int
    booked: int
    certified: bool
    shared_niche: bool
    areas: tuple[CompetenceArea, ...] = ()
    places: tuple[str, ...] = ()  # municipality names; none means every meeting is online

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.booked, 0)

    @property
    def date_known(self) -> bool:
        """A postponed session whose old dates have passed waits for new ones."""
        return self.status != SessionStatus.POSTPONED or self.first_meeting >= utcnow()


@dataclass(frozen=True)
class FilterChoices:
    """Each filter's (code, name) pairs in Swedish alphabetical order; the areas named in the locale."""

    areas: list[tuple[str, str]]
    regions: list[tuple[str, str]]
    municipalities: list[tuple[str, str]]


def filter_choices(locale: str) -> FilterChoices:
    """The competence areas, regions and municipalities, read together in one statement."""
    found: dict[str, list[tuple[str, str]]] = {"area": [], "region": [], "municipality": []}
    for kind, code, name_sv, name_en in db.session.execute(_choices_statement()):
        found[kind].append((code, name_en if kind == "area" and locale == "en" else name_sv))
    for pairs in found.values():
        pairs.sort(key=lambda pair: swedish_order(pair[1]))
    return FilterChoices(found["area"], found["region"], found["municipality"])


@cache
def _choices_statement():
    """Built once: every catalogue page runs it."""
    return union_all(
        select(literal("area"), CompetenceArea.code, CompetenceArea.name_sv, CompetenceArea.name_en),
        select(literal("region"), Region.code, Region.name, null()),
        select(literal("municipality"), Municipality.code, Municipality.name, null()),
    )


def upcoming() -> ColumnElement[bool]:
    """Sessions still to come. A postponed session keeps its old meetings until it gets new dates,
    so it stays listed, bookable for later, even once those old dates have passed."""
    return or_(
        Session.status == SessionStatus.POSTPONED,
        and_(Session.status.in_([SessionStatus.PLANNED, SessionStatus.OPEN]), Session.ends_at >= utcnow()),
    )


def search_sessions(filters: CatalogueFilters, page: int = 1) -> Page[CatalogueRow]:
    """One page of upcoming sessions of courses in the catalogue, by first meeting."""
    # Booked seats and dates are the session's own (kept with the bookings and the meetings).
    statement = (
        select(
            Session.id, Course.id, Course.title, Provider.name, Course.format, Session.status,
            Session.starts_at, Session.capacity, Session.seats_taken, Course.certified, Course.shared_niche,
        )
        .join(Course, Course.id == Session.course_id)
        .join(Provider, Provider.id == Course.provider_id)
        .where(Course.retired_at.is_(None), upcoming(), *_conditions(filters))
        .order_by(Session.starts_at, Session.id)
    )
    if filters.seats_left:
        statement = statement.where(Session.capacity > Session.seats_taken)
    found = paginate_rows(statement, page, PER_PAGE, CatalogueRow)
    areas = _areas_by_course({row.course_id for row in found.items})
    places = _places_by_session([row.session_id for row in found.items])
    rows = [
        replace(row, areas=tuple(areas[row.course_id]), places=tuple(places[row.session_id]))
        for row in found.items
    ]
    return replace(found, items=rows)


def _conditions(filters: CatalogueFilters) -> list[ColumnElement[bool]]:
    conditions = [_matches(word) for word in filters.text.lower().split()[:MAX_SEARCH_WORDS]]
    if filters.area:
        conditions.append(exists(
            select(course_competence_areas.c.course_id)
            .join(CompetenceArea, CompetenceArea.id == course_competence_areas.c.competence_area_id)
            .where(course_competence_areas.c.course_id == Course.id, CompetenceArea.code == filters.area)
        ))
    if filters.format:
        conditions.append(Course.format == filters.format)
    if filters.municipality:
        conditions.append(_has_meeting(Municipality.code == filters.municipality))
    if filters.region:
        conditions.append(_has_meeting(Region.code == filters.region))
    if filters.date_from or filters.date_to:
        conditions.append(_meets_between(filters.date_from, filters.date_to))
    if filters.certified:
        conditions.append(Course.certified.is_(True))
    return conditions


def _matches(word: str) -> ColumnElement[bool]:
    # Case and accents folded on both sides ('kvalitetssakring' finds 'Kvalitetssäkring'); autoescape keeps % and _ literal.
    word = fold_text(word)
    return or_(fold(Course.title).contains(word, autoescape=True), fold(Course.description).contains(word, autoescape=True))


def _has_meeting(place: ColumnElement[bool]) -> ColumnElement[bool]:
    """A meeting of the session takes place in the municipality (or region)."""
    return exists(
        select(Meeting.id)
        .join(Municipality, Municipality.id == Meeting.municipality_id)
        .join(Region, Region.id == Municipality.region_id)
        .where(Meeting.session_id == Session.id, place)
    )


def _meets_between(first_day: date | None, last_day: date | None) -> ColumnElement[bool]:
    """A meeting of the session falls on a day from `first_day` to `last_day`, Swedish time. (Then the
    session's own dates overlap those days too: the index on them leaves out the sessions that cannot.)"""
    during, dates = [Meeting.session_id == Session.id], []
    if first_day:
        after = from_local(first_day, time())
        during.append(Meeting.ends_at > after)
        dates.append(Session.ends_at > after)
    if last_day:
        before = from_local(last_day + timedelta(days=1), time())
        during.append(Meeting.starts_at < before)
        dates.append(Session.starts_at < before)
    return and_(*dates, exists(select(Meeting.id).where(*during)))


def _areas_by_course(course_ids: set[int]) -> dict[int, list[CompetenceArea]]:
    found: dict[int, list[CompetenceArea]] = defaultdict(list)
    rows = db.session.execute(
        select(course_competence_areas.c.course_id, CompetenceArea)
        .join(CompetenceArea, CompetenceArea.id == course_competence_areas.c.competence_area_id)
        .where(course_competence_areas.c.course_id.in_(course_ids))
        .order_by(CompetenceArea.name_sv)
    )
    for course_id, area in rows:
        found[course_id].append(area)
    return found


def _places_by_session(session_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    rows = db.session.execute(
        select(Meeting.session_id, Municipality.name)
        .join(Municipality, Municipality.id == Meeting.municipality_id)
        .where(Meeting.session_id.in_(session_ids))
        .distinct()
        .order_by(Meeting.session_id, Municipality.name)
    )
    for session_id, name in rows:
        found[session_id].append(name)
    return found


@dataclass(frozen=True)
class CourseSession:
    """A session on a course page, with its seats and, for HR, the company's own seats."""

    session: Session
    booked: int
    company_booked: int | None = None  # None unless the reader is a company's HR
    cap_in_force: bool = False

    @property
    def seats_left(self) -> int:
        return max(self.session.capacity - self.booked, 0)

    @property
    def at_company_cap(self) -> bool:
        return self.cap_in_force and (self.company_booked or 0) >= (self.session.company_seat_cap or 0)


def course_sessions(course: Course, company_id: int | None = None) -> list[CourseSession]:
    """The course's upcoming sessions with every meeting; with a company, that company's seats too."""
    sessions = list(db.session.scalars(
        select(Session)
        .where(Session.course_id == course.id, upcoming())
        .order_by(Session.starts_at, Session.id)
        .options(selectinload(Session.meetings).joinedload(Meeting.municipality))
    ))
    ids = [session.id for session in sessions]
    booked = _booked_counts(ids)
    ours = _booked_counts(ids, company_id) if company_id is not None else {}
    now = utcnow()
    return [
        CourseSession(
            session=session,
            booked=booked.get(session.id, 0),
            company_booked=ours.get(session.id, 0) if company_id is not None else None,
            cap_in_force=session.company_seat_cap is not None
            and (session.seat_cap_released_at is None or session.seat_cap_released_at > now),
        )
        for session in sessions
    ]


def _booked_counts(session_ids: list[int], company_id: int | None = None) -> dict[int, int]:
    statement = (
        select(Booking.session_id, func.count())
        .where(Booking.session_id.in_(session_ids), Booking.status == BookingStatus.BOOKED)
        .group_by(Booking.session_id)
    )
    if company_id is not None:
        statement = statement.where(Booking.company_id == company_id)
    return dict(db.session.execute(statement).all())


def course_options():
    """How a course page loads its course: provider and areas with it, in bounded queries."""
    return (joinedload(Course.provider), selectinload(Course.competence_areas))
