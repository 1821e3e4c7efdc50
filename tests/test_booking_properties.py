"""A stateful property test: any sequence of booking, cancelling and changing capacity keeps the
invariants after every step."""
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from portal.extensions import db
from portal.models import Booking, BookingStatus, Role, Session
from portal.services import DomainError, InvalidInput
from portal.services import booking as service
from portal.services import catalogue
from tests import factories as make
from tests.conftest import REFERENCE_TABLES


def live_line(session_id: int) -> list[int]:
    return list(db.session.scalars(
        select(Booking.employee_id)
        .where(Booking.session_id == session_id, Booking.status == BookingStatus.WAITLISTED)
        .order_by(Booking.requested_at, Booking.id)
    ))


class Seats(RuleBasedStateMachine):
    """One session, two companies (one capped at two seats), twelve employees."""

    @initialize(capacity=st.integers(min_value=1, max_value=4))
    def create(self, capacity):
        self.provider = make.user(Role.PROVIDER)
        self.session = make.session(make.course(self.provider.provider), capacity=capacity, company_seat_cap=None)
        self.hrs = [make.user(Role.HR), make.user(Role.HR)]
        self.staff = {hr.id: [make.employee(hr.company).id for _ in range(6)] for hr in self.hrs}
        self.line: list[int] = []

    @rule(company=st.integers(0, 1), picks=st.lists(st.integers(0, 5), min_size=1, max_size=4))
    def book(self, company, picks):
        hr = self.hrs[company]
        ids = [self.staff[hr.id][i] for i in picks]
        outcomes = service.book_employees(self.session.id, ids, hr).outcomes
        db.session.commit()
        self.line += [o.employee_id for o in outcomes if o.result == service.WAITLISTED]

    @rule(pick=st.integers(0, 40))
    def cancel(self, pick):
        live = db.session.scalars(
            select(Booking).where(Booking.session_id == self.session.id, Booking.status != BookingStatus.CANCELLED)
            .order_by(Booking.id)
        ).all()
        if not live:
            return
        booking = live[pick % len(live)]
        hr = next(h for h in self.hrs if h.company_id == booking.company_id)
        if booking.status == BookingStatus.WAITLISTED:
            self.line.remove(booking.employee_id)
        promoted = service.cancel_booking(booking, hr)
        db.session.commit()
        for promoted_booking in promoted:
            self.line.remove(promoted_booking.employee_id)

    @rule(capacity=st.integers(min_value=1, max_value=8))
    def change_capacity(self, capacity):
        session = db.session.get(Session, self.session.id)
        data = catalogue.SessionData(capacity=capacity, booking_deadline=session.booking_deadline,
                                     cancellation_deadline=session.cancellation_deadline)
        try:
            catalogue.update_session(session, self.provider, data)
        except (InvalidInput, DomainError):
            db.session.rollback()
            assert capacity < session.seats_taken  # refused only below the seats taken
            return
        db.session.commit()
        promoted = set(self.line) - set(live_line(self.session.id))
        self.line = [e for e in self.line if e not in promoted]

    @invariant()
    def never_overbooked_and_counted_right(self):
        session = db.session.get(Session, self.session.id)
        db.session.refresh(session)
        booked = db.session.scalars(
            select(Booking.employee_id).where(Booking.session_id == session.id, Booking.status == BookingStatus.BOOKED)
        ).all()
        assert len(booked) == session.seats_taken <= session.capacity

    @invariant()
    def nobody_twice(self):
        live = db.session.scalars(
            select(Booking.employee_id).where(Booking.session_id == self.session.id, Booking.status != BookingStatus.CANCELLED)
        ).all()
        assert len(live) == len(set(live))

    @invariant()
    def waitlist_keeps_its_order_and_waits_only_when_full(self):
        assert live_line(self.session.id) == self.line
        session = db.session.get(Session, self.session.id)
        if self.line:
            assert session.seats_taken == session.capacity  # no cap, no clash: nobody waits beside a free seat


class FreshSeats(Seats):
    """Each example starts from the reference data alone."""

    def teardown(self):
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES:
                db.session.execute(table.delete())
        db.session.commit()


def test_booking_invariants_hold_through_any_sequence(app):
    with app.test_request_context():
        run_state_machine_as_test(FreshSeats, settings=settings(
            max_examples=30, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow],
        ))
