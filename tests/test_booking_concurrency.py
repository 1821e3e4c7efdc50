"""Many companies booking the last seat at once: exactly one gets it, the rest queue in order.
Runs on this run's database, SQLite or PostgreSQL, with real connections from many threads."""
import sqlite3
from datetime import timedelta
import threading

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from portal.extensions import db
from portal.models import Booking, BookingStatus, Role, Session
from tests.conftest import ON_POSTGRES, csrf_token, sign_in

REQUESTS = 40
COMPANIES = 8


@pytest.fixture
def last_seat(make):
    """A session with one seat left, and 40 employees of 8 companies, each with a signed-in HR."""
    session = make.session(capacity=5)
    for _ in range(4):
        make.booking(session, make.employee())
    people = []
    for _ in range(COMPANIES):
        hr = make.user(Role.HR)
        people += [(hr.email, make.employee(hr.company).id) for _ in range(REQUESTS // COMPANIES)]
    return session.id, people


def test_forty_concurrent_requests_for_the_last_seat_book_exactly_one(app, last_seat):
    session_id, people = last_seat
    clients = []
    for email, employee_id in people:
        client = app.test_client()
        sign_in(client, email)
        clients.append((client, csrf_token(client, "/"), employee_id))
    start = threading.Barrier(len(clients))
    answers: list[int] = []

    def book(client, token, employee_id):
        start.wait()
        response = client.post(f"/sessions/{session_id}/book", data={"employee_ids": employee_id, "csrf_token": token})
        answers.append(response.status_code)

    threads = [threading.Thread(target=book, args=args) for args in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(answers) == [200] * REQUESTS
    with app.app_context():
        session = db.session.get(Session, session_id)
        assert session.seats_taken == session.capacity == 5
        mine = select(Booking).where(Booking.session_id == session_id, Booking.status != BookingStatus.CANCELLED)
        booked = db.session.scalars(mine.where(Booking.status == BookingStatus.BOOKED)).all()
        assert len(booked) == 5  # the four before, and exactly one of the forty
        line = db.session.scalars(
            mine.where(Booking.status == BookingStatus.WAITLISTED).order_by(Booking.requested_at, Booking.id)
        ).all()
        assert len(line) == REQUESTS - 1
        # Request order: who took the lock first was written first, and stands first in line.
        assert [b.id for b in line] == sorted(b.id for b in line)
        assert len({b.employee_id for b in booked + line}) == REQUESTS + 4


def test_a_request_that_cannot_get_the_lock_is_told_to_try_again_and_changes_nothing(app, make):
    hr = make.user(Role.HR)
    session = make.session()
    employee = make.employee(hr.company)
    client = app.test_client()
    sign_in(client, hr.email)
    token = csrf_token(client, "/")
    with _held_lock(app, session.id):
        response = client.post(f"/sessions/{session.id}/book", data={"employee_ids": employee.id, "csrf_token": token})
    assert response.status_code == 503
    assert "Försök igen om en liten stund" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Booking.id))) == 0


class _held_lock:
    """Another connection holding the session's write lock, as a slow booking would."""

    def __init__(self, app, session_id):
        self.url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        self.session_id = session_id

    def __enter__(self):
        if ON_POSTGRES:
            self.connection = psycopg.connect(host=self.url.host, port=self.url.port or 5432,
                                              user=self.url.username, dbname=self.url.database)
            self.connection.execute("SELECT id FROM sessions WHERE id = %s FOR UPDATE", (self.session_id,))
        else:
            self.connection = sqlite3.connect(self.url.database, isolation_level=None)
            self.connection.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc):
        self.connection.rollback()
        self.connection.close()


def test_one_employee_booked_at_once_into_two_overlapping_sessions_gets_one(app, make):
    hr = make.user(Role.HR)
    employee_id = make.employee(hr.company).id
    first = make.session()
    second = make.session(starts_at=first.meetings[0].starts_at + timedelta(hours=1))
    clients = []
    for session in (first, second):
        client = app.test_client()
        sign_in(client, hr.email)
        clients.append((client, csrf_token(client, "/"), session.id))
    start = threading.Barrier(2)

    def book(client, token, session_id):
        start.wait()
        client.post(f"/sessions/{session_id}/book", data={"employee_ids": employee_id, "csrf_token": token})

    for _ in range(5):  # a race lost once in a while is still a race: try it several times
        threads = [threading.Thread(target=book, args=args) for args in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        with app.app_context():
            live = db.session.scalars(select(Booking).where(Booking.status == BookingStatus.BOOKED)).all()
            assert len(live) == 1
            db.session.execute(Booking.__table__.delete())
            db.session.execute(Session.__table__.update().values(seats_taken=0))
            db.session.commit()
