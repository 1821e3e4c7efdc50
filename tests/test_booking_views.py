"""The booking pages: pick and book, see the outcome, follow and cancel; never another company's."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Booking, BookingStatus, Role
from tests.conftest import count_queries, csrf_token, sign_in


@pytest.fixture
def hr(make):
    return make.user(Role.HR)


@pytest.fixture
def signed_in(client, hr):
    sign_in(client, hr.email)
    return client


def post(client, path, data, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/"), **data}, **kwargs)


def test_hr_books_three_into_two_seats_and_sees_each_outcome(signed_in, make, hr):
    session = make.session(capacity=2)
    people = [make.employee(hr.company, first_name=name) for name in ("Ada", "Bo", "Cia")]
    response = post(signed_in, f"/sessions/{session.id}/book", {"employee_ids": [p.id for p in people]})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count('class="outcome-booked"') == 2 and page.count('class="outcome-waitlisted"') == 1
    assert "På väntelista, plats 1" in page
    assert [b.status for b in db.session.scalars(select(Booking).order_by(Booking.id))] == [
        BookingStatus.BOOKED, BookingStatus.BOOKED, BookingStatus.WAITLISTED]


def test_the_page_after_booking_shows_the_seats_as_they_stand_in_as_many_statements_for_ten_as_for_two(
        signed_in, make, hr):
    counts = []
    for size in (2, 10):
        session = make.session(capacity=12)
        people = [make.employee(hr.company).id for _ in range(size)]
        token = csrf_token(signed_in, "/")
        with count_queries() as statements:
            response = signed_in.post(f"/sessions/{session.id}/book", data={"csrf_token": token, "employee_ids": people})
        page = response.get_data(as_text=True)
        assert page.count('class="outcome-booked"') == size
        assert f'<dd id="seats-left">{12 - size} / 12</dd>' in page  # the seats as the booking left them
        counts.append(len(statements))
    # One of them reads the restrictions in force; the session is read with its meetings in one; the clashes of
    # those booked and of those the page lists in one.
    assert counts[0] == counts[1] <= 14, counts


def test_after_booking_the_roster_shows_who_was_just_booked_and_who_is_busy_from_one_clash_look_up(
        signed_in, make, hr):
    session = make.session(capacity=1)
    first, second = make.employee(hr.company, first_name="Först"), make.employee(hr.company, first_name="Andra")
    busy = make.employee(hr.company, first_name="Upptagen")
    make.booking(make.session(starts_at=session.meetings[0].starts_at), busy)
    token = csrf_token(signed_in, "/")
    with count_queries() as statements:
        page = signed_in.post(f"/sessions/{session.id}/book",
                              data={"csrf_token": token, "employee_ids": [first.id, second.id]}).get_data(as_text=True)
    assert len([s for s in statements if "booked_elsewhere" in s]) == 1
    assert f'id="employee-{first.id}" disabled' in page and f'id="employee-{second.id}" disabled' in page
    roster = page[page.index('id="roster"'):]
    # Their places as the booking left them (read before it, the roster had them unbooked).
    assert re.search(rf'for="employee-{first.id}">[^<]*<span[^>]*>[^<]*</span> · <span class="badge badge-booked">', roster)
    assert re.search(rf'for="employee-{second.id}">[^<]*<span[^>]*>[^<]*</span> · <span class="badge badge-waitlisted">', roster)
    assert f'name="employee_ids" value="{busy.id}"' in roster and "upptagen:" in roster


def test_after_booking_the_roster_shows_places_as_the_booking_left_them_the_line_promoted_first(
        signed_in, make, hr):
    session = make.session(capacity=1)
    make.booking(session, make.employee())  # another company's, in the one seat
    waiting = make.booking(session, make.employee(hr.company, first_name="Väntande"), BookingStatus.WAITLISTED)
    session.capacity = 2  # a seat no one has taken yet: the line gets it first
    db.session.commit()
    newcomer = make.employee(hr.company, first_name="Nykomling")
    page = post(signed_in, f"/sessions/{session.id}/book", {"employee_ids": [newcomer.id]}).get_data(as_text=True)
    assert 'class="outcome-waitlisted"' in page
    roster = page[page.index('id="roster"'):]
    assert re.search(rf'for="employee-{waiting.employee_id}">[^<]*<span[^>]*>[^<]*</span> · '
                     r'<span class="badge badge-booked">', roster)
    assert re.search(rf'for="employee-{newcomer.id}">[^<]*<span[^>]*>[^<]*</span> · '
                     r'<span class="badge badge-waitlisted">', roster)


@pytest.mark.parametrize("session_id", [987654, 2**31, 10**30])
def test_booking_into_a_session_that_does_not_exist_answers_404_and_books_nothing(signed_in, make, hr, session_id):
    employee = make.employee(hr.company)
    response = post(signed_in, f"/sessions/{session_id}/book", {"employee_ids": [employee.id]})
    assert response.status_code == 404
    assert db.session.scalar(select(Booking.id)) is None
    for page in (response, signed_in.get("/")):  # the 404 says it all: no refusal flashed on it or after it
        assert "finns inte längre" not in page.get_data(as_text=True)


def test_choosing_nobody_is_explained_and_books_nothing(signed_in, make):
    session = make.session()
    response = post(signed_in, f"/sessions/{session.id}/book", {})
    assert response.status_code == 422 and 'id="employee_ids-error"' in response.get_data(as_text=True)


def test_another_companys_employee_id_is_refused_by_name_of_nothing(signed_in, make):
    session = make.session()
    stranger = make.employee(first_name="Främling")
    page = post(signed_in, f"/sessions/{session.id}/book", {"employee_ids": [stranger.id]}).get_data(as_text=True)
    assert "Inte en av ert företags anställda." in page and "Främling" not in page
    assert db.session.scalars(select(Booking)).all() == []


def test_the_roster_filters_as_you_type_and_keeps_the_ticked(signed_in, make, hr):
    session = make.session()
    welder = make.employee(hr.company, first_name="Sven", last_name="Svetsare", job_role="svetsare")
    ticked = make.employee(hr.company, first_name="Tina", last_name="Truck", job_role="truckförare")
    make.employee(first_name="Olle", job_role="svetsare")  # another company's
    full = signed_in.get(f"/sessions/{session.id}/book?q=svets").get_data(as_text=True)
    assert "Sven Svetsare" in full and "Tina Truck" not in full and "Olle" not in full and "<html" in full
    fragment = signed_in.get(f"/sessions/{session.id}/book?q=SVETS&employee_ids={ticked.id}",
                             headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<fieldset id="roster"')
    assert "Sven Svetsare" in fragment and f'value="{ticked.id}" checked' in fragment
    assert welder.id


def test_the_roster_shows_who_is_booked_already_and_who_is_busy(signed_in, make, hr):
    session = make.session()
    booked = make.employee(hr.company, first_name="Bokad")
    busy = make.employee(hr.company, first_name="Upptagen")
    make.booking(session, booked)
    make.booking(make.session(starts_at=session.meetings[0].starts_at), busy)
    page = signed_in.get(f"/sessions/{session.id}/book").get_data(as_text=True)
    assert f'id="employee-{booked.id}" disabled' in page
    assert "upptagen:" in page


def test_bookings_list_shows_own_company_only_with_waitlist_places(signed_in, make, hr):
    session = make.session(capacity=1)
    make.booking(session, make.employee(first_name="Annan"))
    mine = make.booking(session, make.employee(hr.company, first_name="Egen"), BookingStatus.WAITLISTED)
    page = signed_in.get("/bookings").get_data(as_text=True)
    assert "Egen" in page and "Annan" not in page and "plats 1" in page
    assert f'action="/bookings/{mine.id}/cancel"' in page


def test_cancelling_promotes_the_next_in_line_and_says_so(signed_in, make, hr):
    session = make.session(capacity=1)
    first = make.booking(session, make.employee(hr.company, first_name="Först"))
    make.booking(session, make.employee(hr.company, first_name="Näst"), BookingStatus.WAITLISTED)
    response = post(signed_in, f"/bookings/{first.id}/cancel", {"next": "/bookings"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "fick den lediga platsen" in page and '<span class="count">1</span>' in page


def test_cancelling_runs_as_many_statements_with_one_waiting_as_with_five(signed_in, make, hr):
    counts = []
    for waiting in (1, 5):
        session = make.session(capacity=1)
        first = make.booking(session, make.employee(hr.company))
        line = [make.booking(session, make.employee(hr.company), BookingStatus.WAITLISTED) for _ in range(waiting)]
        token = csrf_token(signed_in, "/")
        with count_queries() as statements:
            assert signed_in.post(f"/bookings/{first.id}/cancel", data={"csrf_token": token}).status_code == 302
        counts.append(len(statements))
        db.session.expire_all()
        assert [b.status for b in line] == [BookingStatus.BOOKED] + [BookingStatus.WAITLISTED] * (waiting - 1)
        assert session.seats_taken == 1
    assert counts[0] == counts[1] <= 17, counts  # one of them reads the restrictions in force


def test_a_foreign_booking_answers_404_and_stays(signed_in, make):
    theirs = make.booking(make.session(), make.employee())
    assert post(signed_in, f"/bookings/{theirs.id}/cancel", {}).status_code == 404
    db.session.expire_all()
    assert theirs.status == BookingStatus.BOOKED


def test_past_the_cancellation_deadline_hr_is_told_and_the_programme_office_may(client, signed_in, make, hr, app):
    now = datetime.now(timezone.utc)
    session = make.session(cancellation_deadline=now - timedelta(hours=1))
    booking = make.booking(session, make.employee(hr.company))
    page = post(signed_in, f"/bookings/{booking.id}/cancel", {}, follow_redirects=True).get_data(as_text=True)
    assert "Nu kan bara projektledningen avboka" in page
    pm_client = app.test_client()
    sign_in(pm_client, make.user(Role.PM).email)
    assert post(pm_client, f"/bookings/{booking.id}/cancel", {}).status_code == 302
    db.session.expire_all()
    assert booking.status == BookingStatus.CANCELLED


@pytest.mark.parametrize("role", [Role.PROVIDER])
def test_providers_do_not_book_or_cancel(client, make, role):
    session = make.session()
    booking = make.booking(session, make.employee())
    sign_in(client, make.user(role).email)
    assert client.get(f"/sessions/{session.id}/book").status_code == 403
    assert post(client, f"/bookings/{booking.id}/cancel", {}).status_code == 403


def test_the_programme_office_sees_bookings_but_books_nothing(client, make):
    session = make.session()
    make.booking(session, make.employee(first_name="Synlig"))
    sign_in(client, make.user(Role.PM).email)
    assert "Synlig" in client.get(f"/bookings?session={session.id}").get_data(as_text=True)
    assert client.get(f"/sessions/{session.id}/book").status_code == 403


def test_hr_is_not_told_the_name_of_another_companys_promoted_employee(signed_in, make, hr):
    session = make.session(capacity=1)
    mine = make.booking(session, make.employee(hr.company))
    make.booking(session, make.employee(first_name="Hemlig"), BookingStatus.WAITLISTED)
    page = post(signed_in, f"/bookings/{mine.id}/cancel", {}, follow_redirects=True).get_data(as_text=True)
    assert "Hemlig" not in page
    assert db.session.scalars(select(Booking.status).where(Booking.id != mine.id)).one() == BookingStatus.BOOKED


@pytest.mark.parametrize("ids", [["2147483648"], ["9" * 25], ["-1"], ["abc"]])
def test_impossible_employee_ids_book_nothing_and_never_crash(signed_in, make, ids):
    session = make.session()
    response = post(signed_in, f"/sessions/{session.id}/book", {"employee_ids": ids})
    assert response.status_code in (200, 422)
    assert db.session.scalars(select(Booking)).all() == []


def test_impossible_session_filter_and_return_address_are_harmless(signed_in, make, hr):
    assert signed_in.get("/bookings?session=2147483648").status_code == 404
    booking = make.booking(make.session(), make.employee(hr.company))
    response = post(signed_in, f"/bookings/{booking.id}/cancel", {"next": "/\r\nX-Evil: 1"})
    assert response.status_code == 302 and response.headers["Location"] == "/bookings"


def test_a_seat_freed_while_postponed_goes_to_the_line_when_new_dates_come(make, app, hr):
    from portal.services import booking as booking_service
    from portal.services import catalogue

    provider_user = make.user(Role.PROVIDER)
    session = make.session(make.course(provider_user.provider), capacity=1)
    first = make.booking(session, make.employee(hr.company))
    waiting = make.booking(session, make.employee(hr.company), BookingStatus.WAITLISTED)
    with app.test_request_context():
        catalogue.postpone_session(session, provider_user)
        db.session.commit()
        assert booking_service.cancel_booking(db.session.get(Booking, first.id), hr) == []  # not open: nobody moves up
        db.session.commit()
        meeting = session.meetings[0]
        new = [catalogue.MeetingData(meeting.starts_at + timedelta(days=30), meeting.ends_at + timedelta(days=30),
                                     "Sal 1", meeting.municipality_id)]
        catalogue.change_session_dates(session, provider_user, new, session.booking_deadline, session.cancellation_deadline)
        db.session.commit()
    assert db.session.get(Booking, waiting.id).status == BookingStatus.BOOKED


def test_the_booking_page_lists_every_meeting_before_and_after_booking(signed_in, make, hr):
    """The session is read with its meetings in one statement (joined): every meeting, not the first row's."""
    session = make.session(capacity=5, meetings=3)
    for response in (signed_in.get(f"/sessions/{session.id}/book"),
                     post(signed_in, f"/sessions/{session.id}/book", {"employee_ids": [make.employee(hr.company).id]})):
        meetings = response.get_data(as_text=True).split("<dt>Träffar</dt>")[1].split("</dd>")[0]
        assert meetings.count("<br>") == 2 and meetings.count("Västerås") == 3
