"""Booking rules: seats, the waitlist, caps, refusals, cancelling and promotion."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AuditEvent, Booking, BookingStatus, Notification, OutboxEmail, Role, Session, SessionStatus,
)
from portal.services import DomainError
from portal.services import booking as service
from tests.conftest import count_queries

NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def req(app, ctx):
    with app.test_request_context():
        yield


@pytest.fixture
def hr(make, req):
    return make.user(Role.HR)


def staff(make, company, n, **fields):
    return [make.employee(company, **fields) for _ in range(n)]


def statuses(session) -> list[BookingStatus]:
    return list(db.session.scalars(select(Booking.status).where(Booking.session_id == session.id).order_by(Booking.id)))


def results(outcomes) -> list[str]:
    return [outcome.result for outcome in outcomes]


class TestBooking:
    def test_employees_are_booked_until_full_then_waitlisted_in_order(self, make, hr):
        session = make.session(capacity=2)
        people = staff(make, hr.company, 4)
        outcomes = service.book_employees(session.id, [p.id for p in people], hr).outcomes
        db.session.commit()
        assert results(outcomes) == ["booked", "booked", "waitlisted", "waitlisted"]
        assert [o.place for o in outcomes[2:]] == [1, 2]
        assert db.session.get(Session, session.id).seats_taken == 2
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "booking.created")) == 4

    def test_the_same_employee_twice_and_a_double_submitted_form_book_once(self, make, hr):
        session = make.session()
        anna = make.employee(hr.company)
        assert results(service.book_employees(session.id, [anna.id, anna.id], hr).outcomes) == ["booked"]
        db.session.commit()
        again = service.book_employees(session.id, [anna.id], hr).outcomes
        assert results(again) == ["refused"] and "redan bokad" in again[0].reason.lower()
        assert statuses(session) == [BookingStatus.BOOKED]

    def test_a_company_over_its_seat_cap_waits_until_the_cap_is_released(self, make, hr):
        session = make.session(capacity=10, company_seat_cap=2, seat_cap_released_at=NOW + timedelta(days=3))
        people = staff(make, hr.company, 3)
        assert results(service.book_employees(session.id, [p.id for p in people], hr).outcomes) == ["booked", "booked", "waitlisted"]
        other_hr = make.user(Role.HR)
        assert results(service.book_employees(session.id, [make.employee(other_hr.company).id], other_hr).outcomes) == ["booked"]
        db.session.commit()
        assert service.sessions_with_released_caps() == []  # not released yet
        db.session.get(Session, session.id).seat_cap_released_at = NOW - timedelta(minutes=1)
        db.session.commit()
        assert service.sessions_with_released_caps() == [session.id]
        assert service.release_seat_cap(session.id) == 1
        db.session.commit()
        assert statuses(session).count(BookingStatus.BOOKED) == 4

    def test_an_unreleased_cap_holds_even_with_seats_free(self, make, hr):
        session = make.session(capacity=10, company_seat_cap=1)  # never released
        people = staff(make, hr.company, 2)
        assert results(service.book_employees(session.id, [p.id for p in people], hr).outcomes) == ["booked", "waitlisted"]

    @pytest.mark.parametrize(("change", "words"), [
        ({"status": SessionStatus.CANCELLED}, "inställt"),
        ({"status": SessionStatus.COMPLETED}, "redan genomfört"),
        ({"status": SessionStatus.PLANNED}, "inte öppet"),
        ({"status": SessionStatus.POSTPONED}, "uppskjutet"),
        ({"booking_deadline": NOW - timedelta(minutes=1)}, "sista bokningsdag"),
    ])
    def test_a_closed_session_refuses_everyone_with_the_reason(self, make, hr, change, words):
        session = make.session(**change)
        outcomes = service.book_employees(session.id, [make.employee(hr.company).id], hr).outcomes
        assert results(outcomes) == ["refused"] and words in outcomes[0].reason.lower()
        assert statuses(session) == []

    def test_refusals_per_employee_name_the_reason(self, make, hr):
        session = make.session()
        busy = make.employee(hr.company)
        elsewhere = make.session(starts_at=session.meetings[0].starts_at + timedelta(hours=2))
        make.booking(elsewhere, busy)
        gone = make.employee(hr.company, is_active=False)
        stranger = make.employee()  # another company's
        fine = make.employee(hr.company)
        outcomes = service.book_employees(session.id, [busy.id, gone.id, stranger.id, fine.id, 999999], hr).outcomes
        assert results(outcomes) == ["refused", "refused", "refused", "booked", "refused"]
        assert elsewhere.course.title in outcomes[0].reason
        assert "avaktiverad" in outcomes[1].reason
        assert outcomes[2].name == "" and "inte en av" in outcomes[2].reason.lower()  # names nothing of a stranger
        assert statuses(session) == [BookingStatus.BOOKED]

    def test_a_long_meeting_begun_the_day_before_still_clashes_and_one_just_ended_does_not(self, make, hr):
        session = make.session()
        start = session.meetings[0].starts_at  # a six-hour meeting
        overnight, earlier = make.employee(hr.company), make.employee(hr.company)
        long_one = make.session(starts_at=start - timedelta(hours=22))
        long_one.meetings[0].ends_at = start + timedelta(minutes=30)  # 22.5 hours, into the session's meeting
        make.booking(long_one, overnight)
        make.booking(make.session(starts_at=start - timedelta(hours=6)), earlier)  # ends as ours starts
        db.session.commit()

        assert set(service.clash_details([overnight.id, earlier.id], session)) == {overnight.id}
        outcomes = service.book_employees(session.id, [overnight.id, earlier.id], hr).outcomes
        assert results(outcomes) == ["refused", "booked"]
        assert long_one.course.title in outcomes[0].reason

    def test_only_hr_books(self, make, req):
        with pytest.raises(DomainError):
            service.book_employees(make.session().id, [make.employee().id], make.user(Role.PM))

    def test_booking_fifty_runs_as_many_queries_as_booking_five(self, make, hr):
        few = [p.id for p in staff(make, hr.company, 5)]
        many = [p.id for p in staff(make, hr.company, 50)]
        small, large = make.session(capacity=60).id, make.session(capacity=60).id
        warm_up = make.session().id
        service.book_employees(warm_up, [make.employee(hr.company).id], hr)  # loads the actor once
        db.session.flush()
        with count_queries() as five:
            service.book_employees(small, few, hr)
            db.session.flush()
        with count_queries() as fifty:
            service.book_employees(large, many, hr)
            db.session.flush()
        assert len(fifty) == len(five)
        db.session.commit()
        assert db.session.get(Session, large).seats_taken == 50
        assert len(fifty) <= 20  # a handful of statements, whatever the number of employees


class TestCancelling:
    def test_a_freed_seat_goes_to_the_first_in_line_the_rules_allow(self, make, hr, app):
        session = make.session(capacity=1, company_seat_cap=1)
        other_hr = make.user(Role.HR)
        mine = staff(make, hr.company, 2, email="x@a.se")
        theirs = make.employee(other_hr.company, email="t@b.se")
        service.book_employees(session.id, [mine[0].id, mine[1].id], hr)  # mine[1] waitlisted (full)
        service.book_employees(session.id, [theirs.id], other_hr)  # waitlisted second
        db.session.commit()
        booked = db.session.scalars(select(Booking).where(Booking.employee_id == mine[0].id)).one()
        promoted = service.cancel_booking(booked, hr)
        db.session.commit()
        # mine[1] is first in line but the company is at its cap of 1 again? No: the cancel freed it.
        assert [b.employee_id for b in promoted] == [mine[1].id]
        note = db.session.scalars(select(Notification).where(Notification.user_id == hr.id)).one()
        assert note.kind == "booking.promoted" and mine[1].name in note.body
        assert "x@a.se" in set(db.session.scalars(select(OutboxEmail.to_address)))

    def test_promotion_skips_those_who_would_clash_or_break_the_cap(self, make, hr):
        session = make.session(capacity=2, company_seat_cap=1)
        other_hr = make.user(Role.HR)
        first, second = make.employee(hr.company), make.employee(hr.company)
        clashing = make.employee(other_hr.company)
        third = make.employee(other_hr.company)
        service.book_employees(session.id, [first.id, second.id], hr)  # second over the cap: waitlisted
        make.booking(make.session(starts_at=session.meetings[0].starts_at), clashing)
        db.session.commit()
        service.book_employees(session.id, [third.id], other_hr)  # booked: seat 2
        db.session.commit()
        # clashing joins the line by hand, as if the clash came later (the other booking made after).
        db.session.add(Booking(session_id=session.id, employee_id=clashing.id, company_id=clashing.company_id,
                               status=BookingStatus.WAITLISTED, requested_at=NOW - timedelta(days=1)))
        db.session.commit()
        third_booking = db.session.scalars(select(Booking).where(Booking.employee_id == third.id)).one()
        promoted = service.cancel_booking(third_booking, other_hr)
        # In line: clashing (earliest), then second. clashing clashes; second is over hr's cap: nobody.
        assert promoted == []
        db.session.rollback()

    def test_hr_cannot_cancel_after_the_deadline_but_the_programme_office_can(self, make, hr):
        session = make.session(cancellation_deadline=NOW - timedelta(hours=1), booking_deadline=NOW + timedelta(days=1))
        booking = make.booking(session, make.employee(hr.company))
        with pytest.raises(DomainError):
            service.cancel_booking(booking, hr)
        db.session.rollback()
        service.cancel_booking(db.session.get(Booking, booking.id), make.user(Role.PM))
        db.session.commit()
        assert statuses(session) == [BookingStatus.CANCELLED]
        assert db.session.get(Session, session.id).seats_taken == 0

    def test_leaving_the_waitlist_frees_no_seat_and_is_allowed_after_the_deadline(self, make, hr):
        session = make.session(capacity=1, cancellation_deadline=NOW - timedelta(hours=1))
        make.booking(session, make.employee())
        waiting = make.booking(session, make.employee(hr.company), BookingStatus.WAITLISTED)
        assert service.cancel_booking(waiting, hr) == []
        assert db.session.get(Session, session.id).seats_taken == 1

    def test_a_cancelled_booking_cannot_be_cancelled_again(self, make, hr):
        booking = make.booking(make.session(), make.employee(hr.company), BookingStatus.CANCELLED)
        with pytest.raises(DomainError):
            service.cancel_booking(booking, hr)

    def test_a_larger_capacity_gives_the_new_seats_to_the_waitlist(self, make, hr):
        from portal.services import catalogue

        provider_user = make.user(Role.PROVIDER)
        session = make.session(make.course(provider_user.provider), capacity=1)
        people = staff(make, hr.company, 3)
        service.book_employees(session.id, [p.id for p in people], hr)
        db.session.commit()
        data = catalogue.SessionData(capacity=3, booking_deadline=session.booking_deadline,
                                     cancellation_deadline=session.cancellation_deadline)
        catalogue.update_session(session, provider_user, data)
        db.session.commit()
        assert statuses(session) == [BookingStatus.BOOKED] * 3

    def test_no_promotion_after_the_booking_deadline(self, make, hr):
        session = make.session(capacity=1, booking_deadline=NOW - timedelta(hours=1))
        booked = make.booking(session, make.employee(hr.company))
        make.booking(session, make.employee(hr.company), BookingStatus.WAITLISTED)
        assert service.cancel_booking(booked, hr) == []


def test_the_seat_cap_job_promotes_when_a_cap_is_released(app, make, hr):
    from portal.jobs.scheduler import build_scheduler
    from portal.jobs.seats import release_caps

    session = make.session(capacity=5, company_seat_cap=1, seat_cap_released_at=NOW - timedelta(minutes=1))
    make.booking(session, make.employee(hr.company))
    make.booking(session, make.employee(hr.company), BookingStatus.WAITLISTED)
    release_caps(app)
    db.session.expire_all()
    assert statuses(session) == [BookingStatus.BOOKED, BookingStatus.BOOKED]
    job = build_scheduler(app).get_job("release_caps")
    assert job.func is release_caps and job.trigger.interval == timedelta(minutes=5)
