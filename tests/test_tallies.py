"""Hours tallies stay exactly what the hours entries sum to, and the programme's totals what the tallies
sum to: after every kind of change, through the services and straight through the ORM, after a rollback,
after the migration fills them, when two transactions change one person's hours at once, and however
often the totals are compacted."""
import random
import threading
import time
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from portal import create_app
from portal.extensions import db
from portal.models import (
    AttendanceStatus, CompetenceArea, Course, Delivery, Employee, HoursEntry, HoursSource, HoursTally, HoursTotal,
    Programme, Role, TallyDimension, Verification,
)
from portal.services import attendance, hours, reports, tallies
from portal.services.figures import counted_hours
from portal.services.reports import ReportFilters
from tests.conftest import config_for_tests, count_queries
from tests.test_migrations import empty_database_url  # noqa: F401  (a fixture)
from tests.test_reports import actual, build_world


def kept() -> set[tuple]:
    return set(db.session.execute(
        select(HoursTally.dimension, HoursTally.key, HoursTally.employee_id, HoursTally.company_id, HoursTally.minutes)
    ).all())


def from_entries() -> set[tuple]:
    rows = set()
    for dimension in TallyDimension:
        summed = tallies.summed(dimension).subquery()
        rows |= {(dimension, key, employee_id, company_id, int(minutes)) for employee_id, company_id, key, minutes
                 in db.session.execute(select(summed))}
    return rows


def totals() -> dict[tuple, tuple[int, int]]:
    """The programme's figure per dimension and key: the sums of its rows, keys that come to nothing left out."""
    rows = db.session.execute(
        select(HoursTotal.dimension, HoursTotal.key, func.sum(HoursTotal.individuals), func.sum(HoursTotal.minutes))
        .group_by(HoursTotal.dimension, HoursTotal.key)
    )
    return {(dimension, key): (int(n), int(m)) for dimension, key, n, m in rows if (n, m) != (0, 0)}


def totals_of(tallies_kept: set[tuple]) -> dict[tuple, tuple[int, int]]:
    """What the totals should come to: the tallies counted and summed per dimension and key (the person
    dimension's key being the company)."""
    found: dict[tuple, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for dimension, key, _, company_id, minutes in tallies_kept:
        figure = (dimension, company_id if dimension == TallyDimension.PERSON else key)
        found[figure] = (found[figure][0] + 1, found[figure][1] + minutes)
    return dict(found)


def log_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(HoursTotal))


def assert_in_step() -> None:
    expected = from_entries()
    assert kept() == expected
    assert totals() == totals_of(expected)
    assert expected  # the comparison is about something


def verified(day: date, minutes: int = 60, **fields) -> HoursEntry:
    """Manual hours the programme office verified (they count), added to the session."""
    person = fields["employee"] if "employee" in fields else db.session.get(Employee, fields["employee_id"])
    entry = HoursEntry(entry_date=day, minutes=minutes, source=HoursSource.MANUAL, verification=Verification.VERIFIED,
                       delivery=Delivery.DIGITAL, company_id=person.company_id, **fields)
    db.session.add(entry)
    return entry


def test_a_known_entry_gives_its_tallies(ctx, make):
    employee = make.employee(birth_year=1980)
    course = make.course()
    verified(date(2026, 3, 2), 90, employee=employee, course=course)
    db.session.commit()
    assert kept() == {
        (TallyDimension.PERSON, 0, employee.id, employee.company_id, 90),
        (TallyDimension.AGE, 40, employee.id, employee.company_id, 90),  # 46 in 2026: 40–49
        (TallyDimension.MONTH, 202603, employee.id, employee.company_id, 90),
        (TallyDimension.DELIVERY, tallies.DELIVERY_KEYS[Delivery.DIGITAL], employee.id, employee.company_id, 90),
        (TallyDimension.COURSE, course.id, employee.id, employee.company_id, 90),
        (TallyDimension.PROVIDER, course.provider_id, employee.id, employee.company_id, 90),
        (TallyDimension.AREA, course.competence_areas[0].id, employee.id, employee.company_id, 90),
    }  # a manual entry belongs to no session


def test_hours_that_do_not_count_have_no_tallies(ctx, make):
    employee = make.employee()
    for verification in (Verification.PENDING, Verification.REJECTED):
        db.session.add(HoursEntry(employee=employee, company=employee.company, entry_date=date(2026, 3, 2), minutes=60,
                                  source=HoursSource.MANUAL, verification=verification, delivery=Delivery.DIGITAL))
    db.session.commit()
    assert kept() == set()
    assert totals() == {}


def test_tallies_follow_every_kind_of_change_made_through_the_orm(ctx):
    world = build_world(seed=3, scale=2)
    assert_in_step()
    rng = random.Random(3)
    entries = list(db.session.scalars(select(HoursEntry).order_by(HoursEntry.id)))
    employees = world.employees
    for entry in rng.sample(entries, 8):
        change = rng.choice(["delete", "verify", "reject", "date", "minutes", "course", "person", "delivery"])
        if change == "delete":
            db.session.delete(entry)
        elif change in ("verify", "reject"):
            entry.verification = Verification.VERIFIED if change == "verify" else Verification.REJECTED
        elif change == "date":
            entry.entry_date += timedelta(days=rng.choice([-40, 40, 400]))
        elif change == "minutes":
            entry.minutes = rng.choice([15, 45, 600])
        elif change == "course":
            entry.course_id = None
        elif change == "person":
            entry.employee = rng.choice(employees)  # both people's tallies change
        else:
            entry.delivery = Delivery.DIGITAL if entry.delivery == Delivery.IN_PERSON else Delivery.IN_PERSON
        db.session.commit()
        assert_in_step()


def test_the_report_from_tallies_is_the_report_from_the_entries(ctx):
    """No period reads the tallies; a period from before the first entry reads the entries: the same figures."""
    db.session.add(Programme(name="Kompetenslyftet", period_start=date(2024, 1, 1), period_end=date(2026, 12, 31)))
    world = build_world(seed=5, scale=3)
    everything = date(2000, 1, 1)
    for filters in (ReportFilters(), ReportFilters(company_id=world.companies[0].id),
                    ReportFilters(region_id=world.region_ids[0])):
        from_tallies = actual(reports.programme_report(filters))
        live = actual(reports.programme_report(ReportFilters(
            period_from=everything, region_id=filters.region_id, company_id=filters.company_id,
        )))
        assert from_tallies == live
    assert reports.programme_report(ReportFilters()).individuals > 0


def test_a_changed_birth_year_moves_the_persons_age_tallies(ctx, make):
    employee = make.employee(birth_year=1990)
    verified(date(2026, 3, 2), employee=employee)
    db.session.commit()
    ages = select(HoursTally.key).where(HoursTally.dimension == TallyDimension.AGE)
    assert db.session.scalars(ages).all() == [30]  # 36 in 2026: 30–39
    employee.birth_year = 1960
    db.session.commit()
    assert db.session.scalars(ages).all() == [60]  # 66: 60 and over
    assert_in_step()
    employee.birth_year = None  # as when the person is erased
    db.session.commit()
    assert db.session.scalars(ages).all() == [tallies.AGE_NOT_STATED_KEY]
    assert_in_step()


def test_a_course_given_other_competence_areas_moves_its_hours_to_them(ctx, make):
    course = make.course(competence_areas=[make.competence_area("cnc")])
    people = [make.employee() for _ in range(2)]
    for person in people:
        verified(date(2026, 3, 2), employee=person, course=course)
    db.session.commit()
    welding, automation = make.competence_area("welding"), make.competence_area("automation")
    course.competence_areas = [welding, automation]
    db.session.commit()
    areas = select(HoursTally.key, func.count()).where(HoursTally.dimension == TallyDimension.AREA).group_by(HoursTally.key)
    assert dict(db.session.execute(areas).all()) == {welding.id: 2, automation.id: 2}
    assert_in_step()


def test_a_rollback_leaves_the_tallies_as_they_were(ctx, make):
    employee = make.employee()
    verified(date(2026, 3, 2), employee=employee)
    db.session.commit()
    before = kept(), totals()
    verified(date(2026, 4, 2), employee=employee)
    db.session.flush()
    assert (kept(), totals()) != before
    assert_in_step()  # within the transaction
    db.session.rollback()
    assert (kept(), totals()) == before


def test_the_hours_services_keep_the_tallies_in_step(ctx, make):
    """Attendance taken and withdrawn, manual hours logged, edited, verified, rejected and deleted."""
    hr = make.user(Role.HR)
    provider = make.user(Role.PROVIDER)
    pm = make.user(Role.PM)
    people = [make.employee(hr.company) for _ in range(3)]
    began = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=3)
    session = make.session(make.course(provider.provider), starts_at=began, meetings=2)
    bookings = [make.booking(session, person) for person in people]
    meeting = session.meetings[0]

    attendance.record_attendance(meeting, {b.id: AttendanceStatus.ATTENDED for b in bookings}, provider)
    db.session.commit()
    assert_in_step()
    attendance.record_attendance(meeting, {bookings[0].id: AttendanceStatus.ABSENT}, provider)
    db.session.commit()
    assert_in_step()

    day = hours.today() - timedelta(days=1)

    def log(person, minutes):
        return hours.log_hours(hr, person.id, day, minutes, None, "Kurs", "", Delivery.DIGITAL)

    logged = [log(people[i], 60 + i) for i in range(3)]
    db.session.commit()
    assert_in_step()
    hours.edit_hours(logged[0], hr, people[1].id, day, 90, None, "Kurs", "", Delivery.DIGITAL)
    hours.verify_hours(logged[0], pm)
    hours.verify_hours(logged[1], pm)
    hours.reject_hours(logged[2], pm, "Inte en del av planen")
    db.session.commit()
    assert_in_step()
    assert (TallyDimension.PERSON, 0, people[1].id, hr.company_id, 90 + 61 + meeting.minutes) in kept()
    extra = log(people[2], 30)
    db.session.commit()
    hours.delete_hours(extra, hr)
    db.session.commit()
    assert_in_step()


def test_the_migrations_fill_the_tallies_and_totals_from_the_hours_there_are(empty_database_url):  # noqa: F811
    """0008 fills the tallies; 0010 keys the age tallies by band (0009's by age) and fills the totals."""
    app = create_app(config_for_tests(empty_database_url))
    with app.app_context():
        upgrade()
        from portal.services.reference import load_reference_data

        load_reference_data()
        build_world(seed=7, scale=2)
        expected = from_entries()
        db.session.commit()
        db.session.remove()
        downgrade(revision="0009")
        by_age = select(HoursTally.employee_id, HoursTally.key).where(HoursTally.dimension == TallyDimension.AGE)
        counted = (
            select(HoursEntry.employee_id, HoursEntry.entry_date, Employee.birth_year)
            .join(Employee, Employee.id == HoursEntry.employee_id).where(counted_hours())
        )
        assert set(db.session.execute(by_age)) == {
            (person, day.year - born if born is not None else tallies.AGE_NOT_STATED_KEY)
            for person, day, born in db.session.execute(counted)
        }
        db.session.remove()
        downgrade(revision="0007")
        upgrade()
        assert kept() == expected
        assert totals() == totals_of(expected) and log_rows() == len(totals())
        db.session.remove()
        db.engine.dispose()


def at_once(app, *actions) -> None:
    """Run each action in a thread of its own (its own app context and database session); each calls the
    function it is given to wait until all are ready. Fails with whatever any of them raised."""
    ready = threading.Barrier(len(actions))
    failures = []

    def run(action):
        try:
            with app.app_context():
                action(ready.wait)
        except Exception as error:  # reported below: a thread's exception would otherwise vanish
            failures.append(error)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    db.session.expire_all()


def test_two_transactions_adding_one_persons_hours_at_once_both_count(app, make):
    """Each transaction rebuilds the person's tallies; the second waits for the first and sees its hours."""
    employee = make.employee()
    db.session.commit()
    employee_id = employee.id

    def add(minutes):
        def action(all_ready):
            verified(date(2026, 3, 2), minutes, employee_id=employee_id)
            all_ready()
            db.session.commit()
        return action

    at_once(app, add(60), add(90))
    assert (TallyDimension.PERSON, 0, employee_id, db.session.get(Employee, employee_id).company_id, 150) in kept()
    assert_in_step()


def test_an_age_tally_is_a_band_so_a_birthday_within_it_counts_once(ctx, make):
    """Someone who turns 31 during their training is one person of 30–39; one who turns 30, one of each band."""
    within, across = make.employee(birth_year=1995), make.employee(birth_year=1995)
    for person, days in ((within, [date(2025, 3, 2), date(2026, 3, 2)]), (across, [date(2024, 12, 30), date(2025, 1, 2)])):
        for day in days:
            verified(day, employee=person)
    db.session.commit()
    ages = select(HoursTally.employee_id, HoursTally.key, HoursTally.minutes).where(HoursTally.dimension == TallyDimension.AGE)
    assert set(db.session.execute(ages)) == {(within.id, 30, 120), (across.id, 0, 60), (across.id, 30, 60)}
    assert {key: figure for (dimension, key), figure in totals().items() if dimension == TallyDimension.AGE} == {
        0: (1, 60), 30: (2, 180)}
    report = reports.programme_report(ReportFilters())
    assert {row.key: (row.individuals, row.minutes) for row in report.breakdown("age").rows if row.individuals} == {
        "under_30": (1, 60), "30_39": (2, 180)}
    assert_in_step()


def change_some_hours(seed: int, changes: int) -> None:
    """Change a few entries, one commit (one tally refresh) each: the totals gain rows for keys they had."""
    rng = random.Random(seed)
    entries = list(db.session.scalars(select(HoursEntry).order_by(HoursEntry.id)))
    for entry in rng.sample(entries, changes):
        entry.minutes = rng.choice([15, 45, 600])
        db.session.commit()


def test_compacting_leaves_one_row_per_key_with_the_same_figures(ctx, make):
    build_world(seed=11, scale=2)
    change_some_hours(11, 6)
    passing = make.employee()  # hours in a month no one else has, then gone: the month comes to nothing
    db.session.commit()
    gone = verified(date(2031, 5, 5), employee=passing)
    db.session.commit()
    db.session.delete(gone)
    db.session.commit()
    figures, rows = totals(), log_rows()
    assert (TallyDimension.MONTH, 203105) not in figures
    assert rows > len(figures)  # several rows for some keys

    assert tallies.compact(db.session.connection()) == (rows, len(figures))
    db.session.commit()

    assert totals() == figures
    one_per_key = select(HoursTotal.dimension, HoursTotal.key, func.count()).group_by(HoursTotal.dimension, HoursTotal.key)
    assert {count for _, _, count in db.session.execute(one_per_key)} == {1}
    assert log_rows() == len(figures)
    assert_in_step()
    change_some_hours(12, 3)  # and on from there
    assert_in_step()
    assert tallies.compact(db.session.connection())[1] == len(totals())
    db.session.commit()
    assert_in_step()


def test_writers_and_compactions_at_once_keep_the_totals_exact(app, make):
    """Four transactions change four people's hours while the totals are compacted over and over."""
    people = [make.employee() for _ in range(4)]
    db.session.commit()

    def writer(employee_id):
        def action(all_ready):
            all_ready()
            for month in range(1, 7):
                verified(date(2026, month, 2), 30 + month, employee_id=employee_id)
                db.session.commit()
        return action

    def compactor(all_ready):
        all_ready()
        for _ in range(6):
            tallies.compact(db.session.connection())
            db.session.commit()

    at_once(app, *[writer(person.id) for person in people], compactor)
    assert_in_step()


@pytest.mark.postgres
def test_compacting_neither_waits_for_a_writer_nor_loses_its_rows(ctx, make):
    """A transaction has changed hours, its rows appended but not committed, when the totals are compacted:
    the compaction goes ahead without it, and its rows count once it commits."""
    employee = make.employee()
    verified(date(2026, 3, 2), employee=employee)
    db.session.commit()
    verified(date(2026, 4, 2), 90, employee=employee)
    db.session.flush()
    with db.engine.begin() as compaction:
        compaction.execute(text("SET LOCAL lock_timeout = '2s'"))
        tallies.compact(compaction)
    db.session.commit()
    assert_in_step()


def test_the_whole_programmes_report_from_its_totals_is_the_report_from_the_tallies(ctx, monkeypatch):
    """Every breakdown's rows, after changes that left the totals several rows for some keys."""
    build_world(seed=13, scale=3)
    change_some_hours(13, 6)
    from_totals = actual(reports.programme_report(ReportFilters()))
    monkeypatch.setattr(reports, "_whole_programme", lambda filters: False)
    assert actual(reports.programme_report(ReportFilters())) == from_totals
    assert all(from_totals.values())


def test_the_whole_programmes_report_reads_the_tallies_only_for_gender_and_status(ctx):
    build_world(seed=17)
    with count_queries() as statements:
        reports.programme_report(ReportFilters())
    reading = [s for s in statements if "hours_tallies" in s]
    assert len(reading) == 1 and "employment_status" in reading[0]
    assert sum("hours_totals" in s for s in statements) == 8  # the headline, and 7 breakdowns


def test_the_rebuild_command_mends_tallies_and_totals_that_drifted(app, ctx):
    build_world(seed=5, scale=1)
    assert_in_step()
    db.session.execute(HoursTally.__table__.delete().where(HoursTally.dimension == TallyDimension.MONTH))
    db.session.add(HoursTotal(dimension=TallyDimension.COURSE, key=424242, individuals=3, minutes=180))
    db.session.commit()
    assert kept() != from_entries()

    result = app.test_cli_runner().invoke(args=["portal", "rebuild-tallies"])

    assert result.exit_code == 0, result.output
    assert "rebuilt" in result.output
    db.session.expire_all()
    assert_in_step()
    assert log_rows() == len(totals())  # one row per figure again


@pytest.mark.postgres
def test_a_courses_areas_changed_while_its_first_hours_are_written_moves_those_hours_too(app, make):
    """The provider changes a course's competence areas while HR logs someone's first hours on it: the new
    hours end up under the new area, whichever transaction commits first."""
    course = make.course(competence_areas=[make.competence_area("cnc")])
    earlier, newcomer = make.employee(), make.employee()
    verified(date(2026, 3, 2), employee=earlier, course=course)
    db.session.commit()
    course_id, newcomer_id, welding_id = course.id, newcomer.id, make.competence_area("welding").id
    changed = threading.Event()

    def change_areas(all_ready):
        all_ready()
        found = db.session.get(Course, course_id)
        found.competence_areas = [db.session.get(CompetenceArea, welding_id)]
        db.session.flush()  # rebuilds the tallies of everyone with hours on the course so far
        changed.set()
        time.sleep(0.5)  # the hours below are written meanwhile
        db.session.commit()

    def log_hours(all_ready):
        all_ready()
        changed.wait(20)
        verified(date(2026, 3, 3), employee_id=newcomer_id, course_id=course_id)
        db.session.commit()

    at_once(app, change_areas, log_hours)
    areas = select(HoursTally.employee_id, HoursTally.key).where(HoursTally.dimension == TallyDimension.AREA)
    assert set(db.session.execute(areas)) == {(earlier.id, welding_id), (newcomer_id, welding_id)}
    assert_in_step()
