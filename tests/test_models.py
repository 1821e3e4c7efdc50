"""Constraints the database keeps, whatever the code above it does."""
from datetime import date, datetime

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from portal.extensions import db
from portal.models import BookingStatus, Delivery, HoursEntry, HoursSource, Role, User


def test_a_role_belongs_to_exactly_the_tenant_it_needs(make):
    company, provider = make.company(), make.provider()
    for role, fields in (
        (Role.HR, {}),
        (Role.HR, {"company": company, "provider": provider}),
        (Role.PROVIDER, {"company": company}),
        (Role.PM, {"company": company}),
    ):
        db.session.add(User(email=f"{role}@x.se", name="X", password_hash="x", role=role, **fields))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_an_employee_holds_one_live_booking_per_session(make):
    session, employee = make.session(), make.employee()
    make.booking(session, employee)
    with pytest.raises(IntegrityError):
        make.booking(session, employee, BookingStatus.WAITLISTED)
    db.session.rollback()


def test_a_cancelled_booking_does_not_block_booking_again(make):
    session, employee = make.session(), make.employee()
    make.booking(session, employee, BookingStatus.CANCELLED)
    make.booking(session, employee, BookingStatus.CANCELLED)
    assert make.booking(session, employee).status == BookingStatus.BOOKED


def test_manual_hours_cannot_claim_an_attendance_and_stay_within_a_day(make):
    employee = make.employee()
    db.session.add(HoursEntry(delivery=Delivery.IN_PERSON, employee=employee, company=employee.company, entry_date=date(2026, 3, 2), minutes=1500, source=HoursSource.MANUAL))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(HoursEntry(delivery=Delivery.IN_PERSON, employee=employee, company=employee.company, entry_date=date(2026, 3, 2), minutes=60, source=HoursSource.ATTENDANCE))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_session_capacity_must_be_positive(make):
    with pytest.raises(IntegrityError):
        make.session(capacity=0)
    db.session.rollback()


def test_meetings_end_after_they_start(make):
    session = make.session()
    meeting = session.meetings[0]
    meeting.ends_at = meeting.starts_at
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_org_numbers_are_unique(make):
    first = make.company()
    with pytest.raises(IntegrityError):
        make.company(org_number=first.org_number)
    db.session.rollback()


def test_timestamps_must_carry_a_timezone(make):
    session = make.session()
    session.booking_deadline = datetime(2026, 3, 1, 12, 0)
    with pytest.raises(StatementError):
        db.session.commit()
    db.session.rollback()


def test_timestamps_come_back_in_utc(make):
    session = make.session()
    db.session.expire_all()
    assert session.meetings[0].starts_at.utcoffset().total_seconds() == 0


def test_unknown_enum_values_are_refused(make):
    employee = make.employee()
    employee.employment_status = "retired"
    with pytest.raises(StatementError):
        db.session.commit()
    db.session.rollback()
