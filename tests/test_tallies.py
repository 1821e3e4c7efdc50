"""Hours tallies stay exactly what the hours entries sum to: after every kind of change, through the
services and straight through the ORM, after a rollback, after the migration fills them, and when two
transactions change one person's hours at once."""
import random
import threading
from datetime import date, datetime, timedelta, timezone

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db
from portal.models import (
    AttendanceStatus, Delivery, Employee, HoursEntry, HoursSource, HoursTally, Programme, Role, TallyDimension,
    Verification,
)
from portal.services import attendance, hours, reports, tallies
from portal.services.reports import ReportFilters
from tests.conftest import config_for_tests
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


def assert_in_step() -> None:
    expected = from_entries()
    assert kept() == expected
    assert expected  # the comparison is about something


def test_a_known_entry_gives_its_tallies(ctx, make):
    employee = make.employee(birth_year=1980)
    course = make.course()
    db.session.add(HoursEntry(employee=employee, entry_date=date(2026, 3, 2), minutes=90, source=HoursSource.MANUAL,
                              verification=Verification.VERIFIED, delivery=Delivery.DIGITAL, course=course))
    db.session.commit()
    assert kept() == {
        (TallyDimension.PERSON, 0, employee.id, employee.company_id, 90),
        (TallyDimension.AGE, 2026 - employee.birth_year, employee.id, employee.company_id, 90),
        (TallyDimension.MONTH, 202603, employee.id, employee.company_id, 90),
        (TallyDimension.DELIVERY, tallies.DELIVERY_KEYS[Delivery.DIGITAL], employee.id, employee.company_id, 90),
        (TallyDimension.COURSE, course.id, employee.id, employee.company_id, 90),
        (TallyDimension.PROVIDER, course.provider_id, employee.id, employee.company_id, 90),
        (TallyDimension.AREA, course.competence_areas[0].id, employee.id, employee.company_id, 90),
    }  # a manual entry belongs to no session


def test_hours_that_do_not_count_have_no_tallies(ctx, make):
    employee = make.employee()
    for verification in (Verification.PENDING, Verification.REJECTED):
        db.session.add(HoursEntry(employee=employee, entry_date=date(2026, 3, 2), minutes=60,
                                  source=HoursSource.MANUAL, verification=verification, delivery=Delivery.DIGITAL))
    db.session.commit()
    assert kept() == set()


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
    db.session.add(HoursEntry(employee=employee, entry_date=date(2026, 3, 2), minutes=60, source=HoursSource.MANUAL,
                              verification=Verification.VERIFIED, delivery=Delivery.DIGITAL))
    db.session.commit()
    ages = select(HoursTally.key).where(HoursTally.dimension == TallyDimension.AGE)
    assert db.session.scalars(ages).all() == [36]
    employee.birth_year = 1960
    db.session.commit()
    assert db.session.scalars(ages).all() == [66]
    employee.birth_year = None  # as when the person is erased
    db.session.commit()
    assert db.session.scalars(ages).all() == [tallies.AGE_NOT_STATED_KEY]
    assert_in_step()


def test_a_course_given_other_competence_areas_moves_its_hours_to_them(ctx, make):
    course = make.course(competence_areas=[make.competence_area("cnc")])
    people = [make.employee() for _ in range(2)]
    for person in people:
        db.session.add(HoursEntry(employee=person, entry_date=date(2026, 3, 2), minutes=60, course=course,
                                  source=HoursSource.MANUAL, verification=Verification.VERIFIED,
                                  delivery=Delivery.DIGITAL))
    db.session.commit()
    welding, automation = make.competence_area("welding"), make.competence_area("automation")
    course.competence_areas = [welding, automation]
    db.session.commit()
    areas = select(HoursTally.key, func.count()).where(HoursTally.dimension == TallyDimension.AREA).group_by(HoursTally.key)
    assert dict(db.session.execute(areas).all()) == {welding.id: 2, automation.id: 2}
    assert_in_step()


def test_a_rollback_leaves_the_tallies_as_they_were(ctx, make):
    employee = make.employee()
    db.session.add(HoursEntry(employee=employee, entry_date=date(2026, 3, 2), minutes=60, source=HoursSource.MANUAL,
                              verification=Verification.VERIFIED, delivery=Delivery.DIGITAL))
    db.session.commit()
    before = kept()
    db.session.add(HoursEntry(employee=employee, entry_date=date(2026, 4, 2), minutes=60, source=HoursSource.MANUAL,
                              verification=Verification.VERIFIED, delivery=Delivery.DIGITAL))
    db.session.flush()
    assert kept() != before  # in step within the transaction
    db.session.rollback()
    assert kept() == before


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


def test_the_migration_fills_the_tallies_from_the_hours_there_are(empty_database_url):  # noqa: F811
    app = create_app(config_for_tests(empty_database_url))
    with app.app_context():
        upgrade()
        from portal.services.reference import load_reference_data

        load_reference_data()
        build_world(seed=7, scale=2)
        expected = from_entries()
        db.session.commit()
        db.session.remove()
        downgrade(revision="0007")
        upgrade()
        assert kept() == expected
        db.session.remove()
        db.engine.dispose()


def test_two_transactions_adding_one_persons_hours_at_once_both_count(app, make):
    """Each transaction rebuilds the person's tallies; the second waits for the first and sees its hours."""
    employee = make.employee()
    db.session.commit()
    employee_id = employee.id
    start = threading.Barrier(2)
    failures = []

    def add(minutes):
        try:
            with app.app_context():
                db.session.add(HoursEntry(employee_id=employee_id, entry_date=date(2026, 3, 2), minutes=minutes,
                                          source=HoursSource.MANUAL, verification=Verification.VERIFIED,
                                          delivery=Delivery.DIGITAL))
                start.wait()
                db.session.commit()
        except Exception as error:  # reported below: a thread's exception would otherwise vanish
            failures.append(error)

    threads = [threading.Thread(target=add, args=(minutes,)) for minutes in (60, 90)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    db.session.expire_all()
    assert (TallyDimension.PERSON, 0, employee_id, db.session.get(Employee, employee_id).company_id, 150) in kept()
    assert_in_step()
