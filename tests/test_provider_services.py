"""The provider's catalogue rules: courses, sessions, meetings, and who is told of changes."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    AuditEvent, Booking, BookingStatus, CourseFormat, CourseLevel, Meeting, Notification, OutboxEmail, Programme,
    Role, Session, SessionStatus,
)
from portal.services import DomainError
from portal.services import catalogue as service
from portal.services import InvalidInput
from portal.services.catalogue import CourseData, MeetingData, SessionData

SOON = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(days=30)


@pytest.fixture
def req(app, ctx):
    with app.test_request_context():
        yield


@pytest.fixture
def provider_user(make):
    return make.user(Role.PROVIDER)


def course_data(make, **overrides) -> CourseData:
    fields = dict(
        title="Svetsning MIG/MAG", description="Grundkurs", competence_area_ids=[make.competence_area("welding").id],
        format=CourseFormat.IN_PERSON, nominal_minutes=16 * 60, level=CourseLevel.INTRODUCTORY, language="sv",
        certified=True, shared_niche=True,
    )
    return CourseData(**(fields | overrides))


def meeting(make, day: int = 0, hours: int = 6, start_hour: int = 8, **overrides) -> MeetingData:
    starts = SOON + timedelta(days=day, hours=start_hour)
    fields = dict(starts_at=starts, ends_at=starts + timedelta(hours=hours), venue="Verkstaden",
                  municipality_id=make.municipality("Karlstad").id)
    return MeetingData(**(fields | overrides))


def session_data(make, meetings=None, **overrides) -> SessionData:
    fields = dict(capacity=12, booking_deadline=SOON - timedelta(days=7), cancellation_deadline=SOON - timedelta(days=3),
                  min_participants=4, meetings=meetings if meetings is not None else [meeting(make), meeting(make, day=7)])
    return SessionData(**(fields | overrides))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


class TestCourses:
    def test_provider_creates_a_course_of_its_own(self, make, provider_user):
        course = service.create_course(provider_user, course_data(make))
        db.session.commit()
        assert course.provider_id == provider_user.provider_id
        assert [a.code for a in course.competence_areas] == ["welding"]
        assert course.certified and course.shared_niche
        assert db.session.scalars(select(AuditEvent.action)).all() == ["course.created"]

    @pytest.mark.parametrize(("overrides", "field"), [
        ({"competence_area_ids": []}, "competence_area_ids"),
        ({"competence_area_ids": [999999]}, "competence_area_ids"),
        ({"title": "   "}, "title"),
        ({"nominal_minutes": 0}, "nominal_hours"),
    ])
    def test_bad_course_input_is_refused_by_field_and_saves_nothing(self, make, provider_user, overrides, field):
        with pytest.raises(InvalidInput) as refused:
            service.create_course(provider_user, course_data(make, **overrides))
        assert field in refused.value.errors
        db.session.rollback()
        assert count(AuditEvent) == 0

    def test_another_provider_cannot_change_the_course(self, make, provider_user):
        course = make.course()
        with pytest.raises(DomainError):
            service.update_course(course, provider_user, course_data(make))

    def test_retired_course_takes_no_new_sessions_until_reinstated(self, make, provider_user):
        course = make.course(provider_user.provider)
        service.retire_course(course, provider_user)
        assert course.retired_at is not None
        with pytest.raises(DomainError):
            service.create_session(course, provider_user, session_data(make), publish=True)
        service.reinstate_course(course, provider_user)
        assert service.create_session(course, provider_user, session_data(make), publish=True).status == SessionStatus.OPEN


class TestSessions:
    @pytest.fixture
    def course(self, make, provider_user):
        return make.course(provider_user.provider)

    def test_published_session_is_open_and_its_hours_follow_its_meetings(self, make, provider_user, course):
        session = service.create_session(course, provider_user, session_data(make), publish=True)
        db.session.commit()
        assert session.status == SessionStatus.OPEN
        assert session.minutes == 12 * 60
        elsewhere = [meeting(make, venue="Labbet"), meeting(make, day=7, venue="Labbet")]
        planned = service.create_session(course, provider_user, session_data(make, elsewhere), publish=False)
        assert planned.status == SessionStatus.PLANNED

    def test_a_session_is_refused_what_would_make_it_useless_or_clash(self, make, provider_user, course):
        """Found by a tester: each of these was published without a word."""
        programme_end = SOON.date() + timedelta(days=60)
        db.session.add(Programme(name="Kompetenslyftet", period_start=SOON.date() - timedelta(days=365),
                                 period_end=programme_end))
        service.create_session(course, provider_user, session_data(make), publish=True)
        db.session.commit()
        past_deadline = datetime.now(timezone.utc) - timedelta(days=1)
        cases = {
            "meetings-0-venue": session_data(make),  # the same room at the same time as the session above
            "booking_deadline": session_data(make, [meeting(make, venue="Labbet")], booking_deadline=past_deadline),
            "meetings-0-starts_at": session_data(make, [meeting(make, day=62, venue="Labbet")]),  # after the period
        }
        for field, data in cases.items():
            with pytest.raises(InvalidInput) as refused, force_locale("en"):
                service.create_session(course, provider_user, data, publish=True)
            assert field in refused.value.errors, (field, refused.value.errors)
            db.session.rollback()
        assert count(Session) == 1
        # Another provider's room of the same name is another room
        other = make.course(make.provider())
        service.create_session(other, make.user(Role.PROVIDER, provider=other.provider), session_data(make), publish=True)

    @pytest.mark.parametrize(("change", "field"), [
        (lambda make: {"meetings": [meeting(make, hours=-1)]}, "meetings-0-ends_at"),
        (lambda make: {"meetings": [meeting(make), meeting(make, start_hour=10)]}, "meetings-1-starts_at"),
        (lambda make: {"meetings": [meeting(make, day=-60)], "booking_deadline": SOON - timedelta(days=90),
                       "cancellation_deadline": SOON - timedelta(days=90)}, "meetings-0-starts_at"),
        (lambda make: {"meetings": [meeting(make, venue="")]}, "meetings-0-venue"),
        (lambda make: {"meetings": [meeting(make, municipality_id=None)]}, "meetings-0-municipality_id"),
        (lambda make: {"meetings": []}, "meetings"),
        (lambda make: {"company_seat_cap": 13}, "company_seat_cap"),
        (lambda make: {"booking_deadline": SOON + timedelta(days=1)}, "booking_deadline"),
        (lambda make: {"cancellation_deadline": SOON + timedelta(days=1)}, "cancellation_deadline"),
        (lambda make: {"min_participants": 20}, "min_participants"),
    ])
    def test_bad_session_input_is_refused_by_field_and_saves_nothing(self, make, provider_user, course, change, field):
        with pytest.raises(InvalidInput) as refused:
            service.create_session(course, provider_user, session_data(make, **change(make)), publish=True)
        assert field in refused.value.errors
        db.session.rollback()
        assert count(Session) == count(Meeting) == 0

    def test_digital_meetings_need_a_link_and_hybrid_ones_a_venue_or_link(self, make, provider_user):
        digital = make.course(provider_user.provider, format=CourseFormat.DIGITAL)
        online = meeting(make, venue="", municipality_id=None)
        with pytest.raises(InvalidInput) as refused:
            service.create_session(digital, provider_user, session_data(make, meetings=[online]), publish=True)
        assert "meetings-0-online_url" in refused.value.errors
        online.online_url = "https://meet.example.se/cnc"
        assert service.create_session(digital, provider_user, session_data(make, meetings=[online]), publish=True)
        hybrid = make.course(provider_user.provider, format=CourseFormat.HYBRID)
        with pytest.raises(InvalidInput):
            service.create_session(hybrid, provider_user, session_data(make, meetings=[meeting(make, venue="", municipality_id=None)]), publish=True)

    def test_capacity_cannot_fall_below_those_booked(self, make, provider_user, course):
        session = make.session(course, starts_at=SOON)
        for _ in range(3):
            make.booking(session, make.employee())
        data = session_data(make, capacity=2, min_participants=0, booking_deadline=session.booking_deadline,
                            cancellation_deadline=session.cancellation_deadline)
        with pytest.raises(InvalidInput) as refused:
            service.update_session(session, provider_user, data)
        assert "3" in refused.value.errors["capacity"]
        db.session.rollback()
        assert db.session.get(Session, session.id).capacity == 12
        data.capacity = 3
        assert service.update_session(session, provider_user, data).capacity == 3

    def test_meetings_are_added_and_removed_and_the_hours_follow(self, make, provider_user, course):
        session = make.session(course, starts_at=SOON + timedelta(hours=8))
        make.booking(session, make.employee())
        service.add_meeting(session, provider_user, meeting(make, day=3))
        assert session.minutes == 12 * 60 and session.ical_sequence == 1
        service.remove_meeting(session, provider_user, session.meetings[0])
        assert len(session.meetings) == 1 and session.ical_sequence == 2
        with pytest.raises(DomainError):
            service.remove_meeting(session, provider_user, session.meetings[0])

    def test_an_added_meeting_may_not_overlap_the_others(self, make, provider_user, course):
        session = make.session(course, starts_at=SOON + timedelta(hours=8))
        with pytest.raises(InvalidInput) as refused:
            service.add_meeting(session, provider_user, meeting(make, start_hour=10))
        assert "meetings-1-starts_at" in refused.value.errors


@pytest.fixture
def booked_session(make, provider_user, req):
    """A session with two companies' employees booked and one waitlisted, and each company's HR."""
    session = make.session(make.course(provider_user.provider), starts_at=SOON + timedelta(hours=8), meetings=2, capacity=2)
    hr_a, hr_b = make.user(Role.HR), make.user(Role.HR)
    anna = make.employee(hr_a.company, first_name="Anna", email="anna@a.se")
    bo = make.employee(hr_b.company, first_name="Bo")  # no email address
    cai = make.employee(hr_b.company, first_name="Cai", email="cai@b.se")
    make.booking(session, anna)
    make.booking(session, bo)
    make.booking(session, cai, BookingStatus.WAITLISTED)
    return session, hr_a, hr_b, anna


def _shift_to(weekday: int) -> int:
    """Days from SOON to a day three weeks on with this weekday (0 Monday), that day and the next
    working days (no Swedish public holiday)."""
    from portal.services.slots import is_working_day

    shift = 21
    while True:
        day = (SOON + timedelta(days=shift, hours=8)).astimezone(ZoneInfo("Europe/Stockholm")).date()
        if day.weekday() == weekday and (weekday >= 5 or all(is_working_day(day + timedelta(days=n)) for n in (0, 1))):
            return shift
        shift += 1


def new_dates(make, shift_days: int) -> list[MeetingData]:
    return [meeting(make, day=shift_days), meeting(make, day=shift_days + 1)]


class TestChanges:
    def test_new_dates_keep_bookings_and_move_the_meetings_in_place(self, make, provider_user, booked_session):
        session, hr_a, hr_b, _ = booked_session
        meeting_ids = [m.id for m in session.meetings]
        service.change_session_dates(session, provider_user, new_dates(make, 20), SOON, SOON + timedelta(days=1))
        db.session.commit()
        assert [m.id for m in session.meetings] == meeting_ids
        assert session.meetings[0].starts_at == SOON + timedelta(days=20, hours=8)
        assert session.ical_sequence == 1
        statuses = db.session.scalars(select(Booking.status).where(Booking.session_id == session.id)).all()
        assert sorted(statuses) == [BookingStatus.BOOKED, BookingStatus.BOOKED, BookingStatus.WAITLISTED]

    def test_new_dates_tell_everyone_booked_and_waitlisted_and_their_hr(self, make, provider_user, booked_session):
        session, hr_a, hr_b, _ = booked_session
        service.change_session_dates(session, provider_user, new_dates(make, 20), SOON, SOON + timedelta(days=1))
        db.session.commit()
        notes = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
        assert [n.user_id for n in notes] == sorted([hr_a.id, hr_b.id])
        assert all(n.title.startswith("Nya datum:") for n in notes)
        by_user = {n.user_id: n.body for n in notes}
        assert "Anna Andersson" in by_user[hr_a.id] and "Bo Andersson" not in by_user[hr_a.id]
        assert "Bo Andersson" in by_user[hr_b.id] and "Cai Andersson" in by_user[hr_b.id]
        recipients = set(db.session.scalars(select(OutboxEmail.to_address)))
        assert recipients == {"anna@a.se", "cai@b.se", hr_a.email, hr_b.email}

    def test_saving_the_dates_as_they_are_tells_no_one_and_changes_nothing(self, make, provider_user, booked_session):
        session, _, _, _ = booked_session
        same = [replace(m, venue=f"  {m.venue} ") for m in service.meetings_as_data(list(session.meetings))]
        sequence = session.ical_sequence
        with pytest.raises(DomainError, match="Inget har ändrats"):
            service.change_session_dates(session, provider_user, same, session.booking_deadline,
                                         session.cancellation_deadline)
        db.session.rollback()
        assert count(Notification) == 0 and count(OutboxEmail) == 0
        assert db.session.get(Session, session.id).ical_sequence == sequence
        # A deadline moved is a change: it is saved and everyone is told
        service.change_session_dates(session, provider_user, same, session.booking_deadline - timedelta(hours=1),
                                     session.cancellation_deadline)
        db.session.commit()
        assert count(Notification) == 2

    def test_the_provider_is_warned_how_many_booked_would_clash(self, make, provider_user, booked_session):
        session, _, _, anna = booked_session
        elsewhere = make.session(starts_at=SOON + timedelta(days=20, hours=8))
        make.booking(elsewhere, anna)
        assert service.clashing_booked_employees(session, new_dates(make, 20)) == {anna.id}
        assert service.clashing_booked_employees(session, new_dates(make, 40)) == set()

    def test_postponed_session_keeps_bookings_and_reopens_with_new_dates(self, make, provider_user, booked_session):
        session, hr_a, _, _ = booked_session
        service.postpone_session(session, provider_user, "Läraren är sjuk")
        db.session.commit()
        assert session.status == SessionStatus.POSTPONED
        assert count(Notification) == 2 and "Läraren är sjuk" in db.session.scalars(select(Notification.body)).first()
        assert db.session.scalar(select(func.count(Booking.id)).where(Booking.status != BookingStatus.CANCELLED)) == 3
        with pytest.raises(DomainError):
            service.postpone_session(session, provider_user)
        service.change_session_dates(session, provider_user, new_dates(make, 50), SOON, SOON)
        assert session.status == SessionStatus.OPEN

    def test_cancelling_frees_every_seat_tells_everyone_and_stays_visible(self, make, provider_user, booked_session):
        session, _, _, _ = booked_session
        service.cancel_session(session, provider_user, "För få anmälda")
        db.session.commit()
        assert db.session.get(Session, session.id).status == SessionStatus.CANCELLED
        assert set(db.session.scalars(select(Booking.status))) == {BookingStatus.CANCELLED}
        assert count(Notification) == 2
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert actions.count("booking.cancelled") == 3 and "session.cancelled" in actions
        with pytest.raises(DomainError):
            service.cancel_session(session, provider_user)
        with pytest.raises(DomainError):
            service.change_session_dates(session, provider_user, new_dates(make, 50), SOON, SOON)


def test_new_dates_are_mailed_with_the_updated_calendar_file(make, provider_user, booked_session):
    from icalendar import Calendar

    session, _, _, _ = booked_session
    service.change_session_dates(session, provider_user, new_dates(make, 20), SOON, SOON + timedelta(days=1))
    db.session.commit()
    mail = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == "anna@a.se")).one()
    assert mail.attachment_type == "text/calendar"
    events = Calendar.from_ical(mail.attachment_content).walk("VEVENT")
    assert [int(e["SEQUENCE"]) for e in events] == [1, 1]
    assert [str(e["UID"]) for e in events] == [f"meeting-{m.id}@portal" for m in session.meetings]
    assert events[0].decoded("DTSTART") == SOON + timedelta(days=20, hours=8)


class TestReviewedEdges:
    """Edges a review found: each once let a change through that it should not have."""

    def test_a_meeting_with_attendance_neither_moves_nor_goes(self, make, provider_user, booked_session):
        from portal.models import Attendance, AttendanceStatus

        session, _, _, anna = booked_session
        booking = db.session.scalars(select(Booking).where(Booking.employee_id == anna.id)).one()
        attended = session.meetings[1]
        db.session.add(Attendance(booking=booking, meeting=attended, status=AttendanceStatus.ATTENDED))
        db.session.commit()
        first = session.meetings[0]
        kept = [MeetingData(m.starts_at, m.ends_at, "Verkstaden", make.municipality("Karlstad").id) for m in (first, attended)]
        with pytest.raises(InvalidInput) as moved:
            service.change_session_dates(session, provider_user, new_dates(make, 20), SOON, SOON)
        assert "meetings-1-starts_at" in moved.value.errors
        db.session.rollback()
        with pytest.raises(InvalidInput) as dropped:
            service.change_session_dates(session, provider_user, kept[:1], SOON, SOON)
        assert "meetings" in dropped.value.errors
        db.session.rollback()
        # Moving only the meeting without attendance is fine.
        service.change_session_dates(session, provider_user, [meeting(make, day=30), kept[1]], SOON, SOON)
        assert session.meetings[1].starts_at == SOON + timedelta(days=30, hours=8)
        assert attended in session.meetings


    def test_a_planned_session_is_not_postponed_but_given_dates(self, make, provider_user, req):
        session = make.session(make.course(provider_user.provider), starts_at=SOON, status=SessionStatus.PLANNED)
        with pytest.raises(DomainError):
            service.postpone_session(session, provider_user)

    def test_a_session_postponed_by_a_restriction_in_force_waits_for_the_lift(self, make, provider_user, req):
        from datetime import date

        from portal.models import Restriction, RestrictionScope

        restriction = Restriction(scope=RestrictionScope.COUNTRY, in_force_from=date.today() - timedelta(days=1),
                                  max_group_size=8, description="Högst 8")
        db.session.add(restriction)
        db.session.commit()
        session = make.session(make.course(provider_user.provider), starts_at=SOON, status=SessionStatus.POSTPONED,
                               postponed_by_id=restriction.id)
        company = make.company()
        for _ in range(9):  # more than the restriction lets meet: it stops this session until it is lifted
            make.booking(session, make.employee(company))
        # Working days, so the restriction is the only reason to refuse them, whatever day the suite runs on
        with pytest.raises(InvalidInput) as held, force_locale("en"):
            service.change_session_dates(session, provider_user, new_dates(make, _shift_to(0)), SOON, SOON)
        assert "still in force" in held.value.errors["meetings"]
        db.session.rollback()
        restriction.lifted_on = date.today()
        db.session.commit()
        with pytest.raises(InvalidInput) as weekend, force_locale("en"):  # the dates pass the proposals' rules
            service.change_session_dates(session, provider_user, new_dates(make, _shift_to(5)), SOON, SOON)
        assert "weekend" in weekend.value.errors["meetings-0-starts_at"]
        db.session.rollback()
        service.change_session_dates(session, provider_user, new_dates(make, _shift_to(0)), SOON, SOON)
        assert session.status == SessionStatus.OPEN and session.postponed_by_id is None

    def test_an_added_meeting_before_the_deadlines_is_refused(self, make, provider_user, req):
        session = make.session(make.course(provider_user.provider), starts_at=SOON + timedelta(days=30))
        with pytest.raises(InvalidInput) as refused:
            service.add_meeting(session, provider_user, meeting(make, day=1))
        assert "meetings-1-starts_at" in refused.value.errors

    def test_a_postponed_session_takes_no_meetings_until_it_has_new_dates(self, make, provider_user, booked_session):
        session = booked_session[0]
        service.postpone_session(session, provider_user)
        with pytest.raises(DomainError):
            service.add_meeting(session, provider_user, meeting(make, day=40))

    def test_at_most_thirty_meetings(self, make, provider_user):
        course = make.course(provider_user.provider)
        many = [meeting(make, day=day) for day in range(31)]
        with pytest.raises(InvalidInput) as refused:
            service.create_session(course, provider_user, session_data(make, meetings=many), publish=True)
        assert "meetings" in refused.value.errors

    def test_new_dates_with_clashes_wait_for_the_confirmed_count(self, make, provider_user, booked_session):
        session, hr_a, _, anna = booked_session
        make.booking(make.session(starts_at=SOON + timedelta(days=20, hours=8)), anna)
        with pytest.raises(service.ClashesToConfirm) as pending:
            service.change_session_dates(session, provider_user, new_dates(make, 20), SOON, SOON)
        assert pending.value.count == 1
        db.session.rollback()
        service.change_session_dates(session, provider_user, new_dates(make, 20), SOON, SOON, confirmed_clashes=1)
        db.session.commit()
        note = db.session.scalars(select(Notification).where(Notification.user_id == hr_a.id)).one()
        assert "samma tid: Anna Andersson" in note.body.replace("\n", " ")

    def test_postponing_and_cancelling_send_an_updated_calendar_file(self, make, provider_user, booked_session):
        from icalendar import Calendar

        session = booked_session[0]
        service.postpone_session(session, provider_user)
        service.cancel_session(session, provider_user)
        db.session.commit()
        files = db.session.scalars(
            select(OutboxEmail.attachment_content).where(OutboxEmail.to_address == "anna@a.se").order_by(OutboxEmail.id)
        ).all()
        postponed, cancelled = (Calendar.from_ical(f).walk("VEVENT")[0] for f in files)
        assert (int(postponed["SEQUENCE"]), str(postponed["STATUS"])) == (1, "TENTATIVE")
        assert (int(cancelled["SEQUENCE"]), str(cancelled["STATUS"])) == (2, "CANCELLED")
