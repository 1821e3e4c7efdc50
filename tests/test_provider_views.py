"""The provider's pages: publish courses and sessions, change them, and never touch another's."""
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Booking, BookingStatus, Course, CourseFormat, Meeting, Notification, Role, Session, SessionStatus,
)
from tests.conftest import csrf_token, sign_in

DAY = date.today() + timedelta(days=40)


@pytest.fixture
def provider_user(make):
    return make.user(Role.PROVIDER)


@pytest.fixture
def signed_in(client, provider_user):
    sign_in(client, provider_user.email)
    return client


def post(client, path, data, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/"), **data}, **kwargs)


def meeting_fields(index: int, day: date, starts="09:00", ends="15:00", venue="Verkstaden", municipality_id="", url=""):
    prefix = f"meetings-{index}-"
    return {prefix + "day": day.isoformat(), prefix + "starts_at": starts, prefix + "ends_at": ends,
            prefix + "venue": venue, prefix + "municipality_id": str(municipality_id), prefix + "online_url": url}


def session_fields(make, *meetings, **overrides):
    data = {"capacity": "12", "min_participants": "3", "company_seat_cap": "", "seat_cap_released_at": "",
            "booking_deadline": f"{(DAY - timedelta(days=7)).isoformat()}T12:00",
            "cancellation_deadline": f"{(DAY - timedelta(days=3)).isoformat()}T12:00", "note": "", "publish": "1"}
    for index, fields in enumerate(meetings):
        data |= meeting_fields(index, **fields)
    return data | overrides


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


class TestCourses:
    def test_provider_creates_a_course(self, signed_in, make, provider_user):
        areas = [make.competence_area("cnc").id, make.competence_area("automation").id]
        response = post(signed_in, "/provider/courses/new", {
            "title": "Fleroperationsmaskiner", "description": "Femaxlig bearbetning", "competence_area_ids": areas,
            "format": "in_person", "nominal_hours": "24", "level": "advanced", "language": "sv", "certified": "y",
        })
        assert response.status_code == 302
        course = db.session.scalars(select(Course)).one()
        assert course.provider_id == provider_user.provider_id
        assert sorted(a.id for a in course.competence_areas) == sorted(areas)
        assert course.nominal_minutes == 24 * 60 and course.certified and not course.shared_niche
        assert response.headers["Location"] == f"/provider/courses/{course.id}"

    def test_bad_course_input_shows_messages_next_to_the_fields_and_saves_nothing(self, signed_in):
        response = post(signed_in, "/provider/courses/new", {
            "title": "", "format": "in_person", "nominal_hours": "abc", "level": "advanced", "language": "sv",
        })
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert 'id="title-error"' in page and 'id="nominal_hours-error"' in page
        assert count(Course) == 0

    def test_a_course_without_a_competence_area_is_refused(self, signed_in):
        response = post(signed_in, "/provider/courses/new", {
            "title": "Svets", "format": "in_person", "nominal_hours": "8", "level": "advanced", "language": "sv",
        })
        assert response.status_code == 422
        assert 'id="competence_area_ids-error"' in response.get_data(as_text=True)
        assert count(Course) == 0

    @pytest.mark.parametrize(("areas", "message"), [
        ("", "Välj ett eller flera kompetensområden i listan."), ("abc", "Välj ur listan."),
    ])
    def test_an_empty_or_odd_area_gets_a_plain_swedish_message(self, signed_in, areas, message):
        response = post(signed_in, "/provider/courses/new", {
            "title": "Svets", "competence_area_ids": areas, "format": "in_person", "nominal_hours": "8",
            "level": "advanced", "language": "sv",
        })
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and "coerca" not in page
        assert message in page[page.index('id="competence_area_ids-error"'):][:300]
        assert count(Course) == 0

    def test_extra_fields_cannot_move_a_course_to_another_provider(self, signed_in, make, provider_user):
        other = make.provider()
        post(signed_in, "/provider/courses/new", {
            "title": "Svets", "competence_area_ids": [make.competence_area("welding").id], "format": "digital",
            "nominal_hours": "8", "level": "introductory", "language": "sv", "provider_id": other.id,
            "retired_at": "2020-01-01",
        })
        course = db.session.scalars(select(Course)).one()
        assert course.provider_id == provider_user.provider_id and course.retired_at is None

    def test_provider_edits_and_retires_its_course(self, signed_in, make, provider_user):
        course = make.course(provider_user.provider, title="Gammal titel")
        response = post(signed_in, f"/provider/courses/{course.id}/edit", {
            "title": "Ny titel", "competence_area_ids": [make.competence_area("quality").id], "format": "hybrid",
            "nominal_hours": "7.5", "level": "intermediate", "language": "en",
        })
        assert response.status_code == 302
        db.session.expire_all()
        assert course.title == "Ny titel" and course.nominal_minutes == 450 and course.format == CourseFormat.HYBRID
        post(signed_in, f"/provider/courses/{course.id}/retire", {})
        db.session.expire_all()
        assert course.retired_at is not None
        page = signed_in.get(f"/provider/courses/{course.id}").get_data(as_text=True)
        assert "/sessions/new" not in page

    def test_edit_form_shows_the_course_as_it_is(self, signed_in, make, provider_user):
        course = make.course(provider_user.provider, title="Hydraulik", nominal_minutes=90)
        page = signed_in.get(f"/provider/courses/{course.id}/edit").get_data(as_text=True)
        assert 'value="Hydraulik"' in page and 'value="1.5"' in page


class TestAccess:
    @pytest.fixture
    def foreign(self, make):
        course = make.course()
        return course, make.session(course)

    @pytest.mark.parametrize("path", [
        "/provider/courses/{course}", "/provider/courses/{course}/edit", "/provider/courses/{course}/sessions/new",
        "/provider/sessions/{session}", "/provider/sessions/{session}/edit", "/provider/sessions/{session}/dates",
    ])
    def test_another_providers_pages_answer_404(self, signed_in, foreign, path):
        course, session = foreign
        assert signed_in.get(path.format(course=course.id, session=session.id)).status_code == 404

    @pytest.mark.parametrize("path", [
        "/provider/courses/{course}/retire", "/provider/sessions/{session}/postpone",
        "/provider/sessions/{session}/cancel", "/provider/sessions/{session}/publish",
        "/provider/sessions/{session}/meetings/{meeting}/remove",
    ])
    def test_another_providers_actions_answer_404_and_change_nothing(self, signed_in, foreign, path):
        course, session = foreign
        target = path.format(course=course.id, session=session.id, meeting=session.meetings[0].id)
        assert post(signed_in, target, {}).status_code == 404
        db.session.expire_all()
        assert session.status == SessionStatus.OPEN and course.retired_at is None and len(session.meetings) == 1

    @pytest.mark.parametrize("role", [Role.HR, Role.PM])
    def test_other_roles_are_refused_the_provider_area(self, client, make, role, foreign):
        sign_in(client, make.user(role).email)
        assert client.get("/provider/courses").status_code == 403
        assert client.get(f"/provider/sessions/{foreign[1].id}").status_code == 403

    def test_signed_out_visitors_are_sent_to_sign_in(self, client):
        assert client.get("/provider/courses").status_code == 302


class TestSessions:
    @pytest.fixture
    def course(self, make, provider_user):
        return make.course(provider_user.provider)

    def test_provider_publishes_a_session_with_two_meetings(self, signed_in, make, course):
        place = make.municipality("Västerås").id
        response = post(signed_in, f"/provider/courses/{course.id}/sessions/new", session_fields(
            make, {"day": DAY, "municipality_id": place}, {"day": DAY + timedelta(days=7), "municipality_id": place},
        ))
        assert response.status_code == 302, response.get_data(as_text=True)
        session = db.session.scalars(select(Session)).one()
        assert session.status == SessionStatus.OPEN and len(session.meetings) == 2
        assert session.minutes == 12 * 60
        # 09:00 Swedish time is 07:00 or 08:00 UTC depending on the season.
        assert session.meetings[0].starts_at.hour in (7, 8)

    def test_add_another_meeting_grows_the_form_and_saves_nothing(self, signed_in, make, course):
        data = session_fields(make, {"day": DAY, "municipality_id": make.municipality().id}, add_meeting="1")
        del data["publish"]
        page = post(signed_in, f"/provider/courses/{course.id}/sessions/new", data).get_data(as_text=True)
        assert 'name="meetings-1-day"' in page and count(Session) == 0

    @pytest.mark.parametrize(("overrides", "error_id"), [
        ({"meetings-0-ends_at": "08:00"}, "meetings-0-ends_at-error"),
        ({"meetings-0-venue": ""}, "meetings-0-venue-error"),
        ({"meetings-0-municipality_id": ""}, "meetings-0-municipality_id-error"),
        ({"meetings-0-municipality_id": "999999"}, "meetings-0-municipality_id-error"),
        ({"meetings-0-day": "not a date"}, "meetings-0-day-error"),
        ({"capacity": "0"}, "capacity-error"),
        ({"company_seat_cap": "40"}, "company_seat_cap-error"),
        ({"booking_deadline": f"{DAY.isoformat()}T23:00"}, "booking_deadline-error"),
        ({"cancellation_deadline": ""}, "cancellation_deadline-error"),
    ])
    def test_bad_session_input_is_shown_next_to_the_field_and_nothing_is_saved(self, signed_in, make, course, overrides, error_id):
        data = session_fields(make, {"day": DAY, "municipality_id": make.municipality().id}) | overrides
        response = post(signed_in, f"/provider/courses/{course.id}/sessions/new", data)
        assert response.status_code == 422
        assert f'id="{error_id}"' in response.get_data(as_text=True)
        assert count(Session) == count(Meeting) == 0

    def test_a_meetings_built_in_messages_are_in_swedish_too(self, signed_in, make, course):
        data = session_fields(make, {"day": DAY, "municipality_id": make.municipality().id}) | {
            "meetings-0-day": "inte ett datum", "meetings-0-starts_at": "25:99"}
        page = post(signed_in, f"/provider/courses/{course.id}/sessions/new", data).get_data(as_text=True)
        assert "Inte ett giltigt datum" in page and "Not a valid" not in page

    def test_overlapping_meetings_are_refused(self, signed_in, make, course):
        place = make.municipality().id
        data = session_fields(make, {"day": DAY, "municipality_id": place},
                              {"day": DAY, "starts": "14:00", "ends": "16:00", "municipality_id": place})
        response = post(signed_in, f"/provider/courses/{course.id}/sessions/new", data)
        assert response.status_code == 422 and 'id="meetings-1-starts_at-error"' in response.get_data(as_text=True)

    def test_digital_meeting_without_a_link_is_refused(self, signed_in, make, provider_user):
        digital = make.course(provider_user.provider, format=CourseFormat.DIGITAL)
        response = post(signed_in, f"/provider/courses/{digital.id}/sessions/new",
                        session_fields(make, {"day": DAY, "venue": ""}))
        assert 'id="meetings-0-online_url-error"' in response.get_data(as_text=True)
        response = post(signed_in, f"/provider/courses/{digital.id}/sessions/new",
                        session_fields(make, {"day": DAY, "venue": "", "url": "https://meet.example.se/x"}))
        assert response.status_code == 302

    def test_capacity_cannot_fall_below_those_booked(self, signed_in, make, course):
        session = make.session(course)
        for _ in range(2):
            make.booking(session, make.employee())
        data = {"capacity": "1", "min_participants": "0", "booking_deadline": "2030-01-01T10:00",
                "cancellation_deadline": "2030-01-01T10:00"}
        response = post(signed_in, f"/provider/sessions/{session.id}/edit", data)
        assert response.status_code == 422 and 'id="capacity-error"' in response.get_data(as_text=True)
        db.session.expire_all()
        assert session.capacity == 12

    def test_meetings_are_added_and_removed_on_the_session_page(self, signed_in, make, course):
        session = make.session(course)
        place = make.municipality().id
        response = post(signed_in, f"/provider/sessions/{session.id}/meetings", {
            "meeting-day": (DAY + timedelta(days=30)).isoformat(), "meeting-starts_at": "09:00",
            "meeting-ends_at": "12:00", "meeting-venue": "Sal 2", "meeting-municipality_id": place,
        })
        assert response.status_code == 302
        db.session.expire_all()
        assert len(session.meetings) == 2 and session.minutes == 9 * 60
        overlapping = post(signed_in, f"/provider/sessions/{session.id}/meetings", {
            "meeting-day": (DAY + timedelta(days=30)).isoformat(), "meeting-starts_at": "10:00",
            "meeting-ends_at": "11:00", "meeting-venue": "Sal 2", "meeting-municipality_id": place,
        })
        assert overlapping.status_code == 422 and 'id="meeting-starts_at-error"' in overlapping.get_data(as_text=True)
        post(signed_in, f"/provider/sessions/{session.id}/meetings/{session.meetings[1].id}/remove", {})
        db.session.expire_all()
        assert len(session.meetings) == 1

    def test_the_session_page_shows_participants_by_name_and_company_only(self, signed_in, make, course):
        session = make.session(course)
        employee = make.employee(first_name="Greta", last_name="Garbo", email="greta@x.se", birth_year=1970)
        make.booking(session, employee)
        page = signed_in.get(f"/provider/sessions/{session.id}").get_data(as_text=True)
        assert "Greta Garbo" in page and employee.company.name in page
        assert "greta@x.se" not in page and "1970" not in page


class TestChanges:
    @pytest.fixture
    def booked(self, make, provider_user):
        course = make.course(provider_user.provider)
        session = make.session(course)
        hr = make.user(Role.HR)
        employee = make.employee(hr.company)
        make.booking(session, employee)
        return session, hr, employee

    def dates(self, make, day):
        return {**meeting_fields(0, day, municipality_id=make.municipality().id),
                "booking_deadline": f"{(day - timedelta(days=5)).isoformat()}T12:00",
                "cancellation_deadline": f"{(day - timedelta(days=2)).isoformat()}T12:00", "save": "1"}

    def test_new_dates_warn_of_clashes_first_and_save_on_confirmation(self, signed_in, make, booked):
        session, hr, employee = booked
        new_day = DAY + timedelta(days=60)
        # 10:00-16:00 in Stockholm overlaps the new 09:00-15:00 whatever the hour the test runs at
        other = make.session(starts_at=datetime.combine(new_day, time(10), ZoneInfo("Europe/Stockholm")))
        make.booking(other, employee)
        data = self.dates(make, new_day)
        first = post(signed_in, f"/provider/sessions/{session.id}/dates", data)
        page = first.get_data(as_text=True)
        assert first.status_code == 422 and 'id="clash-warning"' in page
        db.session.expire_all()
        assert session.ical_sequence == 0 and count(Notification) == 0
        confirmed = re.search(r'name="confirmed_clashes" type="hidden" value="(\d+)"', page).group(1)
        second = post(signed_in, f"/provider/sessions/{session.id}/dates", data | {"confirmed_clashes": confirmed})
        assert second.status_code == 302
        db.session.expire_all()
        assert session.ical_sequence == 1 and session.meetings[0].starts_at.date() == new_day
        assert db.session.scalars(select(Notification.user_id)).all() == [hr.id]

    def test_new_dates_without_clashes_save_at_once(self, signed_in, make, booked):
        session, _, _ = booked
        response = post(signed_in, f"/provider/sessions/{session.id}/dates", self.dates(make, DAY + timedelta(days=90)))
        assert response.status_code == 302
        assert db.session.scalar(select(Booking.status)) == BookingStatus.BOOKED

    def test_the_dates_form_saved_as_it_is_says_nothing_changed_and_tells_no_one(self, signed_in, make, booked):
        session, _, _ = booked
        data = self.dates(make, DAY + timedelta(days=90))
        assert post(signed_in, f"/provider/sessions/{session.id}/dates", data).status_code == 302
        told = count(Notification)
        again = post(signed_in, f"/provider/sessions/{session.id}/dates", data)
        assert again.status_code == 422 and "Inget har ändrats" in again.get_data(as_text=True)
        db.session.expire_all()
        assert count(Notification) == told and session.ical_sequence == 1

    def test_postpone_and_cancel(self, signed_in, make, booked):
        session, hr, _ = booked
        post(signed_in, f"/provider/sessions/{session.id}/postpone", {"reason": "Sjuk lärare"})
        db.session.expire_all()
        assert session.status == SessionStatus.POSTPONED
        assert "Datum ännu inte känt" in signed_in.get(f"/provider/sessions/{session.id}").get_data(as_text=True)
        post(signed_in, f"/provider/sessions/{session.id}/cancel", {"reason": ""})
        db.session.expire_all()
        assert session.status == SessionStatus.CANCELLED
        assert db.session.scalar(select(Booking.status)) == BookingStatus.CANCELLED
        assert count(Notification) == 2
        page = signed_in.get(f"/provider/courses/{session.course_id}").get_data(as_text=True)
        assert "Inställd" in page  # the cancelled session stays visible


class TestTypedNonsense:
    """Whatever a provider types gets a message next to the field, never a crash."""

    @pytest.fixture
    def course(self, make, provider_user):
        return make.course(provider_user.provider)

    @pytest.mark.parametrize(("field", "value"), [
        ("meetings-0-day", "0001-01-01"), ("meetings-0-day", "9999-12-31"),
        ("booking_deadline", "0001-01-01T00:00"), ("cancellation_deadline", "9999-12-31T23:59"),
        ("seat_cap_released_at", "0001-01-01T00:00"), ("meetings-0-starts_at", "25:00"),
        ("capacity", "99999999999999999999"), ("capacity", "-3"),
    ])
    def test_out_of_range_values_are_refused_next_to_the_field(self, signed_in, make, course, field, value):
        data = session_fields(make, {"day": DAY, "municipality_id": make.municipality().id}) | {field: value}
        response = post(signed_in, f"/provider/courses/{course.id}/sessions/new", data)
        assert response.status_code == 422
        assert f'id="{field}-error"' in response.get_data(as_text=True)
        assert count(Session) == 0

    def test_a_time_skipped_by_summer_time_is_refused(self, signed_in, make, course):
        spring_forward = date(2027, 3, 28)
        data = session_fields(make, {"day": spring_forward, "starts": "02:30", "ends": "04:00",
                                     "municipality_id": make.municipality().id},
                              booking_deadline="2027-03-01T12:00", cancellation_deadline="2027-03-01T12:00")
        response = post(signed_in, f"/provider/courses/{course.id}/sessions/new", data)
        assert response.status_code == 422 and 'id="meetings-0-starts_at-error"' in response.get_data(as_text=True)

    @pytest.mark.parametrize("hours", ["sNaN", "NaN", "Infinity", "1e400", "-1"])
    def test_nonsense_hours_are_refused(self, signed_in, make, hours):
        response = post(signed_in, "/provider/courses/new", {
            "title": "Svets", "competence_area_ids": [make.competence_area("welding").id], "format": "digital",
            "nominal_hours": hours, "level": "introductory", "language": "sv",
        })
        assert response.status_code == 422 and count(Course) == 0

    def test_a_nul_character_is_dropped_from_text(self, signed_in, make):
        post(signed_in, "/provider/courses/new", {
            "title": "Svets\x00ning", "competence_area_ids": [make.competence_area("welding").id],
            "format": "digital", "nominal_hours": "8", "level": "introductory", "language": "sv",
        })
        assert db.session.scalar(select(Course.title)) == "Svetsning"

    def test_the_meeting_list_stops_growing_at_thirty(self, signed_in, make, course):
        place = make.municipality().id
        data = session_fields(make, *({"day": DAY + timedelta(days=n), "municipality_id": place} for n in range(30)),
                              add_meeting="1")
        del data["publish"]
        page = post(signed_in, f"/provider/courses/{course.id}/sessions/new", data).get_data(as_text=True)
        assert 'name="meetings-29-day"' in page and 'name="meetings-30-day"' not in page
        assert "högst 30 träffar" in page

    def test_more_than_thirty_meetings_are_refused_not_cut(self, signed_in, make, course):
        place = make.municipality().id
        data = session_fields(make, *({"day": DAY + timedelta(days=n), "municipality_id": place} for n in range(40)))
        response = post(signed_in, f"/provider/courses/{course.id}/sessions/new", data)
        assert response.status_code == 422 and count(Session) == 0

    def test_a_too_long_reason_is_explained_and_changes_nothing(self, signed_in, make, course):
        session = make.session(course)
        response = post(signed_in, f"/provider/sessions/{session.id}/cancel", {"reason": "x" * 1001},
                        follow_redirects=True)
        assert "class=\"flash flash-error\"" in response.get_data(as_text=True)
        db.session.expire_all()
        assert session.status == SessionStatus.OPEN


class TestStartPageAndQueries:
    def test_start_page_flags_sessions_under_their_minimum_as_the_deadline_nears(self, signed_in, make, provider_user):
        from datetime import datetime, timezone

        soon = datetime.now(timezone.utc) + timedelta(days=12)
        course = make.course(provider_user.provider, title="Svetsning TIG")
        at_risk = make.session(course, starts_at=soon, min_participants=5, booking_deadline=soon - timedelta(days=5))
        make.booking(at_risk, make.employee())
        enough = make.session(make.course(provider_user.provider, title="Full nog"), starts_at=soon, min_participants=1,
                              booking_deadline=soon - timedelta(days=5))
        make.booking(enough, make.employee())
        make.session(make.course(provider_user.provider, title="Långt kvar"), starts_at=soon + timedelta(days=60),
                     min_participants=5)
        page = signed_in.get("/").get_data(as_text=True)
        warning = page[page.index('id="at-risk-heading"'):page.index("</section>", page.index('id="at-risk-heading"'))]
        assert "Svetsning TIG" in warning and "1 bokade av minst 5" in warning
        assert "Full nog" not in warning and "Långt kvar" not in warning

    @pytest.mark.parametrize("path", ["/provider/courses", "/provider/courses/{course}", "/provider/sessions/{session}"])
    def test_provider_pages_run_the_same_queries_for_more_data(self, app, make, provider_user, path):
        from tests.conftest import count_queries

        course = make.course(provider_user.provider)
        session = make.session(course)

        def queries() -> int:
            client = app.test_client()
            sign_in(client, provider_user.email)
            with count_queries() as statements:
                assert client.get(path.format(course=course.id, session=session.id)).status_code == 200
            return len(statements)

        before = queries()
        for _ in range(6):
            make.session(course)
            make.course(provider_user.provider)
            make.booking(session, make.employee())
        assert queries() == before

    def test_the_session_page_runs_the_same_queries_for_a_digital_session(self, app, make, provider_user):
        from tests.conftest import count_queries

        in_person = make.session(make.course(provider_user.provider))
        digital = make.session(make.course(provider_user.provider))
        for meeting in digital.meetings:
            meeting.venue, meeting.municipality, meeting.online_url = "", None, "https://meet.example/abc"
        db.session.commit()
        client = app.test_client()
        sign_in(client, provider_user.email)
        counts = []
        for session in (in_person, digital):
            with count_queries() as statements:
                assert client.get(f"/provider/sessions/{session.id}").status_code == 200
            counts.append(len(statements))
        assert counts[0] == counts[1]
