"""The synthetic programme at scale: the counts it promises, data the booking and hours rules accept,
and the same rows for the same seed and anchor."""
import hashlib
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.generate import GROUP_SIZE, REFERENCE_TABLES, SCALE_PASSWORD, ScaledCounts
from portal.models import (
    Attendance, AttendanceStatus, Booking, BookingStatus, Company, Course, Delivery, Employee, HoursEntry, HoursSource,
    HoursTotal, Meeting, Municipality, PlanItem, Programme, Provider, Restriction, Role, Session, SessionStatus,
    TrainingPlan, User,
)
from portal.services.accounts import authenticate
from tests.test_tallies import kept, log_rows, totals, totals_of

SCALE = "0.005"
ANCHOR = "2026-11-16"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def generate(app, ctx):
    runner = app.test_cli_runner()

    def run(*options: str, seed: str = "7"):
        arguments = ["portal", "generate", "--scale", SCALE, "--seed", seed, "--anchor", ANCHOR, *options]
        return runner.invoke(args=arguments)

    return run


def count(model_or_statement) -> int:
    """Rows of a model, or rows a statement returns."""
    if hasattr(model_or_statement, "subquery"):
        return db.session.scalar(select(func.count()).select_from(model_or_statement.subquery()))
    return db.session.scalar(select(func.count()).select_from(model_or_statement))


def fingerprint() -> str:
    """A digest of every generated row (the salted password hashes aside, and the totals' ids, which the
    database numbers as rows are appended)."""
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        if table.name in REFERENCE_TABLES:
            continue
        columns = [column for column in table.columns if column.name != "password_hash"]
        order = table.primary_key.columns
        if table is HoursTotal.__table__:
            columns = order = [column for column in columns if column.name != "id"]
        for row in db.session.execute(select(*columns).order_by(*order)):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_scale_one_hundredth_gives_the_documented_counts():
    counts = ScaledCounts.at(0.01)
    organisations = (counts.companies, counts.employees, counts.providers, counts.courses, counts.sessions)
    assert organisations == (10, 500, 2, 20, 100)
    assert (counts.bookings, counts.hours_entries, counts.plan_items, counts.postponed) == (2500, 5000, 80, 10)
    assert ScaledCounts.at(0.002).providers == 1  # at least one of each


def test_generate_builds_every_count_in_proportion_to_the_scale(generate):
    result = generate()
    assert result.exit_code == 0, result.output
    assert "Built in" in result.output
    assert count(Programme) == 1
    assert (count(Company), count(Employee), count(Provider), count(Course)) == (5, 250, 1, 10)
    assert (count(Session), count(Meeting), count(Booking), count(HoursEntry)) == (50, 150, 1250, 2500)
    assert (count(TrainingPlan), count(PlanItem)) == (5, 40)
    assert count(User) == 1 + 5 + 1  # the programme office, HR per company, one per provider
    assert count(select(Session.id).where(Session.status == SessionStatus.POSTPONED)) == 5
    # Each hours entry keeps its employee's company.
    assert count(select(HoursEntry.id).join(Employee, Employee.id == HoursEntry.employee_id)
                 .where(HoursEntry.company_id != Employee.company_id)) == 0


def test_the_programmes_totals_are_one_row_per_key_of_its_tallies(generate):
    assert generate().exit_code == 0
    assert totals() == totals_of(kept()) and log_rows() == len(totals()) > 0


def test_generated_bookings_keep_the_booking_rules(generate):
    assert generate().exit_code == 0
    booked = (
        select(func.count(Booking.id))
        .where(Booking.session_id == Session.id, Booking.status == BookingStatus.BOOKED)
        .scalar_subquery()
    )
    assert count(select(Session.id).where(Session.seats_taken != booked)) == 0
    assert count(select(Session.id).where(Session.seats_taken > Session.capacity)) == 0
    live_twice = (
        select(Booking.session_id, Booking.employee_id).where(Booking.status != BookingStatus.CANCELLED)
        .group_by(Booking.session_id, Booking.employee_id).having(func.count() > 1)
    )
    assert count(live_twice) == 0
    assert count(select(Booking.id).join(Employee).where(Booking.company_id != Employee.company_id)) == 0
    late = select(Booking.id).join(Session).where(Booking.requested_at >= Session.booking_deadline)
    assert count(late) == 0
    waiting_with_seats_free = (
        select(Booking.id).join(Session)
        .where(Booking.status == BookingStatus.WAITLISTED, Session.seats_taken < Session.capacity)
    )
    assert count(waiting_with_seats_free) == 0
    assert count(select(Booking.id).where(Booking.status == BookingStatus.BOOKED)) > 0


def test_no_employee_is_booked_on_two_sessions_at_once(generate):
    assert generate().exit_code == 0
    mine, theirs = aliased(Booking), aliased(Booking)
    my_meeting, their_meeting = aliased(Meeting), aliased(Meeting)
    clashes = (
        select(mine.id)
        .join(my_meeting, my_meeting.session_id == mine.session_id)
        .join(theirs, and_(theirs.employee_id == mine.employee_id, theirs.session_id > mine.session_id))
        .join(their_meeting, their_meeting.session_id == theirs.session_id)
        .where(mine.status == BookingStatus.BOOKED, theirs.status == BookingStatus.BOOKED,
               my_meeting.starts_at < their_meeting.ends_at, their_meeting.starts_at < my_meeting.ends_at)
    )
    assert count(clashes) == 0


def test_each_attended_meeting_has_exactly_its_hours(generate):
    assert generate().exit_code == 0
    rows = db.session.execute(
        select(HoursEntry, Attendance, Meeting, Booking)
        .join(Attendance, Attendance.id == HoursEntry.attendance_id)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .join(Booking, Booking.id == Attendance.booking_id)
        .where(HoursEntry.source == HoursSource.ATTENDANCE)
    ).all()
    attended = count(select(Attendance.id).where(Attendance.status == AttendanceStatus.ATTENDED))
    assert len(rows) == attended > 0
    assert count(select(HoursEntry.id).where(HoursEntry.source == HoursSource.ATTENDANCE)) == attended
    for entry, attendance, meeting, booking in rows:
        assert attendance.status == AttendanceStatus.ATTENDED
        assert (entry.employee_id, entry.session_id) == (booking.employee_id, meeting.session_id)
        assert entry.minutes == meeting.minutes
        assert entry.entry_date == meeting.starts_at.astimezone(STOCKHOLM).date()
        assert entry.delivery == (Delivery.IN_PERSON if meeting.in_person else Delivery.DIGITAL)
    manual = select(HoursEntry.id).where(HoursEntry.source == HoursSource.MANUAL, HoursEntry.attendance_id.is_(None))
    assert count(manual) == 2500 - attended


def test_no_employee_logs_more_than_a_day_on_one_day(generate):
    assert generate().exit_code == 0
    over = (
        select(HoursEntry.employee_id, HoursEntry.entry_date)
        .group_by(HoursEntry.employee_id, HoursEntry.entry_date).having(func.sum(HoursEntry.minutes) > 24 * 60)
    )
    assert count(over) == 0


def test_the_restriction_postponed_the_in_person_sessions_booked_beyond_its_group(generate):
    assert generate().exit_code == 0
    restriction = db.session.scalars(select(Restriction)).one()
    assert restriction.max_group_size == GROUP_SIZE and restriction.lifted_on is None
    postponed = db.session.scalars(select(Session).where(Session.status == SessionStatus.POSTPONED)).all()
    anchor = datetime.fromisoformat(ANCHOR).replace(tzinfo=timezone.utc)
    assert len(postponed) == 5
    for session in postponed:
        assert session.postponed_by_id == restriction.id and session.postponed_at is not None
        assert session.seats_taken > GROUP_SIZE
        assert any(meeting.in_person for meeting in session.meetings)
        assert all(meeting.starts_at > anchor for meeting in session.meetings)
    open_beyond_the_group = select(Session.id).where(
        Session.status == SessionStatus.OPEN, Session.seats_taken > GROUP_SIZE,
        Session.meetings.any(Meeting.municipality_id.is_not(None)),
    )
    assert count(open_beyond_the_group) == 0


def test_the_same_seed_and_anchor_give_the_same_rows(generate):
    assert generate().exit_code == 0
    first = fingerprint()
    assert generate("--reset").exit_code == 0
    assert fingerprint() == first
    assert generate("--reset", seed="8").exit_code == 0
    assert fingerprint() != first


def test_generate_refuses_a_database_with_data_unless_reset(generate):
    municipalities = count(Municipality)
    assert generate().exit_code == 0
    refused = generate()
    assert refused.exit_code != 0 and "not empty" in refused.output
    assert generate("--reset").exit_code == 0
    assert count(Municipality) == municipalities  # the reference data stays
    assert count(Company) == 5


def test_generated_accounts_sign_in_with_the_scale_password(generate):
    assert generate().exit_code == 0
    assert authenticate("pm@scale.example", SCALE_PASSWORD).role == Role.PM
    assert authenticate("hr1@scale.example", SCALE_PASSWORD).role == Role.HR
    assert authenticate("provider1@scale.example", SCALE_PASSWORD).role == Role.PROVIDER


@pytest.mark.parametrize("scale, message", [("0", "smallest scale is 0.002"), ("-1", "smallest scale"),
                                            ("11", "largest scale is 10"), ("abc", "not a valid float")])
def test_a_scale_out_of_range_is_refused_and_writes_nothing(app, ctx, scale, message):
    from portal.models import Employee

    refused = app.test_cli_runner().invoke(args=["portal", "generate", "--scale", scale])
    assert refused.exit_code != 0 and message in refused.output
    assert count(Company) == count(Employee) == 0
