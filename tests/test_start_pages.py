"""Each role's start page shows real figures, in a fixed number of queries whatever the data size."""
from datetime import date, datetime, timedelta, timezone

from portal.extensions import db
from portal.models import (
    Delivery,
    Attendance, AttendanceStatus, BookingStatus, EmploymentStatus, HoursEntry, HoursSource,
    PlanItem, Programme, Restriction, RestrictionScope, Role, SessionStatus, TrainingPlan, Verification,
)
from tests.conftest import count_queries, sign_in


def _programme():
    db.session.add(Programme(
        name="Ett kompetenslyft för Sverige", funder="ESF", period_start=date(2026, 1, 1),
        period_end=date(2027, 12, 31), target_individuals=1000, target_hours=12000,
    ))
    db.session.commit()


def _attended(make, session, employee):
    booking = make.booking(session, employee)
    attendance = Attendance(booking=booking, meeting=session.meetings[0], status=AttendanceStatus.ATTENDED)
    db.session.add(HoursEntry(delivery=Delivery.IN_PERSON,
        employee=employee, company=employee.company, entry_date=date(2026, 2, 2), minutes=session.meetings[0].minutes,
        source=HoursSource.ATTENDANCE, attendance=attendance, session=session, verification=Verification.VERIFIED,
    ))
    db.session.commit()


def test_hr_start_page_shows_its_company_figures(client, make):
    _programme()
    hr = make.user(Role.HR)
    company = hr.company
    past = make.session(starts_at=datetime(2026, 2, 2, 8, tzinfo=timezone.utc), status=SessionStatus.COMPLETED)
    people = [make.employee(company, employment_status=status) for status in
              (EmploymentStatus.EMPLOYED, EmploymentStatus.EMPLOYED, EmploymentStatus.FURLOUGHED)]
    _attended(make, past, people[0])
    _attended(make, past, people[1])
    db.session.add(HoursEntry(delivery=Delivery.IN_PERSON, employee=people[2], company=people[2].company, entry_date=date(2026, 3, 1), minutes=90,
                              source=HoursSource.MANUAL, verification=Verification.PENDING))
    upcoming = make.session()
    make.booking(upcoming, people[2])
    plan = TrainingPlan(company=company, title="Plan", period_start=date(2026, 1, 1), period_end=date(2026, 12, 31))
    plan.items.append(PlanItem(competence_area=make.competence_area(), planned_minutes=24 * 60, target_year=2026,
                               target_quarter=2, head_count=3))
    db.session.add(plan)
    db.session.commit()

    sign_in(client, hr.email)
    page = client.get("/").get_data(as_text=True)
    assert f"<h1>{company.name}</h1>" in page
    assert "Ett kompetenslyft för Sverige" in page
    assert '<span class="stat-value">3</span><span class="stat-label">Anställda i personallistan' in page
    assert '<span class="stat-value">2</span><span class="stat-label">Utbildade individer' in page
    assert '<span class="stat-value">12</span><span class="stat-label">Utbildningstimmar' in page
    assert '<span class="stat-value">1,5</span><span class="stat-label">Timmar som väntar på attest' in page
    assert "0 av 24 planerade timmar klara, 0 bokade." in page
    assert upcoming.course.title in page


def test_hr_start_page_never_shows_another_companys_bookings(client, make):
    hr = make.user(Role.HR)
    other_session = make.session()
    make.booking(other_session, make.employee())  # someone else's employee
    sign_in(client, hr.email)
    page = client.get("/").get_data(as_text=True)
    assert other_session.course.title not in page
    assert "Ingen av era anställda är bokad" in page


def test_provider_start_page_lists_its_upcoming_sessions_with_seats(client, make):
    user = make.user(Role.PROVIDER)
    mine = make.session(make.course(user.provider, title="Svetsning MIG/MAG"), capacity=10)
    for _ in range(3):
        make.booking(mine, make.employee())
    make.booking(mine, make.employee(), BookingStatus.WAITLISTED)
    make.booking(mine, make.employee(), BookingStatus.CANCELLED)
    theirs = make.session(make.course(title="Någon annans kurs"))
    make.session(make.course(user.provider, title="Redan genomförd"),
                 starts_at=datetime(2025, 5, 5, 8, tzinfo=timezone.utc), status=SessionStatus.COMPLETED)
    sign_in(client, user.email)
    page = client.get("/").get_data(as_text=True)
    assert "Svetsning MIG/MAG" in page
    assert '<td class="num">3 / 10</td>' in page and '<td class="num">7</td>' in page
    assert theirs.course.title not in page
    assert "Redan genomförd" not in page


def test_pm_start_page_shows_programme_figures_against_targets(client, make):
    _programme()
    past = make.session(starts_at=datetime(2026, 2, 2, 8, tzinfo=timezone.utc), status=SessionStatus.COMPLETED)
    employee = make.employee()
    _attended(make, past, employee)
    db.session.add(Restriction(scope=RestrictionScope.COUNTRY, in_force_from=date.today() - timedelta(days=3),
                               max_group_size=8, description="Högst 8 deltagare"))
    make.session(status=SessionStatus.POSTPONED)
    db.session.commit()
    sign_in(client, make.user(Role.PM).email)
    page = client.get("/").get_data(as_text=True)
    assert "<h1>Programöversikt</h1>" in page
    assert '1 <span class="muted">/ 1 000</span>' in page.replace("\xa0", " ")
    assert "Högst 8 deltagare" in page and "högst 8 personer på plats" in page
    assert f'href="/companies/{employee.company_id}"' in page


def _queries_for_start_page(client, make, role: Role, size: int) -> int:
    user = make.user(role)
    company = user.company or make.company()
    provider = user.provider or make.provider()
    for _ in range(size):
        session = make.session(make.course(provider))
        make.booking(session, make.employee(company))
        make.company()
    sign_in(client, user.email)
    with count_queries() as queries:
        assert client.get("/").status_code == 200
    return len(queries)


def test_start_pages_issue_the_same_number_of_queries_for_more_data(make, app):
    for role in Role:
        small = _queries_for_start_page(app.test_client(), make, role, 1)
        large = _queries_for_start_page(app.test_client(), make, role, 8)
        assert small == large, role
        assert large <= 10, role


def test_pm_company_list_is_paginated(client, make):
    for n in range(27):
        make.company(name=f"Företag {n:02d} AB")
    sign_in(client, make.user(Role.PM).email)
    first = client.get("/").get_data(as_text=True)
    assert "Företag 00 AB" in first and "Företag 24 AB" in first and "Företag 25 AB" not in first
    assert "Sida 1 av 2" in first and 'href="/?page=2"' in first
    second = client.get("/?page=2").get_data(as_text=True)
    assert "Företag 25 AB" in second and "Företag 26 AB" in second and "Företag 00 AB" not in second
    assert '<span class="stat-value">27</span>' in second
    assert "Företag 26 AB" in client.get("/?page=999").get_data(as_text=True)
    assert "Företag 00 AB" in client.get("/?page=abc").get_data(as_text=True)


def test_a_companys_coming_sessions_are_those_not_begun_it_has_people_on_soonest_first(make):
    from portal.services.overview import upcoming_sessions_of_company

    now = datetime.now(timezone.utc).replace(microsecond=0)
    hr = make.user(Role.HR)
    ours, theirs = make.employee(hr.company), make.employee()
    later = make.session(starts_at=now + timedelta(days=20), meetings=3)
    sooner = make.session(starts_at=now + timedelta(days=10), meetings=2)
    waiting = make.session(starts_at=now + timedelta(days=15), status=SessionStatus.POSTPONED)
    begun = make.session(starts_at=now - timedelta(days=1), meetings=3)  # its later meetings are still ahead
    called_off = make.session(starts_at=now + timedelta(days=5))
    not_ours = make.session(starts_at=now + timedelta(days=3))
    for session in (later, sooner, begun):
        make.booking(session, ours)
    make.booking(waiting, ours, BookingStatus.WAITLISTED)
    make.booking(called_off, ours, BookingStatus.CANCELLED)
    make.booking(not_ours, theirs)
    make.booking(later, theirs)
    db.session.commit()

    rows = upcoming_sessions_of_company(hr.company_id)

    assert [(row.session_id, row.first_meeting, row.ours) for row in rows] == [
        (sooner.id, sooner.meetings[0].starts_at, 1),
        (waiting.id, waiting.meetings[0].starts_at, 0),
        (later.id, later.meetings[0].starts_at, 1),
    ]
    assert [row.session_id for row in upcoming_sessions_of_company(hr.company_id, limit=2)] == [sooner.id, waiting.id]


def test_the_programme_office_sees_each_company_as_its_hr_does(make, ctx):
    """Both start pages read the programme's totals: a company's people trained and hours are the same
    figure on its own page and in the programme office's table, and the headline is their sum."""
    from portal.services.overview import company_overview, programme_overview

    past = make.session(starts_at=datetime(2026, 2, 2, 8, tzinfo=timezone.utc), status=SessionStatus.COMPLETED)
    first, second = make.company(), make.company()
    for company, people in ((first, 2), (second, 1)):
        for _ in range(people):
            _attended(make, past, make.employee(company))
    rows = {row.company_id: row for row in programme_overview().company_rows.items}
    for company, people in ((first, 2), (second, 1)):
        own = company_overview(company)
        assert (own.individuals_trained, own.counted_minutes) == (rows[company.id].individuals, rows[company.id].minutes)
        assert own.individuals_trained == people and own.counted_minutes == people * past.meetings[0].minutes
    overview = programme_overview()
    assert (overview.individuals, overview.minutes) == (3, 3 * past.meetings[0].minutes)
