"""Synthetic programmes at a chosen scale for performance work: valid, bulk-loaded, and the same for a seed."""
import math
import random
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import cache
from itertools import islice

from psycopg import sql
from sqlalchemy import Connection, Table, func, literal, select, text

from portal.demo import (
    AREA_NOTES, COURSES, FORMATS, JOB_ROLES, LEVELS, MANUAL_TRAINING, MEN, REJECTED_TRAINING, SURNAMES,
    SWEDISH_HOLIDAYS, WOMEN,
)
from portal.extensions import db
from portal.i18n import from_local
from portal.models import (
    Attendance, AttendanceStatus, Booking, BookingStatus, Company, CompetenceArea, Course, CourseFormat, Delivery,
    Employee, EmploymentStatus, Gender, HoursEntry, HoursSource, HoursTally, HoursTotal, Meeting, Municipality,
    PlanItem, Priority, Programme, Provider, ProviderKind, Region, Restriction, RestrictionScope, Role, Session,
    SessionStatus, SizeBand, TrainingPlan, User, Verification,
)
from portal.models.catalogue import course_competence_areas
from portal.models.organisations import org_number
from portal.models.plans import plan_item_employees
from portal.models.types import UTCDateTime
from portal.services.accounts import hash_password
from portal.services import tallies
from portal.services.reference import load_reference_data

SCALE_PASSWORD = "kompetenslyft-scale"
MIN_SCALE = 0.002
# Ten national programmes (5 million hours entries) is more than any benchmark here needs.
MAX_SCALE = 10
REFERENCE_TABLES = {Region.__tablename__, Municipality.__tablename__, CompetenceArea.__tablename__}

MEETINGS_PER_SESSION = 3
COURSE_MINUTES = MEETINGS_PER_SESSION * 8 * 60  # three full days, 08:00-16:00
GROUP_SIZE = 10  # the restriction's cap on people meeting in person
PAST_SHARE = 0.6
ATTENDED_SHARE = 0.85
INACTIVE_SHARE = 0.05
CHUNK = 5000

PM_USER_ID = 1
SIZE_BANDS = [(50, SizeBand.SMALL), (250, SizeBand.MEDIUM), (1000, SizeBand.LARGE), (math.inf, SizeBand.VERY_LARGE)]
TRADES = ["Mekaniska", "Verkstad", "Plåt", "Gjuteri", "Automation", "Hydraulik", "Precision", "Svets", "Industri",
          "Komponent", "Maskin", "Smide"]
PROVIDER_KINDS = [
    (ProviderKind.UNIVERSITY, "Högskolan", 10), (ProviderKind.HIGHER_VOCATIONAL, "Yrkeshögskolan", 35),
    (ProviderKind.TEKNIKCOLLEGE, "Teknikcollege", 30), (ProviderKind.VOCATIONAL_CENTRE, "Lärcenter", 20),
    (ProviderKind.OTHER, "Utbildningsbolaget", 5),
]
GENDERS, GENDER_WEIGHTS = list(Gender), [30, 64, 2, 4]
FIRST_NAMES = {Gender.WOMAN: WOMEN, Gender.MAN: MEN, Gender.OTHER: WOMEN + MEN, Gender.NOT_STATED: WOMEN + MEN}
EMPLOYMENT, EMPLOYMENT_WEIGHTS = list(EmploymentStatus), [80, 12, 8]
PRIORITIES, PRIORITY_WEIGHTS = list(Priority), [30, 50, 20]
MANUAL_MINUTES = [30, 45, 60, 90, 120, 180, 240, 360, 480]
REJECTION_REASONS = [reason for _company, _text, reason in REJECTED_TRAINING]
DAY_KEY = 1_000_000  # above any date's ordinal: employee * DAY_KEY + ordinal names one person's day

# How many of each scale 1 builds; every count scales linearly, at least one of each.
SCALE_ONE = {"companies": 1000, "employees": 50_000, "providers": 200, "courses": 2000, "sessions": 10_000,
             "bookings": 250_000, "hours_entries": 500_000, "plan_items": 8000, "postponed": 1000}


class GenerationError(Exception):
    """The requested programme cannot be built; the message says why."""


@dataclass(frozen=True)
class ScaledCounts:
    companies: int  # one training plan and one HR user each
    employees: int
    providers: int  # one provider user each
    courses: int
    sessions: int  # each with MEETINGS_PER_SESSION meetings
    bookings: int
    hours_entries: int
    plan_items: int
    postponed: int

    @classmethod
    def at(cls, scale: float) -> "ScaledCounts":
        return cls(**{name: max(1, math.floor(SCALE_ONE[name] * scale + 0.5)) for name in SCALE_ONE})


@dataclass(slots=True)
class _Course:
    id: int
    provider: int  # index into the providers
    format: CourseFormat
    area_ids: list[int]
    created_at: datetime

    @property
    def in_person(self) -> bool:
        """Whether some of its meetings gather people in one place, which a restriction limits."""
        return self.format != CourseFormat.DIGITAL


@dataclass(slots=True)
class _Meeting:
    id: int
    day: date
    starts_at: datetime
    ends_at: datetime
    municipality_id: int | None
    recorded_at: datetime | None  # when the provider took attendance; past sessions only


@dataclass(slots=True)
class _Session:
    id: int
    course: _Course
    status: SessionStatus
    capacity: int
    meetings: list[_Meeting]
    created_at: datetime
    booking_deadline: datetime
    cancellation_deadline: datetime
    # Until when bookings were made and cancelled: a deadline, the postponement, the cancellation or today.
    cancel_until: datetime | None = None
    booked: int = 0
    waitlisted: int = 0
    cancelled: int = 0
    attendees: list[tuple[int, int]] = field(default_factory=list)  # (booking id, employee id), past sessions

    @property
    def book_until(self) -> datetime:
        return min(self.booking_deadline, self.cancel_until)

    @property
    def restricted(self) -> bool:
        """An open session ahead with in-person meetings: the restriction keeps it to GROUP_SIZE booked."""
        return self.status == SessionStatus.OPEN and self.course.in_person


@dataclass
class _Build:
    """What the steps share while the programme is generated."""

    rng: random.Random
    anchor: date
    counts: ScaledCounts
    municipality_ids: list[int]
    area_ids: dict[str, int]
    period_start: date = field(init=False)
    period_end: date = field(init=False)
    now: datetime = field(init=False)  # the programme's "today": nothing is booked or recorded after it
    restricted_at: datetime = field(init=False)  # the restriction recorded, its sessions postponed
    company_created: list[datetime] = field(default_factory=list)
    roster_sizes: list[int] = field(default_factory=list)
    provider_names: list[str] = field(default_factory=list)
    provider_municipalities: list[int] = field(default_factory=list)
    provider_created: list[datetime] = field(default_factory=list)
    company_of: list[int] = field(default_factory=lambda: [-1])  # company index by employee id
    company_staff: list[list[int]] = field(default_factory=list)  # active employee ids by company index
    active: list[int] = field(default_factory=list)  # only active employees are booked and logged
    courses: list[_Course] = field(default_factory=list)
    plan_needs: dict[tuple[int, int], int] = field(default_factory=dict)  # (company index, area id): plan item id
    sessions: list[_Session] = field(default_factory=list)
    busy: set[int] = field(default_factory=set)  # days (see DAY_KEY) an employee is booked or has logged hours
    attended: bytearray = field(default_factory=bytearray)  # by attendance id - 1

    def __post_init__(self) -> None:
        self.period_start = _years_after(self.anchor, -2)
        self.period_end = _years_after(self.anchor, 1)
        self.now = from_local(self.anchor, time(9, 0))
        self.restricted_at = from_local(self.anchor - timedelta(days=7), time(10, 30))

    def hr_user(self, company: int) -> int:
        return PM_USER_ID + 1 + company

    def provider_user(self, provider: int) -> int:
        return PM_USER_ID + 1 + self.counts.companies + provider


class _Loader:
    """Writes rows straight into tables: COPY on PostgreSQL, executemany in chunks elsewhere."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.written: dict[str, int] = {}

    def write(self, table: Table, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
        if self.connection.dialect.name == "postgresql":
            count = self._copy(table, columns, rows)
        else:
            count = self._insert(table, columns, rows)
        self.written[table.name] = self.written.get(table.name, 0) + count

    def _copy(self, table: Table, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        # COPY bypasses SQLAlchemy's types, so timestamps get the stored form the model's type would give them.
        timestamps = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, UTCDateTime)]
        stored = UTCDateTime().process_bind_param
        count = 0
        with self.connection.connection.dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                row = list(row)
                for i in timestamps:
                    row[i] = stored(row[i], None)
                copy.write_row(row)
                count += 1
        return count

    def _insert(self, table: Table, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        count = 0
        rows = iter(rows)
        while chunk := list(islice(rows, CHUNK)):
            self.connection.execute(table.insert(), [dict(zip(columns, row)) for row in chunk])
            count += len(chunk)
        return count


# The entry points

def holds_programme_data() -> bool:
    """Whether any table beyond the reference data has a row."""
    return any(
        db.session.execute(select(literal(1)).select_from(table).limit(1)).first() is not None
        for table in _programme_tables()
    )


def empty_programme_tables() -> None:
    """Delete every row but the reference data, and restart the ids."""
    tables = _programme_tables()
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{table.name}"' for table in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
        return
    for table in reversed(tables):
        db.session.execute(table.delete())


def build_scaled_programme(scale: float, seed: int, anchor: date) -> dict[str, int]:
    """Fill a database holding only reference data with `scale` times the scale-1 programme, dates laid out
    around `anchor` (a Monday). Returns the rows written per table and the sessions postponed. The caller commits."""
    if scale < MIN_SCALE:
        raise GenerationError(f"The smallest scale is {MIN_SCALE}: two companies, 100 employees, 20 sessions.")
    if scale > MAX_SCALE:
        raise GenerationError(f"The largest scale is {MAX_SCALE}: 10,000 companies, 500,000 employees.")
    load_reference_data()
    build = _Build(
        rng=random.Random(seed), anchor=anchor, counts=ScaledCounts.at(scale),
        municipality_ids=list(db.session.scalars(select(Municipality.id).order_by(Municipality.code))),
        area_ids={code: id for code, id in db.session.execute(select(CompetenceArea.code, CompetenceArea.id))},
    )
    connection = db.session.connection()
    loader = _Loader(connection)
    for step in (_programme, _companies, _providers, _users, _restriction, _employees, _courses, _plans):
        step(build, loader)
    _schedule_sessions(build)
    _allocate_bookings(build)
    for step in (_sessions, _meetings, _bookings, _attendances, _hours_entries):
        step(build, loader)
    # The hours went in without the ORM, so nothing kept their tallies: build them, and the programme's
    # totals (one row per key), all at once.
    tallies.rebuild_all(connection)
    for table in (HoursTally, HoursTotal):
        loader.written[table.__tablename__] = db.session.scalar(select(func.count()).select_from(table))
    if connection.dialect.name == "postgresql":
        _finish_on_postgres(connection, [table for table in _programme_tables() if table.name in loader.written])
    postponed = sum(1 for session in build.sessions if session.status == SessionStatus.POSTPONED)
    return loader.written | {"postponed sessions": postponed}


def _programme_tables() -> list[Table]:
    return [table for table in db.metadata.sorted_tables if table.name not in REFERENCE_TABLES]


def _finish_on_postgres(connection: Connection, tables: list[Table]) -> None:
    """Let the app insert after the explicit ids."""
    for table in tables:
        if "id" in table.c:
            last_id = select(func.max(table.c.id)).scalar_subquery()
            connection.execute(select(func.setval(func.pg_get_serial_sequence(table.name, "id"), last_id)))


def settle_after_load() -> None:
    """Once the load is committed, on PostgreSQL: VACUUM (ANALYZE) every table, as autovacuum would
    in time. The planner gets statistics for the new rows, and the pages are marked all-visible, so
    index-only scans (the report reads its tallies that way) need not visit the table: measured on a
    freshly loaded scale 1 without it, the report took 512 ms p50 instead of about 300."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE)"))


# Organisations and people

def _programme(build: _Build, loader: _Loader) -> None:
    columns = ("id", "name", "funder", "period_start", "period_end", "target_individuals", "target_hours",
               "notice_days", "auto_confirm_reschedule", "retention_years")
    employees = build.counts.employees
    loader.write(Programme.__table__, columns, [(
        1, "Ett kompetenslyft för Sverige (syntetiskt)", "Europeiska socialfonden", build.period_start,
        build.period_end, math.ceil(employees * 0.6), employees * 24, 14, False, None,
    )])


def _companies(build: _Build, loader: _Loader) -> None:
    rng, count = build.rng, build.counts.companies
    # Rosters vary a lot in size, as companies do: a few large ones, many small.
    weights = [rng.lognormvariate(0, 1) for _ in range(count)]
    build.roster_sizes = [1 + share for share in _apportion(build.counts.employees - count, weights)]
    columns = ("id", "name", "org_number", "municipality_id", "size_band", "calendar_token", "created_at")
    rows = []
    for company, roster in enumerate(build.roster_sizes):
        created = _joined(build, rng)
        build.company_created.append(created)
        staff = roster * rng.uniform(1.5, 4)  # not everyone at a company takes part
        band = next(band for limit, band in SIZE_BANDS if staff < limit)
        name = f"{rng.choice(SURNAMES)}s {rng.choice(TRADES)} AB"
        rows.append((company + 1, name, _org_number(company + 1), rng.choice(build.municipality_ids), band.value,
                     None, created))
    loader.write(Company.__table__, columns, rows)


def _providers(build: _Build, loader: _Loader) -> None:
    rng = build.rng
    kinds, prefixes, weights = zip(*PROVIDER_KINDS)
    columns = ("id", "name", "kind", "municipality_id", "created_at")
    rows = []
    for provider in range(build.counts.providers):
        k = rng.choices(range(len(kinds)), weights)[0]
        municipality_id = rng.choice(build.municipality_ids)
        name = f"{prefixes[k]} {provider + 1:03d}"
        created = _joined(build, rng)
        build.provider_names.append(name)
        build.provider_municipalities.append(municipality_id)
        build.provider_created.append(created)
        rows.append((provider + 1, name, kinds[k].value, municipality_id, created))
    loader.write(Provider.__table__, columns, rows)


def _users(build: _Build, loader: _Loader) -> None:
    """The programme office, one HR user per company, one user per provider: all with the same password."""
    rng = build.rng
    password_hash = hash_password(SCALE_PASSWORD)  # once: hashing is slow on purpose

    def user(id: int, email: str, role: Role, created: datetime, company_id=None, provider_id=None) -> tuple:
        name = f"{rng.choice(WOMEN + MEN)} {rng.choice(SURNAMES)}"
        return (id, email, name, password_hash, role.value, company_id, provider_id, True, 1, created, None)

    rows = [user(PM_USER_ID, "pm@scale.example", Role.PM, from_local(build.period_start, time(8, 0)))]
    rows += [user(build.hr_user(c), f"hr{c + 1}@scale.example", Role.HR, created, company_id=c + 1)
             for c, created in enumerate(build.company_created)]
    rows += [user(build.provider_user(p), f"provider{p + 1}@scale.example", Role.PROVIDER, created, provider_id=p + 1)
             for p, created in enumerate(build.provider_created)]
    columns = ("id", "email", "name", "password_hash", "role", "company_id", "provider_id", "is_active",
               "session_version", "created_at", "last_login_at")
    loader.write(User.__table__, columns, rows)


def _restriction(build: _Build, loader: _Loader) -> None:
    columns = ("id", "scope", "in_force_from", "lifted_on", "max_group_size", "description", "created_by_id",
               "created_at")
    loader.write(Restriction.__table__, columns, [(
        1, RestrictionScope.COUNTRY.value, build.restricted_at.date(), None, GROUP_SIZE,
        f"Folkhälsomyndighetens råd: högst {GROUP_SIZE} deltagare vid fysiska sammankomster i hela landet.",
        PM_USER_ID, build.restricted_at,
    )])


def _employees(build: _Build, loader: _Loader) -> None:
    columns = ("id", "company_id", "first_name", "last_name", "email", "job_role", "employment_status", "gender",
               "birth_year", "is_active", "erased_at", "created_at")
    loader.write(Employee.__table__, columns, _employee_rows(build))


def _employee_rows(build: _Build) -> Iterator[tuple]:
    """Each company's roster; notes where each person works and who is still active."""
    rng = build.rng
    employee_id = 0
    for company, roster in enumerate(build.roster_sizes):
        domain = f"foretag{company + 1}.example"
        addresses: dict[str, int] = {}
        staff = []
        for order in range(roster):
            employee_id += 1
            gender = rng.choices(GENDERS, GENDER_WEIGHTS)[0]
            first, last = rng.choice(FIRST_NAMES[gender]), rng.choice(SURNAMES)
            email = _address(first, last, domain, addresses) if rng.random() < 0.9 else None
            birth_year = rng.randint(1960, 2004) if rng.random() < 0.92 else None
            active = rng.random() >= INACTIVE_SHARE
            build.company_of.append(company)
            if active:
                staff.append(employee_id)
                build.active.append(employee_id)
            yield (employee_id, company + 1, first, last, email, rng.choice(JOB_ROLES),
                   rng.choices(EMPLOYMENT, EMPLOYMENT_WEIGHTS)[0].value, gender.value, birth_year, active, None,
                   build.company_created[company] + timedelta(days=1 + order % 7, minutes=order))
        build.company_staff.append(staff)


def _address(first: str, last: str, domain: str, taken: dict[str, int]) -> str:
    """first.last@domain, numbered from the second person of that name at the company."""
    local = f"{_ascii(first)}.{_ascii(last)}"
    taken[local] = taken.get(local, 0) + 1
    return f"{local}{taken[local] if taken[local] > 1 else ''}@{domain}"


@cache
def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.lower())
    return "".join(c for c in folded if not unicodedata.combining(c)).replace(" ", "")


# The catalogue and the plans

def _courses(build: _Build, loader: _Loader) -> None:
    """The demo's course list over and over, spread evenly over the providers."""
    rng, count = build.rng, build.counts.courses
    rows = []
    for index in range(count):
        _p, title, areas, fmt, _meetings, _slot, level, language, certified, niche, description = (
            COURSES[index % len(COURSES)]
        )
        provider = index * build.counts.providers // count
        course = _Course(id=index + 1, provider=provider, format=FORMATS[fmt],
                         area_ids=[build.area_ids[code] for code in areas.split()],
                         created_at=build.provider_created[provider] + timedelta(days=rng.randint(1, 10)))
        build.courses.append(course)
        rows.append((course.id, provider + 1, title, description, course.format.value,
                     COURSE_MINUTES, LEVELS[level].value, language, certified, niche, None,
                     course.created_at))
    columns = ("id", "provider_id", "title", "description", "format", "nominal_minutes", "level", "language",
               "certified", "shared_niche", "retired_at", "created_at")
    loader.write(Course.__table__, columns, rows)
    links = [(course.id, area_id) for course in build.courses for area_id in course.area_ids]
    loader.write(course_competence_areas, ("course_id", "competence_area_id"), links)


def _plans(build: _Build, loader: _Loader) -> None:
    """A plan per company over the programme period, its needs spread evenly over the plans."""
    rng, companies = build.rng, build.counts.companies
    title = f"Utbildningsplan {build.period_start.year}–{build.period_end.year}"
    plans = [(c + 1, c + 1, title, build.period_start, build.period_end,
              build.company_created[c] + timedelta(days=rng.randint(7, 20))) for c in range(companies)]
    loader.write(TrainingPlan.__table__, ("id", "company_id", "title", "period_start", "period_end", "created_at"),
                 plans)
    named: list[tuple[int, int]] = []
    columns = ("id", "plan_id", "competence_area_id", "course_id", "head_count", "planned_minutes", "target_year",
               "target_quarter", "priority", "note")
    loader.write(PlanItem.__table__, columns, _plan_item_rows(build, named))
    loader.write(plan_item_employees, ("plan_item_id", "employee_id"), named)


def _plan_item_rows(build: _Build, named: list[tuple[int, int]]) -> Iterator[tuple]:
    """Needs in different areas, some met by a chosen course, for named employees (added to `named`) or a
    head count; notes each company's first need per area, which bookings then serve."""
    rng, companies, items = build.rng, build.counts.companies, build.counts.plan_items
    courses_by_area: dict[int, list[_Course]] = {}
    for course in build.courses:
        for area_id in course.area_ids:
            courses_by_area.setdefault(area_id, []).append(course)
    quarters = _quarters(build.period_start, build.period_end)
    codes = sorted(build.area_ids)
    for company in range(companies):
        first, last = company * items // companies, (company + 1) * items // companies
        areas = rng.sample(codes, last - first) if last - first <= len(codes) else rng.choices(codes, k=last - first)
        staff = build.company_staff[company]
        for item_id, code in zip(range(first + 1, last + 1), areas):
            area_id = build.area_ids[code]
            build.plan_needs.setdefault((company, area_id), item_id)
            courses = courses_by_area.get(area_id)
            course = rng.choice(courses) if courses and rng.random() < 0.5 else None
            named_ones = len(staff) >= 2 and rng.random() < 0.4
            people = rng.sample(staff, min(len(staff), rng.randint(2, 5))) if named_ones else []
            named.extend((item_id, employee_id) for employee_id in people)
            head_count = None if people else rng.randint(1, 12)
            minutes_each = COURSE_MINUTES if course else rng.choice([4, 8, 16, 24]) * 60
            year, quarter = rng.choice(quarters)
            yield (item_id, company + 1, area_id, course.id if course else None, head_count,
                   minutes_each * (len(people) or head_count), year, quarter,
                   rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0].value, AREA_NOTES[code])


def _quarters(start: date, end: date) -> list[tuple[int, int]]:
    quarters = []
    year, quarter = start.year, (start.month - 1) // 3 + 1
    while (year, quarter) <= (end.year, (end.month - 1) // 3 + 1):
        quarters.append((year, quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return quarters


# Sessions and their meetings

def _schedule_sessions(build: _Build) -> None:
    """Dates and statuses: 60% run in the past two years, the rest in the coming one. Meetings fall on the
    same working day three weeks running; past sessions ended before the restriction came."""
    rng, count = build.rng, build.counts.sessions
    order = list(range(count))
    rng.shuffle(order)
    past = set(order[: math.floor(count * PAST_SHARE + 0.5)])
    for index in range(count):
        course = build.courses[index * len(build.courses) // count]
        in_past = index in past
        weeks = rng.randint(-96, -5) if in_past else rng.randint(1, 48)
        first_day = build.anchor + timedelta(weeks=weeks, days=rng.randint(0, 4))
        days = [_working_day(first_day + timedelta(weeks=k)) for k in range(MEETINGS_PER_SESSION)]
        session = _new_session(build, index + 1, course, days, in_past)
        build.sessions.append(session)
    _settle_future_statuses(build)


def _new_session(build: _Build, session_id: int, course: _Course, days: list[date], in_past: bool) -> _Session:
    rng = build.rng
    place = build.provider_municipalities[course.provider]
    meetings = []
    for k, day in enumerate(days):
        starts_at, ends_at = from_local(day, time(8, 0)), from_local(day, time(16, 0))
        # A hybrid course meets in person except in the middle meeting, which is online.
        in_person = course.format == CourseFormat.IN_PERSON or (course.format == CourseFormat.HYBRID and k != 1)
        recorded_at = ends_at + timedelta(minutes=rng.randint(10, 240)) if in_past else None
        meetings.append(_Meeting(
            id=(session_id - 1) * MEETINGS_PER_SESSION + k + 1, day=day, starts_at=starts_at, ends_at=ends_at,
            municipality_id=place if in_person else None, recorded_at=recorded_at,
        ))
    first = meetings[0].starts_at
    created = first - timedelta(minutes=rng.randint(40 * 1440, 120 * 1440))
    if not in_past:
        created = min(created, build.restricted_at - timedelta(minutes=rng.randint(7 * 1440, 90 * 1440)))
    created = max(created, course.created_at + timedelta(days=14))
    session = _Session(
        id=session_id, course=course, status=SessionStatus.COMPLETED if in_past else SessionStatus.OPEN,
        capacity=rng.randint(20, 40), meetings=meetings, created_at=created,
        booking_deadline=first - timedelta(days=7), cancellation_deadline=first - timedelta(days=3),
    )
    if in_past:
        session.cancel_until = session.cancellation_deadline
    return session


def _settle_future_statuses(build: _Build) -> None:
    """The restriction postponed some in-person sessions ahead; a few were cancelled; far ones are still planned."""
    rng = build.rng
    future = [s for s in build.sessions if s.status == SessionStatus.OPEN]
    in_person = [s for s in future if s.course.in_person]
    if len(in_person) < build.counts.postponed:
        raise GenerationError("Too few in-person sessions ahead to postpone; choose a larger scale.")
    postponed = {s.id for s in rng.sample(in_person, build.counts.postponed)}
    far = build.anchor + timedelta(weeks=36)
    for session in future:
        if session.id in postponed:
            session.status = SessionStatus.POSTPONED
            session.cancel_until = min(session.cancellation_deadline, build.restricted_at)
        elif rng.random() < 0.03:
            session.status = SessionStatus.CANCELLED
            session.cancel_until = build.now - timedelta(minutes=rng.randint(1440, 6 * 1440))
        elif session.meetings[0].day >= far and rng.random() < 0.5:
            session.status = SessionStatus.PLANNED  # published to plan for, not yet bookable
        else:
            session.cancel_until = min(session.cancellation_deadline, build.now)


def _sessions(build: _Build, loader: _Loader) -> None:
    columns = ("id", "course_id", "status", "capacity", "seats_taken", "company_seat_cap", "seat_cap_released_at",
               "min_participants", "booking_deadline", "cancellation_deadline", "postponed_by_id", "postponed_at",
               "attendance_purged_at", "note", "ical_sequence", "starts_at", "ends_at", "created_at", "updated_at")
    loader.write(Session.__table__, columns, (_session_row(build, session) for session in build.sessions))


def _session_row(build: _Build, session: _Session) -> tuple:
    postponed = session.status == SessionStatus.POSTPONED
    updated = {
        SessionStatus.COMPLETED: session.meetings[-1].ends_at + timedelta(hours=2),
        SessionStatus.POSTPONED: build.restricted_at,
        SessionStatus.CANCELLED: session.cancel_until,
    }.get(session.status, session.created_at)
    note = f"Uppskjutet: högst {GROUP_SIZE} deltagare vid fysiska sammankomster." if postponed else ""
    ical_sequence = 1 if session.status in (SessionStatus.POSTPONED, SessionStatus.CANCELLED) else 0
    return (session.id, session.course.id, session.status.value, session.capacity, session.booked, None, None,
            build.rng.randint(4, 8), session.booking_deadline, session.cancellation_deadline, 1 if postponed else None,
            build.restricted_at if postponed else None, None, note, ical_sequence, session.meetings[0].starts_at,
            session.meetings[-1].ends_at, session.created_at, updated)


def _meetings(build: _Build, loader: _Loader) -> None:
    columns = ("id", "session_id", "starts_at", "ends_at", "venue", "municipality_id", "online_url")
    loader.write(Meeting.__table__, columns, _meeting_rows(build))


def _meeting_rows(build: _Build) -> Iterator[tuple]:
    for session in build.sessions:
        course = session.course
        venue = f"{build.provider_names[course.provider]}, sal {100 + course.id % 50}"
        for meeting in session.meetings:
            online = meeting.municipality_id is None
            yield (meeting.id, session.id, meeting.starts_at, meeting.ends_at, "" if online else venue,
                   meeting.municipality_id, f"https://meet.example.se/s{session.id}/m{meeting.id}" if online else None)


# Bookings

def _allocate_bookings(build: _Build) -> None:
    """How many bookings each session holds, adding up to the scaled count exactly, and their statuses."""
    rng = build.rng
    least = [GROUP_SIZE + 4 if s.status == SessionStatus.POSTPONED else 0 for s in build.sessions]
    weights = [_booking_weight(rng, s) for s in build.sessions]
    spare = build.counts.bookings - sum(least)
    if spare < 0:
        raise GenerationError("Too few bookings for the postponed sessions; choose a larger scale.")
    for session, floor, share in zip(build.sessions, least, _apportion(spare, weights)):
        _split_bookings(rng, session, floor + share)


def _booking_weight(rng: random.Random, session: _Session) -> float:
    if session.status == SessionStatus.PLANNED:
        return 0
    if session.restricted:
        return rng.uniform(6, 14)
    if session.status == SessionStatus.CANCELLED:
        return session.capacity * rng.uniform(0.3, 0.7)
    return session.capacity * rng.uniform(0.55, 1.15)


def _split_bookings(rng: random.Random, session: _Session, count: int) -> None:
    """Booked up to the seats (or the restriction's group size), a waitlist only on a full session ahead,
    and the rest cancelled: a cancelled session's bookings all are."""
    if session.status == SessionStatus.CANCELLED:
        session.cancelled = count
        return
    must_book = GROUP_SIZE + 1 if session.status == SessionStatus.POSTPONED else 0
    cancelled = min(round(count * rng.uniform(0, 0.16)), count - must_book)
    live = count - cancelled
    session.booked = min(live, GROUP_SIZE if session.restricted else session.capacity)
    full_ahead = session.booked == session.capacity and session.status != SessionStatus.COMPLETED
    session.waitlisted = min(live - session.booked, 6) if full_ahead else 0
    session.cancelled = count - session.booked - session.waitlisted


def _bookings(build: _Build, loader: _Loader) -> None:
    columns = ("id", "session_id", "employee_id", "company_id", "plan_item_id", "status", "requested_at",
               "booked_by_id", "cancelled_at", "cancelled_by_id")
    loader.write(Booking.__table__, columns, _booking_rows(build))


def _booking_rows(build: _Build) -> Iterator[tuple]:
    """Each session's bookings in the order they were requested; the waitlist asked last."""
    rng = build.rng
    booking_id = 0
    for session in build.sessions:
        booked, others = _choose_people(build, session)
        waitlisted, cancelled = others[: session.waitlisted], others[session.waitlisted:]
        entries = [(BookingStatus.BOOKED, e) for e in booked] + [(BookingStatus.CANCELLED, e) for e in cancelled]
        rng.shuffle(entries)
        entries += [(BookingStatus.WAITLISTED, e) for e in waitlisted]
        times = sorted(_office_moment(rng, session.created_at, session.book_until) for _ in entries)
        for requested, (status, employee) in zip(times, entries):
            booking_id += 1
            company = build.company_of[employee]
            hr = build.hr_user(company)
            cancelled_at = cancelled_by = plan_item = None
            if status == BookingStatus.CANCELLED:
                cancelled_at, cancelled_by = _cancellation(build, session, requested, hr)
            elif rng.random() < 0.5:
                plan_item = next((build.plan_needs[company, a] for a in session.course.area_ids
                                  if (company, a) in build.plan_needs), None)
            if status == BookingStatus.BOOKED and session.status == SessionStatus.COMPLETED:
                session.attendees.append((booking_id, employee))
            yield (booking_id, session.id, employee, company + 1, plan_item, status.value, requested, hr,
                   cancelled_at, cancelled_by)


def _cancellation(build: _Build, session: _Session, requested: datetime, hr: int) -> tuple[datetime, int]:
    """When and by whom: the provider cancelling the session, or HR before the cancellation deadline."""
    if session.status == SessionStatus.CANCELLED:
        return session.cancel_until, build.provider_user(session.course.provider)
    return _office_moment(build.rng, requested, session.cancel_until), hr


def _choose_people(build: _Build, session: _Session) -> tuple[list[int], list[int]]:
    """Distinct employees for a session: the booked free on its days, then the waitlisted and cancelled.
    Most come from a few companies, as HR books colleagues together."""
    rng = build.rng
    companies = [build.company_of[rng.choice(build.active)] for _ in range(rng.randint(1, 4))]
    days = [meeting.day.toordinal() for meeting in session.meetings]
    wanted = session.booked + session.waitlisted + session.cancelled
    chosen: set[int] = set()
    booked: list[int] = []
    others: list[int] = []
    attempts = 100 * wanted + 1000
    while len(booked) + len(others) < wanted:
        attempts -= 1
        if attempts < 0:
            raise GenerationError(f"Too few employees free for session {session.id}; choose a larger scale.")
        employee = _candidate(build, companies)
        if employee in chosen:
            continue
        if len(booked) < session.booked:
            keys = [employee * DAY_KEY + day for day in days]
            if any(key in build.busy for key in keys):
                continue  # booked elsewhere on one of the days
            build.busy.update(keys)
            booked.append(employee)
        else:
            others.append(employee)
        chosen.add(employee)
    return booked, others


def _candidate(build: _Build, companies: list[int]) -> int:
    rng = build.rng
    if rng.random() < 0.8:
        staff = build.company_staff[rng.choice(companies)]
        if staff:
            return rng.choice(staff)
    return rng.choice(build.active)


# Attendance and hours

def _attendances(build: _Build, loader: _Loader) -> None:
    columns = ("id", "booking_id", "meeting_id", "status", "recorded_by_id", "recorded_at")
    loader.write(Attendance.__table__, columns, _attendance_rows(build))


def _attendance_rows(build: _Build) -> Iterator[tuple]:
    """Every booked employee of a completed session, at every meeting; notes who attended."""
    rng = build.rng
    attendance_id = 0
    for session in build.sessions:
        recorder = build.provider_user(session.course.provider)
        for booking_id, _employee in session.attendees:
            for meeting in session.meetings:
                attendance_id += 1
                attended = rng.random() < ATTENDED_SHARE
                build.attended.append(attended)
                status = AttendanceStatus.ATTENDED if attended else AttendanceStatus.ABSENT
                yield (attendance_id, booking_id, meeting.id, status.value, recorder, meeting.recorded_at)


def _hours_entries(build: _Build, loader: _Loader) -> None:
    """An entry per attended meeting, then manual entries up to the scaled count."""
    columns = ("id", "employee_id", "company_id", "entry_date", "minutes", "source", "attendance_id", "session_id",
               "course_id",
               "delivery", "description", "note", "verification", "verified_by_id", "verified_at",
               "rejection_reason", "created_by_id", "created_at")
    attended = sum(build.attended)
    manual = max(0, build.counts.hours_entries - attended)
    loader.write(HoursEntry.__table__, columns, _attendance_hours_rows(build))
    loader.write(HoursEntry.__table__, columns, _manual_hours_rows(build, attended + 1, manual))


def _attendance_hours_rows(build: _Build) -> Iterator[tuple]:
    """The provider's attendance record is the verification of these hours."""
    attendance_id = hours_id = 0
    for session in build.sessions:
        recorder = build.provider_user(session.course.provider)
        for _booking_id, employee in session.attendees:
            company_id = build.company_of[employee] + 1
            for meeting in session.meetings:
                attendance_id += 1
                if not build.attended[attendance_id - 1]:
                    continue
                hours_id += 1
                minutes = int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)
                delivery = Delivery.DIGITAL if meeting.municipality_id is None else Delivery.IN_PERSON
                yield (hours_id, employee, company_id, meeting.day, minutes, HoursSource.ATTENDANCE.value, attendance_id,
                       session.id, session.course.id, delivery.value, "", "", Verification.VERIFIED.value, recorder,
                       meeting.recorded_at, "", recorder, meeting.recorded_at)


def _manual_hours_rows(build: _Build, first_id: int, count: int) -> Iterator[tuple]:
    """Self-paced and internal training HR logged, one entry on a day a person has nothing else, so no day
    exceeds the 1,440 minutes it has; the programme office has verified most, the recent ones not yet."""
    rng = build.rng
    days = _working_days(build.period_start + timedelta(days=30), build.anchor)
    for hours_id in range(first_id, first_id + count):
        employee, day = _free_day(build, days)
        company = build.company_of[employee]
        hr = build.hr_user(company)
        created = datetime.combine(day, time(13, 0), tzinfo=timezone.utc) + timedelta(minutes=rng.randint(0, 2880))
        verified_at = created + timedelta(minutes=rng.randint(1440, 10 * 1440))
        verification, reason = _manual_verification(rng, verified_at < build.now)
        decided = verification != Verification.PENDING
        delivery = Delivery.DIGITAL if rng.random() < 0.75 else Delivery.IN_PERSON
        yield (hours_id, employee, company + 1, day, rng.choice(MANUAL_MINUTES), HoursSource.MANUAL.value, None, None, None,
               delivery.value, rng.choice(MANUAL_TRAINING), "", verification.value, PM_USER_ID if decided else None,
               verified_at if decided else None, reason, hr, created)


def _manual_verification(rng: random.Random, decidable: bool) -> tuple[Verification, str]:
    draw = rng.random()
    if not decidable or draw < 0.06:
        return Verification.PENDING, ""
    if draw < 0.11:
        return Verification.REJECTED, rng.choice(REJECTION_REASONS)
    return Verification.VERIFIED, ""


def _free_day(build: _Build, days: list[date]) -> tuple[int, date]:
    """An active employee and a past working day on which they were neither booked nor logged."""
    rng = build.rng
    while True:
        employee, day = rng.choice(build.active), rng.choice(days)
        key = employee * DAY_KEY + day.toordinal()
        if key not in build.busy:
            build.busy.add(key)
            return employee, day


# Dates and numbers

def _apportion(total: int, weights: list[float]) -> list[int]:
    """Whole numbers in proportion to the weights that add up to `total` (largest remainders round up)."""
    whole = sum(weights)
    if whole <= 0:
        raise GenerationError("Nothing to spread the rows over; choose a larger scale.")
    shares = [total * weight / whole for weight in weights]
    counts = [math.floor(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _joined(build: _Build, rng: random.Random) -> datetime:
    """When an organisation joined: in the programme's first two weeks, in office hours."""
    day = build.period_start + timedelta(days=rng.randint(0, 13))
    return from_local(day, time(9, 0)) + timedelta(minutes=rng.randint(0, 420))


def _office_moment(rng: random.Random, after: datetime, before: datetime) -> datetime:
    """A moment between two instants: in office hours on a weekday strictly between them when there is one."""
    days = (before - after).days
    if days < 2:
        return after + timedelta(seconds=rng.randrange(max(1, int((before - after).total_seconds()))))
    day = after.date() + timedelta(days=rng.randint(1, days - 1))
    if day.weekday() >= 5 and day - timedelta(days=day.weekday() - 4) > after.date():
        day -= timedelta(days=day.weekday() - 4)  # the Friday before
    # 07:00-16:00 UTC is office hours in Sweden, summer or winter.
    return datetime.combine(day, time(7, 0), tzinfo=timezone.utc) + timedelta(minutes=rng.randrange(540))


def _org_number(serial: int) -> str:
    """A valid organisation number, unique per serial: 556 (aktiebolag) and six digits."""
    return org_number(f"556{serial:06d}")


def _is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in SWEDISH_HOLIDAYS


def _working_day(day: date) -> date:
    """The day itself, or the next working day after it."""
    while not _is_working_day(day):
        day += timedelta(days=1)
    return day


def _working_days(first: date, before: date) -> list[date]:
    days = (first + timedelta(days=n) for n in range((before - first).days))
    return [day for day in days if _is_working_day(day)]


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
