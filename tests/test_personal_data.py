"""Personal data on request (GDPR): export, erasure that keeps the anonymous totals, and the
retention rule that purges old attendance registers without changing a report."""
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Attendance, AttendanceStatus, AuditEvent, Booking, BookingStatus, Employee, Gender, HoursEntry, Notification,
    OutboxEmail, Programme, Role, Session, User,
)
from portal.services import DomainError, InvalidInput, privacy
from portal.services import attendance as attendance_service
from portal.services.booking import book_employees
from portal.services.notifications import notify
from portal.services.reports import ReportFilters, programme_report
from tests.conftest import csrf_token, sign_in
from tests.test_tallies import assert_in_step, at_once

NOW = datetime.now(timezone.utc).replace(microsecond=0)
TODAY = date.today()


@pytest.fixture(autouse=True)
def _english(app, ctx):
    with app.test_request_context(), force_locale("en"):
        yield


@pytest.fixture
def programme():
    programme = Programme(name="Kompetenslyftet", period_start=TODAY - timedelta(days=5 * 365),
                          period_end=TODAY + timedelta(days=365))
    db.session.add(programme)
    db.session.commit()
    return programme


@pytest.fixture
def people(make, programme):
    """Anna, booked on a past session (attended, 6 h) and a coming one (full, one in line) and on
    the waitlist of another; her HR, a provider and the programme office."""
    company = make.company(name="Verkstad AB")
    hr = make.user(Role.HR, company=company)
    provider_user = make.user(Role.PROVIDER)
    pm = make.user(Role.PM)
    anna = make.employee(company, first_name="Anna", last_name="Lindqvist", email="anna@verkstad.se",
                         job_role="Operatör", gender=Gender.WOMAN, birth_year=1980)
    bertil = make.employee(company, first_name="Bertil", last_name="Berg")
    course = make.course(provider_user.provider)
    past = make.session(course, starts_at=NOW - timedelta(days=10))
    past_booking = make.booking(past, anna)
    coming = make.session(course, capacity=1)
    coming_booking = make.booking(coming, anna)
    waiting = make.booking(coming, bertil, status=BookingStatus.WAITLISTED)
    other = make.session(course, starts_at=NOW + timedelta(days=30), capacity=1)
    make.booking(other, bertil)
    in_line = make.booking(other, anna, status=BookingStatus.WAITLISTED)
    attendance_service.mark(past.meetings[0], past_booking.id, AttendanceStatus.ATTENDED, provider_user)
    notify(hr, "test", "Anna Lindqvist fick en plats", "Anna Lindqvist är bokad.")
    db.session.commit()
    return dict(company=company, hr=hr, provider_user=provider_user, pm=pm, anna=anna, bertil=bertil,
                past=past, past_booking=past_booking, coming=coming, coming_booking=coming_booking,
                waiting=waiting, other=other, in_line=in_line)


def pm_client(app, pm):
    """The programme office signed in, reading the portal in English."""
    client = app.test_client()
    sign_in(client, pm.email)
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/privacy")})
    return client


def headline() -> tuple:
    report = programme_report(ReportFilters())
    by_company = [(row.label, row.individuals, row.minutes) for row in report.by_name["company"].rows]
    return report.individuals, report.minutes, report.sessions, by_company


class TestExport:
    def test_holds_the_person_their_bookings_attendance_hours_and_messages(self, people):
        data = privacy.person_data(people["anna"])

        assert data["person"]["email"] == "anna@verkstad.se" and data["person"]["birth_year"] == 1980
        assert data["person"]["company"]["name"] == "Verkstad AB"
        assert {b["status"] for b in data["bookings"]} == {"booked", "waitlisted"} and len(data["bookings"]) == 3
        assert [a["status"] for a in data["attendance"]] == ["attended"]
        assert [h["minutes"] for h in data["hours"]] == [360]
        assert [m["subject"] for m in data["messages"]] == ["Anna Lindqvist fick en plats"]
        assert "attendance.recorded" in {event["action"] for event in data["history"]}
        json.dumps(data)  # all of it serialisable

    def test_the_programme_office_downloads_it_as_a_file(self, app, people):
        client = pm_client(app, people["pm"])
        response = client.get(f"/privacy/people/{people['anna'].id}/export")

        assert response.status_code == 200 and response.mimetype == "application/json"
        assert "attachment" in response.headers["Content-Disposition"]
        assert response.headers["Cache-Control"] == "no-store"
        assert response.get_json()["person"]["last_name"] == "Lindqvist"


class TestErasure:
    def test_the_person_is_anonymous_and_the_totals_stay(self, people):
        before = headline()

        privacy.erase(people["pm"], people["anna"])
        db.session.commit()

        anna = db.session.get(type(people["anna"]), people["anna"].id)
        assert (anna.first_name, anna.last_name, anna.email, anna.job_role, anna.gender, anna.birth_year) == (
            "Raderad", "person", None, "", Gender.NOT_STATED, None)
        assert anna.erased_at is not None and not anna.is_active
        assert headline() == before
        assert_in_step()  # her age tallies and the programme's totals moved to "not stated"
        assert db.session.scalar(select(func.sum(HoursEntry.minutes)).where(HoursEntry.employee_id == anna.id)) == 360

    def test_coming_bookings_are_cancelled_and_the_waitlist_moves(self, people):
        erased = privacy.erase(people["pm"], people["anna"])
        db.session.commit()

        status = {b.id: b.status for b in db.session.scalars(select(Booking))}
        assert status[people["coming_booking"].id] == BookingStatus.CANCELLED
        assert status[people["in_line"].id] == BookingStatus.CANCELLED
        assert status[people["waiting"].id] == BookingStatus.BOOKED  # Bertil got the freed seat
        assert status[people["past_booking"].id] == BookingStatus.BOOKED  # what happened stays
        assert (erased.cancelled, erased.promoted) == (2, 1)
        assert db.session.get(Session, people["coming"].id).seats_taken == 1

    def test_the_name_is_struck_from_messages_and_mails_to_the_person_are_gone(self, people):
        from portal.services.notifications import email

        email("anna@verkstad.se", "Påminnelse", "Hej Anna Lindqvist")
        db.session.commit()

        privacy.erase(people["pm"], people["anna"])
        db.session.commit()

        texts = [n.title + n.body for n in db.session.scalars(select(Notification))]
        mails = [m.subject + m.body_text for m in db.session.scalars(select(OutboxEmail))]
        assert texts and not any("Lindqvist" in text for text in texts + mails)
        assert "Raderad person fick en plats" in texts[0]
        assert not db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == "anna@verkstad.se")).all()

    def test_the_audit_trail_records_it_without_the_name(self, people):
        privacy.erase(people["pm"], people["anna"])
        db.session.commit()
        (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "employee.erased")).all()
        assert event.object_id == people["anna"].id and "Lindqvist" not in json.dumps(event.data)

    def test_an_erased_person_cannot_be_booked_changed_or_erased_again(self, people):
        privacy.erase(people["pm"], people["anna"])
        db.session.commit()
        anna = people["anna"]

        (outcome,) = book_employees(people["other"].id, [anna.id], people["hr"]).outcomes
        assert outcome.result == "refused"
        with pytest.raises(DomainError, match="already been erased"):
            privacy.erase(people["pm"], anna)
        db.session.rollback()

    def test_only_the_programme_office_erases(self, people):
        with pytest.raises(DomainError):
            privacy.erase(people["hr"], people["anna"])
        db.session.rollback()
        assert db.session.get(type(people["anna"]), people["anna"].id).erased_at is None

    def test_the_page_asks_for_confirmation_and_changes_nothing_without_it(self, app, people):
        client = pm_client(app, people["pm"])
        url = f"/privacy/people/{people['anna'].id}"
        token = csrf_token(client, url)

        refused = client.post(url + "/erase", data={"csrf_token": token})
        assert refused.status_code == 422 and "Tick the box to confirm the erasure." in refused.get_data(as_text=True)
        assert db.session.scalar(select(Booking.status).where(Booking.id == people["coming_booking"].id)) == "booked"

        done = client.post(url + "/erase", data={"csrf_token": token, "confirmed": "y"}, follow_redirects=True)
        page = done.get_data(as_text=True)
        assert done.status_code == 200 and "Lindqvist" not in page and "Raderad person" in page
        assert "The person is erased. 2 coming bookings cancelled, 1 person moved up from a waitlist." in page


def old_session(make, provider_user, employee, years_ago: int):
    """A session that ended `years_ago` years ago, where the employee attended its meeting."""
    started = NOW - timedelta(days=365 * years_ago + 3)
    session = make.session(make.course(provider_user.provider), starts_at=started)
    booking = make.booking(session, employee)
    attendance_service.mark(session.meetings[0], booking.id, AttendanceStatus.ATTENDED, provider_user)
    db.session.commit()
    return session


def test_a_person_is_found_with_or_without_the_accents_of_their_name(people, make):
    """'kovacevic' finds Kovačević and 'jonsson' Jönsson, and the other way round, as a person types it."""
    company = people["company"]
    names = {"kovacevic": "Kovačević", "jonsson": "Jönsson", "Jönsson": "Jonsson", "ÅSTRÖM": "Åström"}
    for last_name in names.values():
        make.employee(company, first_name="Andreas", last_name=last_name)
    for typed, wanted in names.items():
        found = {row.last_name for row in privacy.find_people(typed).items}
        assert wanted in found, (typed, found)
    assert {row.last_name for row in privacy.find_people("kovacevic").items} == {"Kovačević"}


class TestErasureAtOnce:
    def test_a_person_erased_while_being_booked_keeps_no_live_booking(self, app, make, people):
        """The erasure and two HR bookings of the same person race. Whoever takes the person first, the
        erased person is left with no live booking: one made first is cancelled, one asked after refused."""
        anna_id, pm_id, hr_id = people["anna"].id, people["pm"].id, people["hr"].id
        course = make.course(people["provider_user"].provider)
        sessions = [make.session(course, starts_at=NOW + timedelta(days=40 + 7 * i)).id for i in range(2)]
        db.session.commit()

        def erase(all_ready):
            pm, anna = db.session.get(User, pm_id), db.session.get(Employee, anna_id)
            all_ready()
            privacy.erase(pm, anna)
            db.session.commit()

        def book(session_id):
            def action(all_ready):
                hr = db.session.get(User, hr_id)
                all_ready()
                book_employees(session_id, [anna_id], hr)
                db.session.commit()
            return action

        at_once(app, erase, *[book(session_id) for session_id in sessions])
        assert db.session.get(Employee, anna_id).erased_at is not None
        coming = [*sessions, people["coming"].id, people["other"].id]  # the past booking and its hours stay
        live = select(func.count()).select_from(Booking).where(
            Booking.employee_id == anna_id, Booking.session_id.in_(coming), Booking.status != BookingStatus.CANCELLED)
        assert db.session.scalar(live) == 0
        assert db.session.scalar(select(func.sum(Session.seats_taken)).where(Session.id.in_(sessions))) == 0


class TestRetention:
    def test_old_registers_are_purged_and_every_total_stays(self, make, people):
        old = old_session(make, people["provider_user"], people["bertil"], years_ago=3)
        privacy.set_retention(people["pm"], 2)
        db.session.commit()
        before = headline()
        assert privacy.sessions_due_for_purge(2) == 1

        assert privacy.purge_expired_attendance() == 1
        db.session.commit()

        assert headline() == before
        assert_in_step()
        marks = db.session.scalars(select(Attendance.meeting_id)).all()
        assert old.meetings[0].id not in marks and people["past"].meetings[0].id in marks  # the recent one stays
        entry = db.session.scalars(select(HoursEntry).where(HoursEntry.session_id == old.id)).one()
        assert entry.attendance_id is None and entry.minutes == 360
        assert db.session.get(Session, old.id).attendance_purged_at is not None
        assert privacy.purge_expired_attendance() == 0  # nothing twice

    def test_a_purged_register_cannot_be_marked_again(self, make, people):
        old = old_session(make, people["provider_user"], people["bertil"], years_ago=3)
        privacy.set_retention(people["pm"], 1)
        privacy.purge_expired_attendance()
        db.session.commit()
        booking = db.session.scalars(select(Booking).where(Booking.session_id == old.id)).one()

        with pytest.raises(DomainError, match="purged"):
            attendance_service.mark(old.meetings[0], booking.id, AttendanceStatus.ATTENDED, people["provider_user"])
        db.session.rollback()
        assert db.session.scalar(select(func.count(HoursEntry.id)).where(HoursEntry.session_id == old.id)) == 1

    def test_without_a_rule_nothing_is_purged(self, make, people):
        old_session(make, people["provider_user"], people["bertil"], years_ago=10)
        assert privacy.purge_expired_attendance() == 0
        assert db.session.scalar(select(func.count(Attendance.id))) == 2

    @pytest.mark.parametrize("years", [0, 51, -1])
    def test_the_setting_is_one_to_fifty_years(self, people, years):
        with pytest.raises(InvalidInput) as refused:
            privacy.set_retention(people["pm"], years)
        assert "retention_years" in refused.value.errors

    def test_the_job_purges_and_records_its_count(self, app, make, people):
        from portal.jobs.retention import purge_attendance
        from portal.models import JobRun

        old_session(make, people["provider_user"], people["bertil"], years_ago=3)
        privacy.set_retention(people["pm"], 2)
        db.session.commit()
        purge_attendance(app)
        run = db.session.scalars(select(JobRun).where(JobRun.job == "purge_attendance")).one()
        assert run.counts == {"purged": 1}

    @pytest.mark.parametrize("value, message", [("0", "From 1 to 50 years"), ("abc", "Not a valid integer value.")])
    def test_the_page_refuses_a_bad_setting_next_to_the_field(self, app, people, value, message):
        client = pm_client(app, people["pm"])
        response = client.post("/privacy/retention", data={"csrf_token": csrf_token(client, "/privacy"),
                                                           "retention_years": value})
        assert response.status_code == 422 and message in response.get_data(as_text=True)
        assert db.session.scalar(select(Programme.retention_years)) is None

    def test_the_page_saves_the_rule_and_offers_to_purge_now(self, app, make, people):
        old_session(make, people["provider_user"], people["bertil"], years_ago=3)
        client = pm_client(app, people["pm"])
        token = csrf_token(client, "/privacy")
        saved = client.post("/privacy/retention", data={"csrf_token": token, "retention_years": "2"},
                            follow_redirects=True)
        assert 'id="purge-due"' in saved.get_data(as_text=True)

        purged = client.post("/privacy/purge", data={"csrf_token": token}, follow_redirects=True)
        assert "Attendance registers purged: 1 session." in purged.get_data(as_text=True)
        assert db.session.scalar(select(func.count(Attendance.id))) == 1
