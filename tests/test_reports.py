"""Programme reports: every figure checked against counts made in Python from the raw rows, over random
programmes; the exports read back; HR limited to its company; providers refused; bounded queries; bad filters."""
import csv
import io
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Attendance, AttendanceStatus, Booking, BookingStatus, CompetenceArea, Company, Course, CourseFormat,
    CourseLevel, Delivery, Employee, EmploymentStatus, Gender, HoursEntry, HoursSource, Meeting, Municipality,
    PlanItem, Programme, Provider, ProviderKind, Region, Role, Session, SessionStatus, SizeBand, TrainingPlan,
    Verification,
)
from portal.services import report_export, reports
from portal.services.reports import ReportFilters
from tests import factories
from tests.conftest import count_queries, csrf_token, sign_in

@pytest.fixture(autouse=True)
def _english(app, ctx):
    """Service messages are pinned in their English source text; the Swedish is the catalogue's job."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        yield


FIRST_DAY = date(2024, 1, 1)
DAYS = 500  # the random programmes' entries fall within about sixteen months


# A random programme, and what it holds as plain Python values.


@dataclass
class Entry:
    employee: Employee
    company: Company
    region_id: int
    entry_date: date
    minutes: int
    source: HoursSource
    verification: Verification
    delivery: Delivery
    course: Course | None
    area_ids: list[int]
    session_id: int | None

    @property
    def counted(self) -> bool:
        return self.source == HoursSource.ATTENDANCE or self.verification == Verification.VERIFIED

    @property
    def pending(self) -> bool:
        return self.source == HoursSource.MANUAL and self.verification == Verification.PENDING


@dataclass
class World:
    companies: list[Company] = field(default_factory=list)
    employees: list[Employee] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    region_ids: list[int] = field(default_factory=list)


def regions_with_a_municipality(count: int) -> list[Municipality]:
    """One municipality in each of `count` regions."""
    found: dict[int, Municipality] = {}
    for municipality in db.session.scalars(select(Municipality).order_by(Municipality.id)):
        found.setdefault(municipality.region_id, municipality)
    return list(found.values())[:count]


def build_world(seed: int, scale: int = 1, world: World | None = None) -> World:
    """Companies in different regions, employees of every kind, courses with one or two areas, sessions
    with meetings in person and online, attended and absent meetings, manual hours in every state."""
    rng = random.Random(seed)
    world = world or World()
    places = regions_with_a_municipality(3)
    world.region_ids = sorted({p.region_id for p in places} | set(world.region_ids))
    areas = list(db.session.scalars(select(CompetenceArea).order_by(CompetenceArea.id)))

    serial = seed * 1000 + len(world.companies)
    companies = [
        Company(name=f"Verkstad {serial + i} AB", org_number=factories.org_number(serial + i),
                municipality=rng.choice(places), size_band=SizeBand.MEDIUM)
        for i in range(2 + scale)
    ]
    world.companies += companies
    employees = [
        Employee(
            company=company, first_name=rng.choice(["Åsa", "Erik", "Mona", "Ali"]), last_name=f"Person {seed}-{n}-{i}",
            gender=rng.choice(list(Gender)), employment_status=rng.choice(list(EmploymentStatus)),
            birth_year=rng.choice([None, 1955, 1964, 1965, 1974, 1984, 1985, 1994, 1995, 2000]),
        )
        for n, company in enumerate(companies) for i in range(rng.randint(2, 3 + scale))
    ]
    world.employees += employees
    providers = [Provider(name=f"Anordnare {serial}-{i}", kind=ProviderKind.UNIVERSITY, municipality=places[0])
                 for i in range(2)]
    courses = [
        Course(provider=provider, title=f"Kurs {serial}-{i}", format=rng.choice(list(CourseFormat)), nominal_minutes=480,
               level=CourseLevel.INTRODUCTORY, competence_areas=rng.sample(areas, rng.randint(1, 2)))
        for provider in providers for i in range(2)
    ]
    db.session.add_all([*companies, *employees, *providers, *courses])
    db.session.flush()

    for course in courses:
        for _ in range(rng.randint(1, 1 + scale)):
            start = FIRST_DAY + timedelta(days=rng.randrange(DAYS - 30))
            session = Session(course=course, status=SessionStatus.COMPLETED, capacity=30, booking_deadline=_at(start),
                              cancellation_deadline=_at(start))
            for m in range(rng.randint(1, 3)):
                day = start + timedelta(days=7 * m)
                in_person = rng.random() < 0.6
                session.meetings.append(Meeting(
                    starts_at=_at(day, 8), ends_at=_at(day, 8) + timedelta(minutes=rng.choice([90, 180, 240, 480])),
                    venue="Sal 1" if in_person else "", municipality=places[0] if in_person else None,
                    online_url=None if in_person else "https://meet.example/x",
                ))
            db.session.add(session)
            db.session.flush()
            for employee in rng.sample(employees, rng.randint(1, min(6, len(employees)))):
                booking = Booking(session=session, employee=employee, company=employee.company,
                                  status=BookingStatus.BOOKED)
                db.session.add(booking)
                for meeting in session.meetings:
                    attended = rng.random() < 0.8
                    attendance = Attendance(booking=booking, meeting=meeting,
                                            status=AttendanceStatus.ATTENDED if attended else AttendanceStatus.ABSENT)
                    db.session.add(attendance)
                    if attended:
                        db.session.flush()
                        _hours(world, employee, meeting.starts_at.date(), meeting.minutes, HoursSource.ATTENDANCE,
                               # attendance counts whatever its verification says
                               rng.choice(list(Verification)),
                               Delivery.IN_PERSON if meeting.municipality_id else Delivery.DIGITAL,
                               course, session.id, attendance)

    for _ in range(rng.randint(5, 8) * scale):
        employee = rng.choice(employees)
        _hours(world, employee, FIRST_DAY + timedelta(days=rng.randrange(DAYS)), rng.choice([30, 60, 90, 100, 480]),
               HoursSource.MANUAL, rng.choice(list(Verification)), rng.choice(list(Delivery)),
               rng.choice([None, *courses]), None, None)
    db.session.commit()
    return world


def _at(day: date, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.utc)


def _hours(world, employee, day, minutes, source, verification, delivery, course, session_id, attendance):
    db.session.add(HoursEntry(employee=employee, company=employee.company, entry_date=day, minutes=minutes, source=source,
                              verification=verification, delivery=delivery, course=course, attendance=attendance,
                              session_id=session_id if attendance is not None else None))
    world.entries.append(Entry(
        employee, employee.company, employee.company.municipality.region_id, day, minutes, source, verification,
        delivery, course, [a.id for a in course.competence_areas] if course else [], session_id,
    ))


# What the report should say, counted in Python.


def age_band(entry: Entry) -> str:
    if entry.employee.birth_year is None:
        return "not_stated"
    age = entry.entry_date.year - entry.employee.birth_year
    return "under_30" if age < 30 else "60_over" if age >= 60 else f"{age // 10 * 10}_{age // 10 * 10 + 9}"


KEYS = {
    "company": lambda e: [e.company.id],
    "provider": lambda e: [e.course.provider_id if e.course else None],
    "course": lambda e: [e.course.id if e.course else None],
    "area": lambda e: e.area_ids or [None],
    "delivery": lambda e: [str(e.delivery)],
    "gender": lambda e: [str(e.employee.gender)],
    "status": lambda e: [str(e.employee.employment_status)],
    "age": lambda e: [age_band(e)],
    "month": lambda e: [f"{e.entry_date:%Y-%m}"],
}
FIXED = {
    "delivery": [str(d) for d in Delivery], "gender": [str(g) for g in Gender],
    "status": [str(s) for s in EmploymentStatus],
    "age": ["under_30", "30_39", "40_49", "50_59", "60_over", "not_stated"],
}


def within(entry: Entry, filters: ReportFilters) -> bool:
    return (
        (filters.period_from is None or entry.entry_date >= filters.period_from)
        and (filters.period_to is None or entry.entry_date <= filters.period_to)
        and (filters.region_id is None or entry.region_id == filters.region_id)
        and (filters.company_id is None or entry.company.id == filters.company_id)
    )


def figures(entries: list[Entry]) -> tuple[int, int]:
    return len({e.employee.id for e in entries}), sum(e.minutes for e in entries)


def expected_report(world: World, filters: ReportFilters) -> dict:
    counted = [e for e in world.entries if e.counted and within(e, filters)]
    pending = [e for e in world.entries if e.pending and within(e, filters)]
    expected = {
        "headline": (*figures(counted), len({e.session_id for e in counted if e.session_id is not None}),
                     sum(e.minutes for e in pending), len(pending)),
    }
    for name, keys in KEYS.items():
        groups = defaultdict(list)
        for entry in counted:
            for key in keys(entry):
                groups[key].append(entry)
        found = {key: figures(group) for key, group in groups.items()}
        expected[name] = {key: found.get(key, (0, 0)) for key in FIXED[name]} if name in FIXED else found
    return expected


def expected_participants(world: World, filters: ReportFilters) -> dict[int, tuple[int, int]]:
    people: dict[int, list[Entry]] = defaultdict(list)
    for entry in world.entries:
        if entry.counted and within(entry, filters):
            people[entry.employee.id].append(entry)
    return {
        person: (sum(e.minutes for e in entries), len({e.session_id for e in entries if e.session_id is not None}))
        for person, entries in people.items()
    }


def actual(report: reports.Report) -> dict:
    result = {"headline": (report.individuals, report.minutes, report.sessions, report.pending_minutes,
                           report.pending_entries)}
    for breakdown in report.breakdowns:
        rows = {row.key: (row.individuals, row.minutes) for row in breakdown.rows}
        assert len(rows) == len(breakdown.rows), f"{breakdown.name}: a key appears twice"
        if breakdown.name == "month":
            # Months without hours show as empty rows between the first and the last.
            assert [row.key for row in breakdown.rows] == sorted(rows)
            rows = {key: value for key, value in rows.items() if value != (0, 0)}
        result[breakdown.name] = rows
    return result


def filter_cases(world: World, rng: random.Random) -> list[ReportFilters]:
    start = FIRST_DAY + timedelta(days=rng.randrange(DAYS // 2))
    end = start + timedelta(days=rng.randrange(30, DAYS // 2))
    region = rng.choice(world.region_ids)
    chosen = rng.choice(world.companies)
    company = chosen.id
    its_region = chosen.municipality.region_id
    elsewhere = next(r for r in world.region_ids if r != its_region)
    return [
        ReportFilters(region_id=its_region, company_id=company),  # both filters apply, together
        ReportFilters(region_id=elsewhere, company_id=company),  # a company outside the region: nothing
        ReportFilters(),
        ReportFilters(period_from=start),
        ReportFilters(period_to=end),
        ReportFilters(period_from=start, period_to=end),
        ReportFilters(region_id=region),
        ReportFilters(company_id=company),
        ReportFilters(period_from=start, period_to=end, region_id=region),
        ReportFilters(period_from=start, period_to=end, company_id=company),
        ReportFilters(period_from=date(2030, 1, 1)),  # nothing at all
    ]


@pytest.fixture
def programme(ctx):
    programme = Programme(name="Kompetenslyftet", period_start=date(2024, 1, 1), period_end=date(2026, 12, 31),
                          target_individuals=400, target_hours=4500)
    db.session.add(programme)
    db.session.commit()
    return programme


@pytest.mark.parametrize("seed", range(8))
def test_every_figure_matches_a_count_made_from_the_raw_rows(programme, seed):
    world = build_world(seed)
    rng = random.Random(seed)
    for filters in filter_cases(world, rng):
        report = reports.programme_report(filters)
        assert actual(report) == expected_report(world, filters), filters
        assert (report.target_individuals, report.target_hours) == (400, 4500)
        people = {p.employee_id: (p.minutes, p.sessions) for p in reports.participants(filters)}
        assert people == expected_participants(world, filters), filters


def test_counting_rules_on_a_small_known_programme(programme, make):
    """One person with several entries counts once; a course with two areas counts in both; rejected
    and pending manual hours do not count; ages fall in the band of the entry's year."""
    company = make.company()
    two_areas = make.course(competence_areas=[factories.competence_area("cnc"), factories.competence_area("welding")])
    born_1995 = make.employee(company, birth_year=1995, gender=Gender.WOMAN)
    unknown_age = make.employee(company, gender=Gender.MAN, employment_status=EmploymentStatus.FURLOUGHED)

    def manual(employee, day, minutes, verification, course=None):
        db.session.add(HoursEntry(employee=employee, company=employee.company, entry_date=day, minutes=minutes, source=HoursSource.MANUAL,
                                  verification=verification, delivery=Delivery.DIGITAL, course=course))

    manual(born_1995, date(2024, 12, 31), 60, Verification.VERIFIED, two_areas)  # 29 in 2024
    manual(born_1995, date(2025, 1, 2), 120, Verification.VERIFIED, two_areas)  # 30 in 2025
    manual(born_1995, date(2025, 1, 3), 30, Verification.VERIFIED)
    manual(unknown_age, date(2025, 1, 5), 45, Verification.PENDING)
    manual(unknown_age, date(2025, 1, 6), 500, Verification.REJECTED)
    db.session.commit()

    with force_locale("en"):
        report = reports.programme_report(ReportFilters())
    assert (report.individuals, report.minutes, report.sessions) == (1, 210, 0)
    assert (report.pending_minutes, report.pending_entries) == (45, 1)
    area = {row.label: (row.individuals, row.minutes) for row in report.breakdown("area").rows}
    assert area == {"CNC machining": (1, 180), "Welding": (1, 180), "None": (1, 30)}
    assert {r.key: (r.individuals, r.minutes) for r in report.breakdown("age").rows if r.minutes} == {
        "under_30": (1, 60), "30_39": (1, 150)}
    assert [(r.key, r.individuals) for r in report.breakdown("month").rows] == [("2024-12", 1), ("2025-01", 1)]
    assert {r.key: r.minutes for r in report.breakdown("provider").rows} == {two_areas.provider_id: 180, None: 30}
    assert report.breakdown("provider").rows[-1].label == "No course"
    assert report.minutes_per_individual == 210
    assert report.breakdown("area").note  # the caption says a course counts in each of its areas


def test_months_without_hours_show_as_empty_rows(programme, make):
    person = make.employee()
    for day in (date(2024, 11, 3), date(2025, 2, 9)):
        db.session.add(HoursEntry(employee=person, company=person.company, entry_date=day, minutes=60, source=HoursSource.MANUAL,
                                  verification=Verification.VERIFIED, delivery=Delivery.DIGITAL))
    db.session.commit()
    rows = reports.programme_report(ReportFilters()).breakdown("month").rows
    assert [(r.key, r.minutes) for r in rows] == [("2024-11", 60), ("2024-12", 0), ("2025-01", 0), ("2025-02", 60)]


def test_a_company_report_carries_its_plans_planned_hours(programme, make):
    company = make.company()
    plan = TrainingPlan(company=company, title="Plan", period_start=date(2024, 1, 1), period_end=date(2026, 12, 31))
    plan.items += [PlanItem(competence_area=factories.competence_area(), planned_minutes=minutes, target_year=2025,
                            target_quarter=1) for minutes in (600, 900)]
    db.session.add(plan)
    db.session.commit()
    assert reports.programme_report(ReportFilters(company_id=company.id)).planned_minutes == 1500
    assert reports.programme_report(ReportFilters(company_id=make.company().id)).planned_minutes is None
    assert reports.programme_report(ReportFilters()).planned_minutes is None


# The pages and files.


def english(client) -> None:
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})


def signed_in(client, role: Role, **fields):
    user = factories.user(role, **fields)
    sign_in(client, user.email)
    return user


def get(client, path, **kwargs):
    # Buffered: the streamed files are read inside the request, as a server would.
    return client.get(path, buffered=True, **kwargs)


def csv_blocks(body: bytes) -> list[list[list[str]]]:
    assert body.startswith("\ufeff".encode()), "Excel needs the byte-order mark to read UTF-8"
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))
    blocks, block = [], []
    for row in rows:
        if row:
            block.append(row)
        else:
            blocks.append(block)
            block = []
    return blocks + [block]


def hours_text(minutes: int) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def report_rows(breakdown) -> list[list[str]]:
    return [[row.label, str(row.individuals), hours_text(row.minutes), str(row.minutes)] for row in breakdown.rows]


@pytest.mark.parametrize("seed", [11, 12])
def test_the_exports_hold_the_reports_figures(client, programme, seed):
    world = build_world(seed)
    signed_in(client, Role.PM)
    english(client)
    region = db.session.get(Region, world.region_ids[0])
    query = f"?from=2024-03-01&to=2025-01-31&region={region.id}"
    filters = ReportFilters(period_from=date(2024, 3, 1), period_to=date(2025, 1, 31), region_id=region.id)
    with client.application.test_request_context(), force_locale("en"):
        report = reports.programme_report(filters)

    response = get(client, "/reports/figures.csv" + query)
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    headline, *blocks = csv_blocks(response.data)
    values = dict(row for row in headline[1:])
    assert values["From"] == "2024-03-01" and values["To"] == "2025-01-31"
    assert values["Company"] == "All companies"
    assert values["Region"] == region.name
    assert values["Individuals reached"] == str(report.individuals)
    assert values["Training hours"] == hours_text(report.minutes)
    assert values["Sessions run"] == str(report.sessions)
    assert values["Hours awaiting verification (not counted)"] == hours_text(report.pending_minutes)
    assert values["Target: individuals (whole programme)"] == "400"
    assert len(blocks) == len(report.breakdowns)
    for block, breakdown in zip(blocks, report.breakdowns):
        assert block[0] == [breakdown.column, "Individuals", "Hours", "Minutes"]
        assert block[1:1 + len(breakdown.rows)] == report_rows(breakdown)

    response = get(client, "/reports/figures.xlsx" + query)
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    try:
        assert book.sheetnames[0] == "Headline figures"
        assert book.sheetnames[1:] == [str(b.column) for b in report.breakdowns]
        sheet_values = dict(book["Headline figures"].iter_rows(min_row=2, values_only=True))
        assert sheet_values["Individuals reached"] == report.individuals
        assert sheet_values["Training hours"] == pytest.approx(report.minutes / 60, abs=0.005)
        assert sheet_values["Sessions run"] == report.sessions
        for breakdown in report.breakdowns:
            rows = list(book[str(breakdown.column)].iter_rows(values_only=True))
            assert list(rows[0]) == [breakdown.column, "Individuals", "Hours", "Minutes"]
            assert [(label, n, m) for label, n, _, m in rows[1:1 + len(breakdown.rows)]] == [
                (row.label, row.individuals, row.minutes) for row in breakdown.rows]
    finally:
        book.close()


def participant_rows_from_csv(body: bytes) -> list[list[str]]:
    (block,) = csv_blocks(body)
    return block


def participant_rows_from_xlsx(body: bytes) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def test_the_participant_export_gives_status_to_the_programme_office_and_never_gender_or_birth_year(
        client, app, programme):
    """Gender and birth year serve the breakdowns as totals only (as the roster form tells HR); the list of
    people names none of them, for anyone."""
    world = build_world(21)
    expected = expected_participants(world, ReportFilters())
    people = {e.id: e for e in world.employees}
    signed_in(client, Role.PM)
    english(client)

    rows = participant_rows_from_csv(get(client, "/reports/participants.csv").data)
    assert rows[0] == ["Name", "Company", "Hours", "Minutes", "Sessions attended", "Employment status"]
    by_name = {row[0]: row for row in rows[1:]}
    assert len(by_name) == len(rows) - 1 == len(expected)
    for employee_id, (minutes, sessions) in expected.items():
        person = people[employee_id]
        row = by_name[person.name]
        assert row[1:5] == [person.company.name, hours_text(minutes), str(minutes), str(sessions)]
        assert len(row) == 6

    sheet = participant_rows_from_xlsx(get(client, "/reports/participants.xlsx").data)
    assert sheet[0] == rows[0]
    assert {row[0]: (row[1], row[3], row[4]) for row in sheet[1:]} == {
        people[i].name: (people[i].company.name, m, s) for i, (m, s) in expected.items()}

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    company = world.companies[0]
    signed_in(client, Role.HR, company=company)
    english(client)
    for rows in (participant_rows_from_csv(get(client, "/reports/participants.csv").data),
                 participant_rows_from_xlsx(get(client, "/reports/participants.xlsx").data)):
        assert rows[0] == ["Name", "Company", "Hours", "Minutes", "Sessions attended"]
        assert {row[1] for row in rows[1:]} <= {company.name}
        assert len(rows) - 1 == len([i for i in expected if people[i].company_id == company.id])


def text_of(body: bytes) -> str:
    """A CSV file's text, or every cell of every sheet of a workbook, one per line."""
    if not body.startswith(b"PK"):
        return body.decode("utf-8-sig")
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    try:
        return "\n".join(str(value) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for value in row)
    finally:
        book.close()


def test_names_that_look_like_formulas_stay_text(client, programme, make):
    company = make.company(name="=cmd|' /C calc'!A0")
    person = make.employee(company, first_name="+SUM(1", last_name="2)")
    db.session.add(HoursEntry(employee=person, company=person.company, entry_date=date(2025, 1, 1), minutes=60, source=HoursSource.MANUAL,
                              verification=Verification.VERIFIED, delivery=Delivery.DIGITAL))
    db.session.commit()
    signed_in(client, Role.PM)
    rows = participant_rows_from_csv(get(client, "/reports/participants.csv").data)
    assert rows[1][:2] == ["'+SUM(1 2)", "'=cmd|' /C calc'!A0"]
    book = openpyxl.load_workbook(io.BytesIO(get(client, "/reports/participants.xlsx").data))
    try:
        cell = book.worksheets[0]["B2"]
        assert (cell.value, cell.data_type) == ("=cmd|' /C calc'!A0", "s")
    finally:
        book.close()


def test_hr_sees_its_own_company_only_whatever_the_url_asks(client, programme):
    world = build_world(31)
    own, other = world.companies[0], world.companies[1]
    other_people = {e.name for e in world.employees if e.company_id == other.id}
    signed_in(client, Role.HR, company=own)
    english(client)
    expected = expected_report(world, ReportFilters(company_id=own.id))

    for query in ("", f"?company={other.id}", f"?region={world.region_ids[-1]}&company={other.id}"):
        page = get(client, "/reports" + query)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert other.name not in text
        assert f'id="figure-individuals"><span class="stat-value">{expected["headline"][0]}<' in text
        assert 'name="company"' not in text and 'name="region"' not in text

        headline, *blocks = csv_blocks(get(client, "/reports/figures.csv" + query).data)
        assert dict(headline[1:])["Company"] == own.name
        assert dict(headline[1:])["Individuals reached"] == str(expected["headline"][0])
        companies = next(block for block in blocks if block[0][0] == "Company")
        assert [row[0] for row in companies[1:]] == ([own.name] if expected["company"] else [])
        for path in ("/reports/participants.csv", "/reports/figures.xlsx", "/reports/participants.xlsx"):
            body = text_of(get(client, path + query).data)
            assert own.name in body or not expected["company"]
            assert other.name not in body
            for name in other_people:
                assert name not in body


PATHS = ["/reports", "/reports/figures.csv", "/reports/figures.xlsx", "/reports/participants.csv",
         "/reports/participants.xlsx"]


@pytest.mark.parametrize("path", PATHS)
def test_a_provider_is_refused_and_a_stranger_sent_to_sign_in(client, ctx, path):
    response = get(client, path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    signed_in(client, Role.PROVIDER)
    assert get(client, path).status_code == 403


@pytest.mark.parametrize("role", [Role.PM, Role.HR])
def test_the_report_is_in_the_navigation_of_pm_and_hr(client, ctx, role):
    signed_in(client, role)
    english(client)
    assert '<a href="/reports"' in get(client, "/").get_data(as_text=True)


def test_the_page_shows_the_figures_with_charts_and_tables(client, programme):
    world = build_world(41)
    signed_in(client, Role.PM)
    english(client)
    expected = expected_report(world, ReportFilters())
    text = get(client, "/reports").get_data(as_text=True)
    assert f'id="figure-individuals"><span class="stat-value">{expected["headline"][0]}<' in text
    assert f'id="figure-sessions"><span class="stat-value">{expected["headline"][2]}<' in text
    for chart in ("chart-month", "chart-gender", "chart-status", "chart-progress"):
        assert f'role="img" aria-labelledby="{chart}-title"' in text
        assert f'<title id="{chart}-title">' in text
    assert "<script" not in text.split("</head>")[1], "the charts need no script"
    for name in ("company", "provider", "course", "area", "delivery", "gender", "status", "age", "month"):
        assert f'id="table-{name}"' in text
    assert "Hours of a course with several competence areas count in each of its areas." in text
    assert "so the rows need not add up to the headline figures" in text
    assert "Individuals by gender:" in text
    for args in ("reports/figures.xlsx", "reports/participants.csv"):
        assert f'href="/{args}"' in text


def test_a_long_breakdown_shows_its_rows_with_the_most_hours_and_the_download_holds_all(
    client, programme, monkeypatch,
):
    world = build_world(43)
    monkeypatch.setattr(reports, "SHOWN_ROWS", 2)
    signed_in(client, Role.PM)
    english(client)
    by_company = expected_report(world, ReportFilters())["company"]
    assert len(by_company) > 2
    most = sorted(by_company.items(), key=lambda item: (-item[1][1], -item[1][0]))[:2]
    names = {company.id: company.name for company in world.companies}
    table = get(client, "/reports").get_data(as_text=True).split('id="table-company"')[1].split("</table>")[0]
    assert table.count('<th scope="row"') == 2
    for company_id, _ in most:
        assert names[company_id] in table
    assert f"The 2 with the most hours, of {len(by_company)}; the downloads hold them all." in table
    month = get(client, "/reports").get_data(as_text=True).split('id="table-month"')[1].split("</table>")[0]
    assert month.count('<th scope="row"') > 2  # months are a timeline: every one is shown
    figures = get(client, "/reports/figures.csv").get_data(as_text=True)
    assert all(names[company_id] in figures for company_id in by_company)


def test_the_download_links_carry_the_valid_filters_only(client, programme):
    world = build_world(42)
    signed_in(client, Role.PM)
    text = get(client, f"/reports?from=2024-02-01&to=nonsense&company={world.companies[0].id}").get_data(as_text=True)
    assert f'href="/reports/figures.csv?from=2024-02-01&amp;company={world.companies[0].id}"' in text


@pytest.mark.parametrize("query, field, message", [
    ("from=2024-02-30", "from", "Enter a date as YYYY-MM-DD."),
    ("from=yesterday", "from", "Enter a date as YYYY-MM-DD."),
    ("to=1066-10-14", "to", "Enter a date between the years 2000 and 2100."),
    ("from=2025-03-01&to=2025-01-01", "to", "The end date is before the start date."),
    ("region=999999", "region", "Choose a region from the list."),
    ("region=abc", "region", "Choose a region from the list."),
    ("company=99999999999999999999999", "company", "Choose a company from the list."),
    ("company=-1", "company", "Choose a company from the list."),
    ("company=%00", "company", "Choose a company from the list."),
])
def test_a_bad_filter_gets_a_message_next_to_it_and_is_left_out(client, programme, query, field, message):
    world = build_world(51)
    signed_in(client, Role.PM)
    english(client)
    expected = expected_report(world, ReportFilters(period_from=date(2025, 3, 1)) if "2025-03-01" in query
                               else ReportFilters())
    page = get(client, "/reports?" + query)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in text
    assert f'id="{field}" name="{field}"' in text and 'aria-invalid="true"' in text
    assert f'id="figure-individuals"><span class="stat-value">{expected["headline"][0]}<' in text
    for path in PATHS[1:]:
        assert get(client, path + "?" + query).status_code == 200


def queries_per_request(client, paths) -> dict[str, int]:
    counts = {}
    for path in paths:
        get(client, path)  # warm: the first request may load what later ones have cached
        with count_queries() as statements:
            response = get(client, path)
            assert response.status_code == 200
        counts[path] = len(statements)
    return counts


@pytest.mark.parametrize("role", [Role.PM, Role.HR])
def test_the_page_and_files_run_as_many_queries_for_much_data_as_for_little(client, programme, role):
    world = build_world(61)
    fields = {"company": world.companies[0]} if role == Role.HR else {}
    signed_in(client, role, **fields)
    paths = [path + "?from=2024-01-01&to=2025-12-31" for path in PATHS]
    small = queries_per_request(client, paths)
    entries_before = len(world.entries)
    for seed in (62, 63):
        build_world(seed, scale=3, world=world)
    for n in range(20):  # more of the HR company's own people and hours too
        person = Employee(company=world.companies[0], first_name="Ny", last_name=f"Anställd {n}", birth_year=1980 + n)
        _hours(world, person, FIRST_DAY + timedelta(days=20 * n), 60, HoursSource.MANUAL, Verification.VERIFIED,
               Delivery.DIGITAL, None, None, None)
    db.session.commit()
    assert len(world.entries) > 4 * entries_before
    assert queries_per_request(client, paths) == small
    assert max(small.values()) <= 20, small


def test_an_hr_report_without_a_plan_has_no_progress_bars_and_says_so_little(client, programme):
    world = build_world(71)
    signed_in(client, Role.HR, company=world.companies[0])
    english(client)
    text = get(client, "/reports").get_data(as_text=True)
    assert "chart-progress" not in text
    assert "The programme's targets are for the whole programme" not in text


def test_an_hr_report_says_its_plan_bar_counts_every_hour_unlike_the_plan_page(client, programme):
    world = build_world(71)
    company = world.companies[0]
    plan = TrainingPlan(company=company, title="Plan", period_start=date(2024, 1, 1), period_end=date(2026, 12, 31))
    plan.items.append(PlanItem(competence_area=factories.competence_area(), planned_minutes=600, target_year=2025,
                               target_quarter=1))
    db.session.add(plan)
    db.session.commit()
    signed_in(client, Role.HR, company=company)
    english(client)
    text = get(client, "/reports").get_data(as_text=True)
    assert "All training hours against the plan&#39;s hours" in text or "All training hours against the plan's hours" in text
    assert "The plan page counts, need by need, the hours of the bookings made for it." in text


def test_an_empty_programme_reports_zeros_without_failing(client, programme):
    signed_in(client, Role.PM)
    english(client)
    text = get(client, "/reports").get_data(as_text=True)
    assert "Hours per month: no hours in the report." in text
    assert "No counted hours in the report." in text
    for path in PATHS[1:]:
        assert get(client, path).status_code == 200


def test_export_helpers_write_hours_the_swedish_way(app):
    with app.test_request_context():
        assert report_export._csv_value(1.5) == "1,5"
        assert report_export._csv_value(2.0) == "2"
        assert report_export._csv_value(1 / 3) == "0,33"
        assert report_export._csv_value("-3") == "'-3"
        assert report_export._sheet_name("Kön/ålder: [alla]", set()) == "Kön ålder   alla"
        taken = set()
        assert [report_export._sheet_name("x" * 40, taken) for _ in range(2)] == ["x" * 31, "x" * 29 + " 2"]
