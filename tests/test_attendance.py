"""Attendance: the provider's register per meeting, and the hours that follow from it exactly once."""
import re
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    Attendance, AttendanceStatus, AuditEvent, BookingStatus, Delivery, EmploymentStatus, Gender, HoursEntry,
    HoursSource, Meeting, Role, Verification,
)
from portal.services import DomainError
from portal.services import attendance as service
from tests.conftest import ON_POSTGRES, count_queries, csrf_token, sign_in

@pytest.fixture(autouse=True)
def _english(app, ctx):
    """Service messages are pinned in their English source text; the Swedish is the catalogue's job."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        yield


NOW = datetime.now(timezone.utc).replace(microsecond=0)
STARTED = NOW - timedelta(hours=1)  # the factories' meetings last six hours


@pytest.fixture
def req(app, ctx):
    with app.test_request_context():
        yield


@pytest.fixture
def provider_user(make):
    return make.user(Role.PROVIDER)


def session_with(make, provider, booked: int = 2, starts_at: datetime = STARTED, **fields):
    """A session of the provider's with one meeting and `booked` employees of different companies."""
    session = make.session(make.course(provider), starts_at=starts_at, **fields)
    bookings = [make.booking(session, make.employee(first_name=f"Deltagare{n:02d}")) for n in range(booked)]
    return session, session.meetings[0], bookings


def small_and_large(app, make, provider_user):
    """A signed-in provider's client and a session of theirs with three booked, then with thirty."""
    for booked in (3, 30):
        session, meeting, bookings = session_with(make, provider_user.provider, booked=booked, capacity=40)
        client = app.test_client()
        sign_in(client, provider_user.email)
        yield client, session, meeting, bookings


def entries() -> list[HoursEntry]:
    return list(db.session.scalars(select(HoursEntry).order_by(HoursEntry.id)))


def events(action: str = "attendance.recorded") -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


class TestMarking:
    def test_attended_creates_one_verified_hours_entry_for_the_meeting(self, make, req, provider_user):
        session, meeting, (booking, _) = session_with(make, provider_user.provider)
        attendance = service.mark(meeting, booking.id, AttendanceStatus.ATTENDED, provider_user)
        db.session.commit()
        (entry,) = entries()
        assert (entry.employee_id, entry.attendance_id, entry.minutes) == (booking.employee_id, attendance.id, 360)
        assert entry.source == HoursSource.ATTENDANCE and entry.course_id == session.course_id
        assert entry.verification == Verification.VERIFIED and entry.delivery == Delivery.IN_PERSON
        assert entry.verified_by_id == entry.created_by_id == provider_user.id
        assert attendance.recorded_by_id == provider_user.id

    def test_marking_attended_twice_never_makes_two_entries_or_two_events(self, make, req, provider_user):
        _, meeting, (booking, _) = session_with(make, provider_user.provider)
        service.mark(meeting, booking.id, AttendanceStatus.ATTENDED, provider_user)
        db.session.commit()
        service.mark(meeting, booking.id, "attended", provider_user)
        db.session.commit()
        assert len(entries()) == 1 and len(events()) == 1
        assert db.session.scalar(select(func.count(Attendance.id))) == 1

    def test_the_database_refuses_a_second_entry_for_one_attendance(self, make, req, provider_user):
        _, meeting, (booking, _) = session_with(make, provider_user.provider)
        service.mark(meeting, booking.id, AttendanceStatus.ATTENDED, provider_user)
        db.session.commit()
        (entry,) = entries()
        db.session.add(HoursEntry(employee_id=entry.employee_id, company_id=entry.company_id, entry_date=entry.entry_date, minutes=60,
                                  source=HoursSource.ATTENDANCE, attendance_id=entry.attendance_id,
                                  delivery=Delivery.DIGITAL))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()

    def test_changing_to_absent_removes_the_hours_and_back_brings_them_again(self, make, req, provider_user):
        _, meeting, (booking, _) = session_with(make, provider_user.provider)
        service.mark(meeting, booking.id, AttendanceStatus.ATTENDED, provider_user)
        db.session.commit()
        service.mark(meeting, booking.id, AttendanceStatus.ABSENT, provider_user)
        db.session.commit()
        assert entries() == []
        assert db.session.scalars(select(Attendance.status)).one() == AttendanceStatus.ABSENT
        service.mark(meeting, booking.id, AttendanceStatus.ATTENDED, provider_user)
        db.session.commit()
        assert len(entries()) == 1
        trail = [(e.actor_id, e.data["from"], e.data["to"]) for e in events()]
        assert trail == [(provider_user.id, None, "attended"), (provider_user.id, "attended", "absent"),
                         (provider_user.id, "absent", "attended")]
        assert {e.company_id for e in events()} == {booking.company_id}

    def test_absent_from_the_start_gives_no_hours(self, make, req, provider_user):
        _, meeting, (booking, _) = session_with(make, provider_user.provider)
        service.mark(meeting, booking.id, AttendanceStatus.ABSENT, provider_user)
        db.session.commit()
        assert entries() == [] and db.session.scalars(select(Attendance.status)).one() == AttendanceStatus.ABSENT

    def test_a_meeting_without_a_venue_gives_digital_hours_dated_in_swedish_time(self, make, req, provider_user):
        # 23:30 UTC on 10 January is half past midnight on 11 January in Sweden.
        _, meeting, (booking, _) = session_with(make, provider_user.provider,
                                                starts_at=datetime(2025, 1, 10, 23, 30, tzinfo=timezone.utc))
        meeting.municipality_id, meeting.venue, meeting.online_url = None, "", "https://meet.example/x"
        db.session.commit()
        service.mark(meeting, booking.id, AttendanceStatus.ATTENDED, provider_user)
        db.session.commit()
        (entry,) = entries()
        assert entry.delivery == Delivery.DIGITAL and entry.entry_date.isoformat() == "2025-01-11"

    def test_a_meeting_not_yet_started_is_refused(self, make, req, provider_user):
        _, meeting, (booking, _) = session_with(make, provider_user.provider, starts_at=NOW + timedelta(hours=1))
        with pytest.raises(DomainError, match="once the meeting has started"):
            service.mark(meeting, booking.id, AttendanceStatus.ATTENDED, provider_user)
        db.session.rollback()
        assert db.session.scalar(select(func.count(Attendance.id))) == 0

    @pytest.mark.parametrize("role", [Role.PROVIDER, Role.HR, Role.PM])
    def test_only_the_courses_own_provider_takes_attendance(self, make, req, provider_user, role):
        _, meeting, (booking, _) = session_with(make, provider_user.provider)
        with pytest.raises(DomainError, match="Only the course's provider"):
            service.mark(meeting, booking.id, AttendanceStatus.ATTENDED, make.user(role))
        db.session.rollback()
        assert entries() == []

    @pytest.mark.parametrize("status", [BookingStatus.WAITLISTED, BookingStatus.CANCELLED])
    def test_only_booked_people_are_marked(self, make, req, provider_user, status):
        session, meeting, _ = session_with(make, provider_user.provider, booked=0)
        other = make.booking(session, make.employee(), status)
        with pytest.raises(DomainError, match="Only people booked"):
            service.mark(meeting, other.id, AttendanceStatus.ATTENDED, provider_user)
        db.session.rollback()
        assert entries() == []

    def test_a_booking_of_another_session_is_refused(self, make, req, provider_user):
        _, meeting, _ = session_with(make, provider_user.provider)
        _, _, (elsewhere, _) = session_with(make, provider_user.provider)
        with pytest.raises(service.NotOnSession, match="Only people booked"):  # the route answers 404
            service.mark(meeting, elsewhere.id, AttendanceStatus.ATTENDED, provider_user)

    def test_booking_ids_alone_mean_attended(self, make, req, provider_user):
        _, meeting, bookings = session_with(make, provider_user.provider)
        recorded = service.record_attendance(meeting, [b.id for b in bookings], provider_user)
        db.session.commit()
        assert {a.status for a in recorded} == {AttendanceStatus.ATTENDED} and len(entries()) == 2
        with pytest.raises(DomainError):
            service.record_attendance(meeting, [2**40], provider_user)

    def test_nonsense_status_is_refused(self, make, req, provider_user):
        _, meeting, (booking, _) = session_with(make, provider_user.provider)
        with pytest.raises(DomainError):
            service.mark(meeting, booking.id, "sleeping", provider_user)


class TestTwentyFourHours:
    def _logged(self, employee, day, minutes, verification=Verification.PENDING):
        db.session.add(HoursEntry(employee_id=employee.id, company_id=employee.company_id, entry_date=day, minutes=minutes, source=HoursSource.MANUAL,
                                  description="E-kurs", delivery=Delivery.DIGITAL, verification=verification))
        db.session.commit()

    def test_hours_that_would_pass_24_in_a_day_are_refused_with_the_reason(self, make, req, provider_user):
        _, meeting, (booking, _) = session_with(make, provider_user.provider)
        from portal.i18n import to_local

        self._logged(booking.employee, to_local(meeting.starts_at).date(), 19 * 60)  # 19 h + 6 h > 24 h
        with pytest.raises(DomainError, match=r"more than 24 hours.*Nothing was saved"):
            service.mark(meeting, booking.id, AttendanceStatus.ATTENDED, provider_user)
        db.session.rollback()
        assert db.session.scalar(select(func.count(Attendance.id))) == 0 and len(entries()) == 1

    def test_rejected_hours_leave_room_and_exactly_24_is_allowed(self, make, req, provider_user):
        _, meeting, (booking, _) = session_with(make, provider_user.provider)
        from portal.i18n import to_local

        day = to_local(meeting.starts_at).date()
        self._logged(booking.employee, day, 18 * 60, Verification.VERIFIED)  # 18 h + 6 h = 24 h
        self._logged(booking.employee, day, 10 * 60, Verification.REJECTED)
        service.mark(meeting, booking.id, AttendanceStatus.ATTENDED, provider_user)
        db.session.commit()
        assert len(entries()) == 3

    def test_all_present_is_all_or_nothing(self, make, req, provider_user):
        _, meeting, (_, second) = session_with(make, provider_user.provider)
        from portal.i18n import to_local

        self._logged(second.employee, to_local(meeting.starts_at).date(), 20 * 60)
        with pytest.raises(DomainError, match=second.employee.name):
            service.mark_all_present(meeting, provider_user)
        db.session.rollback()
        assert db.session.scalar(select(func.count(Attendance.id))) == 0


class TestAllPresent:
    def test_everyone_booked_is_marked_attended_once(self, make, req, provider_user):
        session, meeting, bookings = session_with(make, provider_user.provider, booked=3)
        make.booking(session, make.employee(), BookingStatus.WAITLISTED)
        service.mark(meeting, bookings[0].id, AttendanceStatus.ABSENT, provider_user)
        db.session.commit()
        marked = service.mark_all_present(meeting, provider_user)
        db.session.commit()
        assert len(marked) == 3 and {a.status for a in marked} == {AttendanceStatus.ATTENDED}
        assert sorted(e.employee_id for e in entries()) == sorted(b.employee_id for b in bookings)
        service.mark_all_present(meeting, provider_user)
        db.session.commit()
        assert len(entries()) == 3 and len(events()) == 4  # one absent, then three changes; the repeat none

    def test_a_meeting_not_yet_started_is_refused(self, make, req, provider_user):
        _, meeting, _ = session_with(make, provider_user.provider, starts_at=NOW + timedelta(days=1))
        with pytest.raises(DomainError):
            service.mark_all_present(meeting, provider_user)


# --- The register pages -----------------------------------------------------------------------------

def register_url(session, meeting) -> str:
    return f"/provider/sessions/{session.id}/meetings/{meeting.id}/register"


def post(client, path, data=None, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/"), **(data or {})}, **kwargs)


def htmx_post(client, path, data=None):
    token = csrf_token(client, "/")
    return client.post(path, data={"csrf_token": token, **(data or {})},
                       headers={"HX-Request": "true", "X-CSRFToken": token})


@pytest.fixture
def signed_in(client, provider_user):
    sign_in(client, provider_user.email)
    return client


class TestRegisterPage:
    def test_shows_booked_names_and_companies_and_nothing_personal_beyond(self, signed_in, make, provider_user):
        session, meeting, _ = session_with(make, provider_user.provider, booked=0)
        person = make.employee(first_name="Greta", last_name="Garbo", email="greta@hemlig.se", birth_year=1981,
                               gender=Gender.WOMAN, employment_status=EmploymentStatus.FURLOUGHED,
                               company=make.company(name="Filmbolaget AB"))
        make.booking(session, person)
        make.booking(session, make.employee(first_name="Väntande"), BookingStatus.WAITLISTED)
        signed_in.post("/language", data={"locale": "en", "csrf_token": csrf_token(signed_in, "/")})
        page = signed_in.get(register_url(session, meeting)).get_data(as_text=True)
        assert "Greta Garbo" in page and "Filmbolaget AB" in page and "Väntande" not in page
        for private in ("greta@hemlig.se", "1981", "Woman", "Furloughed"):
            assert private not in page
        assert 'id="meeting-hours">6<' in page
        assert 'aria-pressed="false"' in page and 'id="all-present"' in page

    def test_a_meeting_not_yet_started_shows_no_toggles(self, signed_in, make, provider_user):
        session, meeting, _ = session_with(make, provider_user.provider, starts_at=NOW + timedelta(days=2))
        page = signed_in.get(register_url(session, meeting)).get_data(as_text=True)
        assert 'id="not-started"' in page and "aria-pressed" not in page and 'id="all-present"' not in page

    def test_another_providers_session_or_meeting_answers_404(self, signed_in, make, provider_user):
        own, own_meeting, _ = session_with(make, provider_user.provider)
        theirs, their_meeting, (their_booking, _) = session_with(make, make.provider())
        assert signed_in.get(register_url(theirs, their_meeting)).status_code == 404
        # Their meeting under our session's address, and our meeting under theirs.
        assert signed_in.get(f"/provider/sessions/{own.id}/meetings/{their_meeting.id}/register").status_code == 404
        assert signed_in.get(f"/provider/sessions/{theirs.id}/meetings/{own_meeting.id}/register").status_code == 404
        assert signed_in.get(f"/provider/sessions/{own.id}/meetings/2147483648/register").status_code == 404
        response = post(signed_in, f"{register_url(theirs, their_meeting)}/{their_booking.id}", {"status": "attended"})
        assert response.status_code == 404
        assert post(signed_in, f"{register_url(theirs, their_meeting)}/all-present").status_code == 404
        assert db.session.scalar(select(func.count(Attendance.id))) == 0

    def test_a_booking_of_another_session_under_this_meeting_answers_404(self, signed_in, make, provider_user):
        session, meeting, _ = session_with(make, provider_user.provider)
        _, _, (elsewhere, _) = session_with(make, provider_user.provider)
        response = post(signed_in, f"{register_url(session, meeting)}/{elsewhere.id}", {"status": "attended"})
        assert response.status_code == 404 and entries() == []

    @pytest.mark.parametrize("role", [Role.HR, Role.PM])
    def test_other_roles_are_refused(self, client, make, provider_user, role):
        session, meeting, (booking, _) = session_with(make, provider_user.provider)
        sign_in(client, make.user(role).email)
        assert client.get(register_url(session, meeting)).status_code == 403
        assert post(client, f"{register_url(session, meeting)}/{booking.id}", {"status": "attended"}).status_code == 403
        assert post(client, f"{register_url(session, meeting)}/all-present").status_code == 403
        assert entries() == []

    def test_signed_out_visitor_is_sent_to_sign_in(self, client, make, provider_user):
        session, meeting, _ = session_with(make, provider_user.provider)
        response = client.get(register_url(session, meeting))
        assert response.status_code == 302 and "/login" in response.headers["Location"]

    def test_the_session_page_links_the_register_of_started_meetings_only(self, signed_in, make, provider_user):
        session, meeting, _ = session_with(make, provider_user.provider)
        later = Meeting(starts_at=NOW + timedelta(days=7), ends_at=NOW + timedelta(days=7, hours=3))
        session.meetings.append(later)
        db.session.commit()
        page = signed_in.get(f"/provider/sessions/{session.id}").get_data(as_text=True)
        assert f'href="{register_url(session, meeting)}"' in page
        assert f'href="{register_url(session, later)}"' not in page

    def test_the_query_count_does_not_grow_with_the_people_booked(self, app, make, provider_user):
        counts = []
        for client, session, meeting, bookings in small_and_large(app, make, provider_user):
            with count_queries() as queries:
                page = client.get(register_url(session, meeting)).get_data(as_text=True)
            assert page.count('aria-pressed="false"') == len(bookings)
            counts.append(len(queries))
        assert counts[0] == counts[1] <= 12


class TestToggle:
    def test_htmx_toggle_answers_the_row_and_records_the_hours(self, signed_in, make, provider_user):
        session, meeting, (booking, _) = session_with(make, provider_user.provider)
        response = htmx_post(signed_in, f"{register_url(session, meeting)}/{booking.id}", {"status": "attended"})
        row = response.get_data(as_text=True)
        assert response.status_code == 200 and "<html" not in row
        assert row.lstrip().startswith(f'<tr id="attendance-{booking.id}"')
        assert 'aria-pressed="true"' in row and 'name="status" value="absent"' in row
        assert [(e.employee_id, e.minutes) for e in entries()] == [(booking.employee_id, 360)]

        again = htmx_post(signed_in, f"{register_url(session, meeting)}/{booking.id}", {"status": "absent"})
        assert 'aria-pressed="false"' in again.get_data(as_text=True) and entries() == []

    def test_a_toggle_runs_a_handful_of_statements_whatever_the_people_booked(self, app, make, provider_user):
        counts = []
        for client, session, meeting, bookings in small_and_large(app, make, provider_user):
            token = csrf_token(client, "/")
            for status in ("attended", "absent"):
                with count_queries() as queries:
                    row = client.post(f"{register_url(session, meeting)}/{bookings[0].id}",
                                      data={"csrf_token": token, "status": status},
                                      headers={"HX-Request": "true", "X-CSRFToken": token}).get_data(as_text=True)
                assert ('aria-pressed="true"' in row) == (status == "attended")
                # A row needs nothing of the layout around a page: no programme, no unread count.
                assert not any("FROM programmes" in q or "FROM notifications" in q for q in queries)
                counts.append(len(queries))
        # attended: the day checked, hours and tallies written (the person already held by the mark's own lock);
        # SQLite moves the programme's totals in two statements of their own (PostgreSQL within the tallies')
        assert counts[:2] == counts[2:] and max(counts) <= (14 if ON_POSTGRES else 17), counts

    @pytest.mark.parametrize("status", ["attended", "sleeping"])  # a valid mark, and one the form refuses
    def test_a_booking_of_another_session_is_not_found_there(self, signed_in, make, provider_user, status):
        session, meeting, _ = session_with(make, provider_user.provider)
        _, _, (elsewhere, _) = session_with(make, provider_user.provider)
        response = htmx_post(signed_in, f"{register_url(session, meeting)}/{elsewhere.id}", {"status": status})
        assert response.status_code == 404 and entries() == [] and events() == []
        for no_such in (0, 99999, 2**31, 10**30):
            assert htmx_post(signed_in, f"{register_url(session, meeting)}/{no_such}", {"status": status}).status_code == 404

    def test_without_javascript_the_toggle_redirects_back_to_the_register(self, signed_in, make, provider_user):
        session, meeting, (booking, _) = session_with(make, provider_user.provider)
        response = post(signed_in, f"{register_url(session, meeting)}/{booking.id}", {"status": "attended"})
        assert response.status_code == 302 and response.headers["Location"] == register_url(session, meeting)
        page = signed_in.get(register_url(session, meeting)).get_data(as_text=True)
        assert re.search(rf'id="toggle-{booking.id}"[^>]*aria-pressed="true"', page)
        assert len(entries()) == 1

    def test_a_refusal_is_told_inside_the_row_and_saves_nothing(self, signed_in, make, provider_user):
        session, meeting, (booking, _) = session_with(make, provider_user.provider, starts_at=NOW + timedelta(hours=2))
        signed_in.post("/language", data={"locale": "en", "csrf_token": csrf_token(signed_in, "/")})
        row = htmx_post(signed_in, f"{register_url(session, meeting)}/{booking.id}", {"status": "attended"})
        assert 'role="alert"' in row.get_data(as_text=True)
        assert "once the meeting has started" in row.get_data(as_text=True)
        plain = post(signed_in, f"{register_url(session, meeting)}/{booking.id}", {"status": "attended"},
                     follow_redirects=True)
        assert "once the meeting has started" in plain.get_data(as_text=True)
        assert db.session.scalar(select(func.count(Attendance.id))) == 0

    def test_a_booking_cancelled_meanwhile_reloads_the_register_with_the_reason(self, signed_in, make, provider_user):
        session, meeting, (booking, _) = session_with(make, provider_user.provider)
        booking.status = BookingStatus.CANCELLED
        db.session.commit()
        response = htmx_post(signed_in, f"{register_url(session, meeting)}/{booking.id}", {"status": "attended"})
        assert response.headers["HX-Refresh"] == "true"
        assert 'class="flash flash-error"' in signed_in.get(register_url(session, meeting)).get_data(as_text=True)
        assert db.session.scalar(select(func.count(Attendance.id))) == 0

    def test_a_nonsense_status_changes_nothing(self, signed_in, make, provider_user):
        session, meeting, (booking, _) = session_with(make, provider_user.provider)
        response = post(signed_in, f"{register_url(session, meeting)}/{booking.id}", {"status": "maybe"})
        assert response.status_code == 302 and db.session.scalar(select(func.count(Attendance.id))) == 0

    def test_all_present_with_and_without_htmx(self, signed_in, make, provider_user):
        session, meeting, _ = session_with(make, provider_user.provider, booked=3)
        fragment = htmx_post(signed_in, f"{register_url(session, meeting)}/all-present").get_data(as_text=True)
        assert "<html" not in fragment and fragment.count('aria-pressed="true"') == 3
        assert 'class="flash flash-success"' in fragment
        assert len(entries()) == 3
        response = post(signed_in, f"{register_url(session, meeting)}/all-present")
        assert response.status_code == 302 and response.headers["Location"] == register_url(session, meeting)
        assert len(entries()) == 3


def test_many_concurrent_marks_of_the_same_person_make_one_attendance_and_one_entry(app, make, provider_user):
    session, meeting, (booking, _) = session_with(make, provider_user.provider)
    url = f"{register_url(session, meeting)}/{booking.id}"
    clients = []
    for _ in range(10):
        client = app.test_client()
        sign_in(client, provider_user.email)
        clients.append((client, csrf_token(client, "/")))
    start = threading.Barrier(len(clients))
    answers: list[int] = []

    def mark(client, token):
        start.wait()
        answers.append(client.post(url, data={"status": "attended", "csrf_token": token}).status_code)

    threads = [threading.Thread(target=mark, args=args) for args in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [302] * 10
    assert db.session.scalar(select(func.count(Attendance.id))) == 1
    assert len(entries()) == 1 and len(events()) == 1


@pytest.mark.parametrize(("who", "manage", "visible"), [
    ("own", True, True), ("other", True, False), ("other", False, True), ("hr", True, False),
])
def test_meetings_are_loaded_like_their_sessions(app, make, provider_user, who, manage, visible):
    from werkzeug.exceptions import NotFound

    from portal.access import load_or_404

    _, meeting, _ = session_with(make, provider_user.provider, booked=0)
    user = {"own": provider_user, "other": make.user(Role.PROVIDER), "hr": make.user(Role.HR)}[who]
    with app.test_request_context():
        if visible:
            assert load_or_404(Meeting, meeting.id, user, manage=manage).id == meeting.id
        else:
            with pytest.raises(NotFound):
                load_or_404(Meeting, meeting.id, user, manage=manage)
