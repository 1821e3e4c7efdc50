"""Restrictions postpone the in-person sessions they stop; lifting or easing them proposes new dates,
which the provider confirms (or the programme confirms at once)."""
import dataclasses
import threading
import time as time_module
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    AuditEvent, Booking, BookingStatus, CourseFormat, Meeting, Notification, OutboxEmail, Programme, ProposalStatus,
    RescheduleProposal, Restriction, RestrictionScope, Role, Session, SessionStatus,
)
from portal.services import DomainError, InvalidInput
from portal.services import catalogue
from portal.services.booking import book_employees, cancel_booking
from portal.services.catalogue import MeetingData, SessionData
from portal.services import rescheduling, restrictions as service
from portal.services.restrictions import ImpactToConfirm, RestrictionData
from portal.services.slots import is_working_day
from tests.conftest import ON_POSTGRES, count_queries

ZONE = ZoneInfo("Europe/Stockholm")


def today() -> date:
    return datetime.now(ZONE).date()


def working_day_from(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def at(day: date, hour: int = 8) -> datetime:
    return datetime.combine(day, time(hour), ZONE).astimezone(timezone.utc)


def local(moment: datetime) -> datetime:
    return moment.astimezone(ZONE)


@pytest.fixture
def programme(ctx):
    found = Programme(name="Kompetenslyftet", period_start=today() - timedelta(days=365),
                      period_end=today() + timedelta(days=400), notice_days=14)
    db.session.add(found)
    db.session.commit()
    return found


@pytest.fixture
def pm(make, programme):
    return make.user(Role.PM)


@pytest.fixture
def provider_user(make):
    return make.user(Role.PROVIDER)


def in_person(make, provider, *, days_ahead: int = 21, booked: int = 12, days=(0,), place: str = "Västerås",
              venue: str = "Sal 1", companies: int = 2, status: SessionStatus = SessionStatus.OPEN) -> Session:
    """An in-person session on working days from `days_ahead` on (meetings `days` apart from the first), 08–14."""
    first = today() + timedelta(days=days_ahead)
    while not all(is_working_day(first + timedelta(days=offset)) for offset in days):  # every meeting, not the first alone
        first += timedelta(days=1)
    course, municipality = make.course(provider), make.municipality(place)
    session = Session(course=course, status=status, capacity=max(booked, 1) + 4,
                      booking_deadline=at(first) - timedelta(days=10), cancellation_deadline=at(first) - timedelta(days=7))
    for offset in days:
        starts = at(first + timedelta(days=offset))
        session.meetings.append(Meeting(starts_at=starts, ends_at=starts + timedelta(hours=6), venue=venue,
                                        municipality=municipality))
    db.session.add(session)
    db.session.commit()
    hrs = [make.user(Role.HR) for _ in range(companies)]
    for n in range(booked):
        make.booking(session, make.employee(hrs[n % companies].company, email=f"person{session.id}-{n}@example.se"))
    return session


def country(size: int | None = 8, from_day: date | None = None, description: str = "Högst 8 deltagare") -> RestrictionData:
    return RestrictionData(scope=RestrictionScope.COUNTRY, region_ids=[], municipality_ids=[],
                           in_force_from=from_day or today(), max_group_size=size, description=description)


def record(pm, data: RestrictionData) -> Restriction:
    impact = service.preview_restriction(data)
    restriction = service.record_restriction(pm, data, confirmed_sessions=impact.sessions)
    db.session.commit()
    return restriction


def lift(pm, restriction: Restriction, day: date | None = None) -> rescheduling.RescheduleReport:
    service.lift_restriction(restriction, pm, day or today())
    db.session.commit()
    return rescheduling.reschedule(restriction_id=restriction.id)


def proposal_of(session: Session) -> RescheduleProposal | None:
    return db.session.scalars(
        select(RescheduleProposal).where(RescheduleProposal.session_id == session.id).order_by(RescheduleProposal.id.desc())
    ).first()


class TestRecording:
    def test_the_preview_counts_sessions_companies_and_employees_and_saves_nothing(self, make, pm, provider_user):
        in_person(make, provider_user.provider, booked=12, companies=3)
        in_person(make, provider_user.provider, booked=9, companies=2, days_ahead=40)
        in_person(make, provider_user.provider, booked=8)  # within the limit

        impact = service.preview_restriction(country(8))

        assert (impact.sessions, impact.companies, impact.employees) == (2, 5, 21)
        db.session.rollback()
        assert db.session.scalar(select(func.count(Restriction.id))) == 0
        assert db.session.scalar(select(func.count(Session.id)).where(Session.status == SessionStatus.POSTPONED)) == 0

    def test_recording_postpones_what_it_stops_and_keeps_bookings_and_waitlists(self, make, pm, provider_user):
        session = in_person(make, provider_user.provider, booked=12)
        waiting = make.booking(session, make.employee(), BookingStatus.WAITLISTED)
        sequence = session.ical_sequence

        restriction = record(pm, country(8))

        db.session.refresh(session)
        assert session.status == SessionStatus.POSTPONED and session.postponed_by_id == restriction.id
        assert session.postponed_at is not None and session.ical_sequence == sequence + 1
        statuses = db.session.scalars(select(Booking.status).where(Booking.session_id == session.id)).all()
        assert statuses.count(BookingStatus.BOOKED) == 12 and db.session.get(Booking, waiting.id).status == BookingStatus.WAITLISTED
        assert session.seats_taken == 12

    def test_everyone_booked_their_hr_and_the_provider_are_told_why(self, make, pm, provider_user):
        session = in_person(make, provider_user.provider, booked=10, companies=2)

        record(pm, country(8, description="Folkhälsomyndigheten: högst 8 deltagare"))

        told = db.session.scalars(select(Notification).where(Notification.kind == "session.postponed")).all()
        roles = sorted(str(n.user.role) for n in told)
        assert roles == ["hr", "hr", "provider"]
        assert all("Folkhälsomyndigheten: högst 8 deltagare" in n.body for n in told)
        mailed = set(db.session.scalars(select(OutboxEmail.to_address)))
        assert {f"person{session.id}-{n}@example.se" for n in range(10)} <= mailed
        calendar = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == f"person{session.id}-0@example.se")).one()
        assert calendar.attachment_type == "text/calendar"

    def test_a_changed_impact_since_the_preview_saves_nothing(self, make, pm, provider_user):
        in_person(make, provider_user.provider, booked=12)
        with pytest.raises(ImpactToConfirm) as changed:
            service.record_restriction(pm, country(8), confirmed_sessions=0)
        assert changed.value.impact.sessions == 1
        db.session.rollback()
        assert db.session.scalar(select(func.count(Restriction.id))) == 0

    def test_what_it_does_not_stop_goes_on(self, make, pm, provider_user):
        provider = provider_user.provider
        under = in_person(make, provider, booked=8)
        elsewhere = in_person(make, provider, booked=12, place="Karlstad")
        before = in_person(make, provider, booked=12, days_ahead=3)  # before it comes into force
        planned = in_person(make, provider, booked=0, status=SessionStatus.PLANNED)
        digital = make.session(make.course(provider), starts_at=at(working_day_from(today() + timedelta(days=30))))
        for meeting in digital.meetings:
            meeting.venue, meeting.municipality_id, meeting.online_url = "", None, "https://meet.example.se/x"
        db.session.commit()
        for _ in range(12):
            make.booking(digital, make.employee())

        västmanland = make.municipality("Västerås").region_id
        record(pm, RestrictionData(scope=RestrictionScope.REGIONS, region_ids=[västmanland], municipality_ids=[],
                                   in_force_from=today() + timedelta(days=10), max_group_size=8, description="Västmanland"))

        for session in (under, elsewhere, before, planned, digital):
            db.session.refresh(session)
        assert [s.status for s in (under, elsewhere, before, digital)] == [SessionStatus.OPEN] * 4
        assert planned.status == SessionStatus.PLANNED

    def test_municipality_scope_and_no_in_person_meetings_at_all(self, make, pm, provider_user):
        small = in_person(make, provider_user.provider, booked=2, place="Köping")
        other = in_person(make, provider_user.provider, booked=2, place="Västerås")

        record(pm, RestrictionData(scope=RestrictionScope.MUNICIPALITIES, region_ids=[],
                                   municipality_ids=[make.municipality("Köping").id], in_force_from=today(),
                                   max_group_size=None, description="Inga fysiska möten i Köping"))

        db.session.refresh(small), db.session.refresh(other)
        assert (small.status, other.status) == (SessionStatus.POSTPONED, SessionStatus.OPEN)

    @pytest.mark.parametrize("change, field", [
        ({"scope": RestrictionScope.REGIONS}, "region_ids"),
        ({"scope": RestrictionScope.REGIONS, "region_ids": [999_999]}, "region_ids"),
        ({"scope": RestrictionScope.MUNICIPALITIES}, "municipality_ids"),
        ({"max_group_size": 0}, "max_group_size"),
        ({"max_group_size": 10_000_000}, "max_group_size"),
        ({"description": "  "}, "description"),
    ])
    def test_bad_input_is_refused_next_to_its_field(self, pm, change, field):
        data = country(8)
        for key, value in change.items():
            setattr(data, key, value)
        with pytest.raises(InvalidInput) as refused:
            service.preview_restriction(data)
        assert field in refused.value.errors


class TestEasingTighteningLifting:
    def test_tightening_postpones_more_and_easing_postpones_nothing(self, make, pm, provider_user):
        ten = in_person(make, provider_user.provider, booked=10, days_ahead=30)
        six = in_person(make, provider_user.provider, booked=6, days_ahead=30, venue="Sal 2")
        restriction = record(pm, country(12))
        db.session.refresh(ten)
        assert ten.status == SessionStatus.OPEN

        day = today() + timedelta(days=5)
        impact = service.preview_group_size(restriction, day, 5)
        assert impact.sessions == 2
        service.change_group_size(restriction, pm, day, 5, confirmed_sessions=2)
        db.session.commit()
        db.session.refresh(ten), db.session.refresh(six)
        assert (ten.status, six.status) == (SessionStatus.POSTPONED, SessionStatus.POSTPONED)
        assert restriction.group_size_on(day) == 5 and restriction.group_size_on(today()) == 12

        assert service.preview_group_size(restriction, day + timedelta(days=1), 20).sessions == 0

    def test_a_change_before_today_or_after_the_lift_is_refused(self, pm):
        restriction = record(pm, country(8, from_day=today() - timedelta(days=20)))
        with pytest.raises(InvalidInput) as refused:
            service.preview_group_size(restriction, today() - timedelta(days=1), 10)
        assert "effective_from" in refused.value.errors
        lift(pm, restriction, today() + timedelta(days=10))
        with pytest.raises(InvalidInput):
            service.preview_group_size(restriction, today() + timedelta(days=10), 10)

    def test_a_lift_before_it_came_into_force_is_refused(self, pm):
        restriction = record(pm, country(8, from_day=today() + timedelta(days=3)))
        with pytest.raises(InvalidInput) as refused:
            service.lift_restriction(restriction, pm, today())
        assert "lifted_on" in refused.value.errors

    def test_a_lifted_restriction_cannot_be_lifted_again(self, pm):
        restriction = record(pm, country(8, from_day=today() - timedelta(days=3)))
        lift(pm, restriction)
        with pytest.raises(DomainError):
            service.lift_restriction(restriction, pm, today())


    def test_a_lift_after_the_programme_period_is_refused(self, pm, programme):
        restriction = record(pm, country(8))
        with pytest.raises(InvalidInput) as refused:
            service.lift_restriction(restriction, pm, programme.period_end + timedelta(days=1))
        assert "programperioden" in refused.value.errors["lifted_on"]

    def test_a_lift_moved_to_another_day_proposes_again_from_it(self, make, pm, provider_user, programme):
        """A lift typed too late finds no room; the day corrected, the sessions get dates from the new one."""
        session = in_person(make, provider_user.provider, days_ahead=4, booked=12)
        restriction = record(pm, country(8))
        assert lift(pm, restriction, programme.period_end - timedelta(days=2)).unplaceable == 1
        assert proposal_of(session).status == ProposalStatus.UNPLACEABLE

        report = lift(pm, restriction, today())

        assert (report.proposed, report.unplaceable) == (1, 0)
        assert proposal_of(session).status == ProposalStatus.PROPOSED
        assert proposal_of(session).earliest_day == today() + timedelta(days=14)


class TestProposals:
    def test_lifting_proposes_the_earliest_working_day_after_the_notice_at_the_same_time(self, make, pm, provider_user):
        session = in_person(make, provider_user.provider, days_ahead=4, booked=12, days=(0, 1, 7))
        old = [(local(m.starts_at).time(), local(m.ends_at).time()) for m in session.meetings]
        restriction = record(pm, country(8))

        report = lift(pm, restriction)

        assert report.proposed == 1
        proposal = proposal_of(session)
        assert proposal.status == ProposalStatus.PROPOSED and proposal.earliest_day == today() + timedelta(days=14)
        days = [local(m.starts_at).date() for m in proposal.meetings]
        assert days[0] >= today() + timedelta(days=14) and all(is_working_day(d) for d in days)
        assert [(d - days[0]).days for d in days] == [0, 1, 7]
        assert [(local(m.starts_at).time(), local(m.ends_at).time()) for m in proposal.meetings] == old
        # the earliest such start: no earlier day fits the pattern
        day = today() + timedelta(days=14)
        while not all(is_working_day(day + timedelta(days=n)) for n in (0, 1, 7)):
            day += timedelta(days=1)
        assert days[0] == day
        db.session.refresh(session)
        assert session.status == SessionStatus.POSTPONED  # until the provider confirms
        told = db.session.scalars(select(Notification).where(Notification.kind == "session.dates_proposed")).all()
        assert [n.user_id for n in told] == [provider_user.id]

    def test_a_session_planned_after_the_lift_and_notice_keeps_its_dates(self, make, pm, provider_user):
        session = in_person(make, provider_user.provider, booked=12, days_ahead=60, days=(0, 1))
        planned = [(m.starts_at, m.ends_at) for m in session.meetings]
        restriction = record(pm, country(8))
        lift(pm, restriction)
        assert [(m.starts_at, m.ends_at) for m in proposal_of(session).meetings] == planned

    def test_running_the_job_again_changes_nothing(self, make, pm, provider_user):
        in_person(make, provider_user.provider, days_ahead=4, booked=12)
        in_person(make, provider_user.provider, days_ahead=4, booked=10, venue="Sal 2")
        restriction = record(pm, country(8))
        lift(pm, restriction)
        before = db.session.execute(select(RescheduleProposal.id, RescheduleProposal.status)).all()
        notes = db.session.scalar(select(func.count(Notification.id)))

        again = rescheduling.reschedule()

        assert again.as_dict() == {"proposed": 0, "confirmed": 0, "unplaceable": 0, "waiting": 0, "busy": 0}
        assert db.session.execute(select(RescheduleProposal.id, RescheduleProposal.status)).all() == before
        assert db.session.scalar(select(func.count(Notification.id))) == notes

    def test_a_run_asks_for_each_providers_users_once_and_tells_every_one_of_them(self, make, pm, provider_user):
        colleague = make.user(Role.PROVIDER, provider=provider_user.provider)
        for venue in ("Sal 1", "Sal 2", "Sal 3"):
            in_person(make, provider_user.provider, days_ahead=4, booked=10, venue=venue)
        restriction = record(pm, country(8))
        service.lift_restriction(restriction, pm, today())
        db.session.commit()
        with count_queries() as statements:
            report = rescheduling.reschedule(restriction_id=restriction.id)
        assert report.proposed == 3
        assert sum("FROM users" in statement for statement in statements) == 1
        told = db.session.execute(select(Notification.user_id, func.count()).where(
            Notification.kind == "session.dates_proposed").group_by(Notification.user_id)).all()
        assert dict(told) == {provider_user.id: 3, colleague.id: 3}
        addressed = db.session.scalars(select(OutboxEmail.to_address).join(Notification).where(
            Notification.kind == "session.dates_proposed")).all()
        assert sorted(addressed) == sorted([provider_user.email, colleague.email] * 3)

    @pytest.mark.postgres
    def test_only_the_jobs_own_transactions_skip_waiting_for_the_disk(self, make, pm, provider_user, monkeypatch):
        in_person(make, provider_user.provider, days_ahead=4, booked=12)
        restriction = record(pm, country(8))
        seen = []
        propose = rescheduling.propose
        monkeypatch.setattr(rescheduling, "propose", lambda *args: (
            seen.append(db.session.scalar(text("SHOW synchronous_commit"))), propose(*args))[1])

        assert lift(pm, restriction).proposed == 1

        assert seen == ["off"]
        assert db.session.scalar(text("SHOW synchronous_commit")) == "on"  # a booking after it waits as ever

    def test_nothing_is_proposed_while_the_restriction_has_no_end(self, make, pm, provider_user):
        session = in_person(make, provider_user.provider, days_ahead=4, booked=12)
        record(pm, country(8))
        report = rescheduling.reschedule()
        assert report.waiting == 1 and proposal_of(session) is None

    def test_another_restriction_in_force_over_its_place_holds_it(self, make, pm, provider_user):
        session = in_person(make, provider_user.provider, days_ahead=4, booked=12)
        first = record(pm, country(8))
        record(pm, RestrictionData(scope=RestrictionScope.MUNICIPALITIES, region_ids=[],
                                   municipality_ids=[make.municipality("Västerås").id], in_force_from=today(),
                                   max_group_size=10, description="Västerås: högst 10"))
        assert lift(pm, first).waiting == 1 and proposal_of(session) is None

    def test_easing_enough_proposes_from_the_easing_day(self, make, pm, provider_user):
        session = in_person(make, provider_user.provider, days_ahead=4, booked=12)
        restriction = record(pm, country(8))
        easing = today() + timedelta(days=6)
        service.change_group_size(restriction, pm, easing, 20, confirmed_sessions=0)
        db.session.commit()
        assert rescheduling.reschedule().proposed == 1
        assert proposal_of(session).earliest_day == easing + timedelta(days=14)

    def test_the_providers_venue_is_never_taken_twice(self, make, pm, provider_user):
        provider = provider_user.provider
        sessions = [in_person(make, provider, booked=12, days_ahead=4 + n) for n in range(3)]
        restriction = record(pm, country(8))
        lift(pm, restriction)
        spans = sorted((m.starts_at, m.ends_at) for s in sessions for m in proposal_of(s).meetings)
        assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:]))

    @pytest.mark.parametrize("batch", [1, rescheduling.BATCH])
    def test_people_booked_on_two_postponed_sessions_are_kept_apart_in_one_batch_as_in_two(
            self, make, pm, provider_user, monkeypatch, batch):
        monkeypatch.setattr(rescheduling, "BATCH", batch)
        first = in_person(make, provider_user.provider, days_ahead=4, booked=12)
        second = in_person(make, make.provider(), days_ahead=4, booked=10, place="Karlstad")
        for booking in db.session.scalars(select(Booking).where(Booking.session_id == first.id).limit(4)):
            make.booking(second, booking.employee)  # four people on both, at the same time
        restriction = record(pm, country(8))

        assert lift(pm, restriction).proposed == 2

        one, other = proposal_of(first), proposal_of(second)
        assert one.clash_count == other.clash_count == 0
        assert local(one.meetings[0].starts_at).date() == working_day_from(today() + timedelta(days=14))
        assert local(other.meetings[0].starts_at).date() == working_day_from(
            local(one.meetings[0].starts_at).date() + timedelta(days=1))

    def test_a_run_takes_the_same_statements_for_six_sessions_as_for_three(self, make, pm, provider_user):
        """What else is on is read once for a batch, and its rows are written together (on SQLite the
        ORM writes rows that return their ids one by one, so there only the reads are counted)."""
        counted = []
        for sessions in (3, 6):
            for n in range(sessions):
                in_person(make, provider_user.provider, days_ahead=4, booked=10, venue=f"Sal {n}")
            restriction = record(pm, country(8))
            service.lift_restriction(restriction, pm, today())
            db.session.commit()
            with count_queries() as statements:
                assert rescheduling.reschedule(restriction_id=restriction.id).proposed == sessions
            counted.append([s for s in statements if ON_POSTGRES or not s.startswith("INSERT")])
        assert len(counted[0]) == len(counted[1]) <= 17

    @pytest.mark.postgres
    def test_a_session_another_transaction_holds_is_left_for_the_next_run_and_the_rest_proposed(
            self, make, pm, provider_user):
        held, free = (in_person(make, provider_user.provider, days_ahead=4, booked=12, venue=venue)
                      for venue in ("Sal 1", "Sal 2"))
        restriction = record(pm, country(8))
        service.lift_restriction(restriction, pm, today())
        db.session.commit()
        with db.engine.connect() as other:
            other.execute(select(Session.id).where(Session.id == held.id).with_for_update())

            report = rescheduling.reschedule(restriction_id=restriction.id)

            assert (report.proposed, report.busy) == (1, 1)
            assert proposal_of(held) is None and proposal_of(free).status == ProposalStatus.PROPOSED
            other.rollback()
        assert rescheduling.reschedule(restriction_id=restriction.id).as_dict() == {
            "proposed": 1, "confirmed": 0, "unplaceable": 0, "waiting": 0, "busy": 0}
        assert proposal_of(held).status == ProposalStatus.PROPOSED

    @pytest.mark.postgres
    @pytest.mark.parametrize("auto_confirm", [False, True])
    def test_two_runs_at_once_never_give_one_venue_to_two_sessions(self, app, make, pm, provider_user, monkeypatch,
                                                                    auto_confirm):
        """The nightly run is placing a batch when a lift runs another: the second waits for the provider's
        venues, so it sees the first's dates (it took the same room at the same time before)."""
        monkeypatch.setattr(rescheduling, "BATCH", 1)  # each session a batch of its own, as in a run of 51+
        db.session.scalars(select(Programme)).one().auto_confirm_reschedule = auto_confirm
        db.session.commit()
        first, second = (in_person(make, provider_user.provider, days_ahead=4, booked=12) for _ in range(2))
        restriction = record(pm, country(8))
        service.lift_restriction(restriction, pm, today())
        db.session.commit()
        placing, find_slot = threading.Event(), rescheduling.find_slot

        def slow_find_slot(*args, **kwargs):
            slot = find_slot(*args, **kwargs)
            if threading.current_thread().name == "nightly" and not placing.is_set():
                placing.set()
                time_module.sleep(1)  # a batch of 50 takes about this long, well within the lock wait
            return slot

        monkeypatch.setattr(rescheduling, "find_slot", slow_find_slot)

        def nightly():
            with app.app_context():
                rescheduling.reschedule(restriction_id=restriction.id)
                db.session.remove()

        job = threading.Thread(target=nightly, name="nightly")
        job.start()
        assert placing.wait(20)
        rescheduling.reschedule(restriction_id=restriction.id)
        job.join(30)
        db.session.expire_all()
        spans = [[(m.starts_at, m.ends_at) for m in proposal_of(s).meetings] for s in (first, second)]
        assert all(spans) and spans[0] != spans[1]

    def test_a_session_that_fails_is_tried_alone_and_the_rest_of_its_batch_proposed(self, make, pm, provider_user,
                                                                                     monkeypatch):
        sessions = [in_person(make, provider_user.provider, days_ahead=4, booked=12, venue=f"Sal {n}") for n in (1, 2, 3)]
        restriction = record(pm, country(8))
        service.lift_restriction(restriction, pm, today())
        db.session.commit()
        failing, fill = sessions[1].id, rescheduling._fill

        def fill_or_fail(proposal, session, slot):
            if session.id == failing:
                raise IntegrityError("INSERT …", {}, Exception("a row that breaks a constraint"))
            return fill(proposal, session, slot)

        monkeypatch.setattr(rescheduling, "_fill", fill_or_fail)
        report = rescheduling.reschedule(restriction_id=restriction.id)

        assert (report.proposed, report.busy) == (2, 1)
        assert [proposal_of(s) is not None for s in sessions] == [True, False, True]
        monkeypatch.setattr(rescheduling, "_fill", fill)
        assert rescheduling.reschedule(restriction_id=restriction.id).proposed == 1  # the next run takes it

    def test_a_course_title_of_the_longest_length_still_fits_every_message(self, make, pm, provider_user):
        """200 characters is what the course form takes; 'New dates proposed: ' and the like come on top."""
        session = in_person(make, provider_user.provider, days_ahead=4, booked=12)
        session.course.title = "Avancerad CNC-bearbetning " + "x" * 174
        db.session.commit()
        restriction = record(pm, country(8))  # postpones it: everyone booked and their HR are told
        assert lift(pm, restriction).proposed == 1  # and the provider is told of the new dates
        titles = db.session.scalars(select(Notification.title)).all()
        subjects = db.session.scalars(select(OutboxEmail.subject)).all()
        assert titles and all(len(t) <= 200 for t in titles) and all(len(s) <= 300 for s in subjects)
        assert any(t.startswith("Nya datum föreslagna: Avancerad CNC-bearbetning") and t.endswith("…") for t in titles)

    def test_the_slot_with_fewest_clashes_is_chosen_among_the_earliest(self, make, pm, provider_user):
        session = in_person(make, provider_user.provider, days_ahead=4, booked=12)
        restriction = record(pm, country(8))
        first = working_day_from(today() + timedelta(days=14))
        # Four of its employees are booked elsewhere on the first possible day.
        busy_day = in_person(make, make.provider(), booked=0, days_ahead=(first - today()).days, place="Karlstad")
        for booking in db.session.scalars(select(Booking).where(Booking.session_id == session.id).limit(4)):
            make.booking(busy_day, booking.employee)

        lift(pm, restriction)

        proposal = proposal_of(session)
        assert local(proposal.meetings[0].starts_at).date() == working_day_from(first + timedelta(days=1))
        assert proposal.clash_count == 0

    def test_no_room_before_the_period_ends_is_flagged_to_pm_and_provider(self, make, pm, provider_user, programme):
        # Meetings a week apart fit in no two days, whichever weekdays those are
        session = in_person(make, provider_user.provider, days_ahead=4, booked=12, days=(0, 7))
        restriction = record(pm, country(8))
        programme.period_end = today() + timedelta(days=15)
        db.session.commit()

        report = lift(pm, restriction)

        assert report.unplaceable == 1
        assert proposal_of(session).status == ProposalStatus.UNPLACEABLE and not proposal_of(session).meetings
        told = db.session.scalars(select(Notification.user_id).where(Notification.kind == "session.unplaceable")).all()
        assert sorted(told) == sorted([pm.id, provider_user.id])
        assert rescheduling.reschedule().unplaceable == 0  # flagged once
        assert [row.session_id for row in service.unplaceable_sessions()] == [session.id]

    def test_auto_confirm_opens_the_session_at_once(self, make, pm, provider_user, programme):
        programme.auto_confirm_reschedule = True
        db.session.commit()
        session = in_person(make, provider_user.provider, days_ahead=4, booked=12)
        restriction = record(pm, country(8))

        report = lift(pm, restriction)

        assert report.confirmed == 1
        db.session.refresh(session)
        assert session.status == SessionStatus.OPEN and session.postponed_by_id is None
        assert proposal_of(session).status == ProposalStatus.CONFIRMED
        assert local(session.meetings[0].starts_at).date() >= today() + timedelta(days=14)


class TestConfirming:
    @pytest.fixture
    def proposed(self, make, pm, provider_user):
        session = in_person(make, provider_user.provider, days_ahead=4, booked=12, days=(0, 2))
        session.capacity = 12  # full: the waitlist stays a waitlist
        waiting = make.booking(session, make.employee(), BookingStatus.WAITLISTED)
        restriction = record(pm, country(8))
        lift(pm, restriction)
        return session, proposal_of(session), waiting

    def test_confirming_opens_the_session_with_the_proposed_meetings_and_keeps_bookings(self, proposed, provider_user):
        session, proposal, waiting = proposed
        meeting_ids = [m.id for m in session.meetings]
        spans = [(m.starts_at, m.ends_at) for m in proposal.meetings]
        sequence = session.ical_sequence

        assert rescheduling.confirm_proposal(proposal, provider_user) is True
        db.session.commit()

        db.session.refresh(session)
        assert session.status == SessionStatus.OPEN and session.postponed_by_id is None and session.postponed_at is None
        assert [m.id for m in session.meetings] == meeting_ids  # moved in place: calendar events keep their ids
        assert [(m.starts_at, m.ends_at) for m in session.meetings] == spans
        assert session.ical_sequence == sequence + 1
        assert session.seats_taken == 12 and db.session.get(Booking, waiting.id).status == BookingStatus.WAITLISTED
        assert session.booking_deadline < spans[0][0] and session.cancellation_deadline > datetime.now(timezone.utc)
        assert proposal.status == ProposalStatus.CONFIRMED and proposal.decided_by_id == provider_user.id

    def test_everyone_is_told_the_new_dates_with_the_calendar_file(self, proposed, provider_user):
        session, proposal, _ = proposed
        rescheduling.confirm_proposal(proposal, provider_user)
        db.session.commit()
        told = db.session.scalars(select(Notification).where(Notification.kind == "session.dates_changed")).all()
        assert len(told) == 2 and all(n.user.role == Role.HR for n in told)
        mail = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.to_address == f"person{session.id}-0@example.se",
                                      OutboxEmail.attachment_type == "text/calendar").order_by(OutboxEmail.id.desc())
        ).first()
        assert f"SEQUENCE:{session.ical_sequence}" in mail.attachment_content
        assert proposal.meetings[0].starts_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ") in mail.attachment_content

    def test_employees_whose_new_dates_clash_are_flagged_to_their_hr(self, make, pm, provider_user):
        session = in_person(make, provider_user.provider, days_ahead=4, booked=12)
        restriction = record(pm, country(8))
        lift(pm, restriction)
        proposal = proposal_of(session)
        booking = db.session.scalars(select(Booking).where(Booking.session_id == session.id).limit(1)).one()
        # Booked meanwhile on another session at the proposed time.
        day = local(proposal.meetings[0].starts_at).date()
        other = in_person(make, make.provider(), booked=0, days_ahead=(day - today()).days, place="Karlstad")
        make.booking(other, booking.employee)

        rescheduling.confirm_proposal(proposal, provider_user)
        db.session.commit()

        hr_note = db.session.scalars(
            select(Notification).where(Notification.kind == "session.dates_changed",
                                       Notification.user.has(company_id=booking.company_id))
        ).one()
        assert booking.employee.name in hr_note.body.split("\n\n")[-1]

    def test_another_provider_cannot_confirm(self, proposed, make):
        _, proposal, _ = proposed
        with pytest.raises(DomainError):
            rescheduling.confirm_proposal(proposal, make.user(Role.PROVIDER))

    def test_a_proposal_that_no_longer_holds_is_replaced_by_a_fresh_one(self, proposed, provider_user, make):
        session, proposal, _ = proposed
        first = proposal.meetings[0]
        # The venue was taken meanwhile by a new session of the same provider.
        course, västerås = make.course(provider_user.provider), make.municipality("Västerås")
        taken = Session(course=course, status=SessionStatus.OPEN, capacity=5,
                        booking_deadline=first.starts_at - timedelta(days=1),
                        cancellation_deadline=first.starts_at - timedelta(days=1))
        taken.meetings.append(Meeting(starts_at=first.starts_at, ends_at=first.ends_at, venue="Sal 1",
                                      municipality=västerås))
        db.session.add(taken)
        db.session.commit()

        assert rescheduling.confirm_proposal(proposal, provider_user) is False
        db.session.commit()

        assert proposal.status == ProposalStatus.REPLACED
        fresh = proposal_of(session)
        assert fresh.id != proposal.id and fresh.status == ProposalStatus.PROPOSED
        assert fresh.meetings[0].starts_at != first.starts_at

    def test_dates_the_provider_picks_replace_the_proposal(self, proposed, provider_user):
        from portal.services import catalogue
        from portal.services.catalogue import meetings_as_data

        session, proposal, _ = proposed
        data = meetings_as_data(session.meetings)
        day = local(proposal.meetings[0].starts_at).date() + timedelta(days=7)
        day = working_day_from(day)
        while not is_working_day(day + timedelta(days=2)):
            day = working_day_from(day + timedelta(days=1))
        for meeting, offset in zip(data, (0, 2)):
            meeting.starts_at = at(day + timedelta(days=offset))
            meeting.ends_at = meeting.starts_at + timedelta(hours=6)
        catalogue.change_session_dates(session, provider_user, data, session.booking_deadline,
                                       session.cancellation_deadline, confirmed_clashes=None)
        db.session.commit()
        assert session.status == SessionStatus.OPEN and proposal_of(session).status == ProposalStatus.REPLACED

    def test_picking_the_proposed_dates_themselves_is_not_a_venue_taken_by_the_proposal(self, proposed, provider_user):
        from portal.services import catalogue
        from portal.services.catalogue import meetings_as_data

        session, proposal, _ = proposed
        data = meetings_as_data(session.meetings)
        for meeting, proposed_meeting in zip(data, proposal.meetings):
            meeting.starts_at, meeting.ends_at = proposed_meeting.starts_at, proposed_meeting.ends_at
        catalogue.change_session_dates(session, provider_user, data, session.booking_deadline,
                                       session.cancellation_deadline, confirmed_clashes=None)
        db.session.commit()
        assert session.status == SessionStatus.OPEN

    def test_picked_dates_when_another_of_the_providers_sessions_uses_the_venue_are_refused(
            self, proposed, provider_user, make):
        from portal.services import catalogue
        from portal.services.catalogue import meetings_as_data

        session, proposal, _ = proposed
        other = in_person(make, provider_user.provider, days_ahead=60, booked=2)  # Sal 1 in Västerås too
        data = meetings_as_data(session.meetings)
        data[0].starts_at, data[0].ends_at = other.meetings[0].starts_at, other.meetings[0].ends_at
        data[1].starts_at = working_day_from(local(other.meetings[0].starts_at).date() + timedelta(days=2))
        data[1].starts_at = at(data[1].starts_at)
        data[1].ends_at = data[1].starts_at + timedelta(hours=6)
        with pytest.raises(InvalidInput) as refused, force_locale("en"):
            catalogue.change_session_dates(session, provider_user, data, session.booking_deadline,
                                           session.cancellation_deadline, confirmed_clashes=None)
        assert refused.value.errors == {"meetings-0-starts_at": "Another of your sessions uses this venue then."}

    def test_picked_dates_inside_the_notice_or_on_a_holiday_are_refused(self, proposed, provider_user):
        from portal.services import catalogue
        from portal.services.catalogue import meetings_as_data

        session, _, _ = proposed
        data = meetings_as_data(session.meetings)
        soon = working_day_from(today() + timedelta(days=3))
        for meeting, offset in zip(data, (0, 2)):
            # at 10, not the session's 08: on some weekdays `soon` is the day its meetings already are, and a
            # meeting that does not move is not checked
            meeting.starts_at = at(soon + timedelta(days=offset), hour=10)
            meeting.ends_at = meeting.starts_at + timedelta(hours=6)
        deadline = at(today() + timedelta(days=1))  # still ahead: only the dates are wrong
        with pytest.raises(InvalidInput) as refused, force_locale("en"):
            catalogue.change_session_dates(session, provider_user, data, deadline, deadline)
        assert "notice" in refused.value.errors["meetings-0-starts_at"]
        christmas = date(today().year + 1, 12, 25)
        for meeting, day in zip(data, (christmas, working_day_from(christmas + timedelta(days=1)))):
            meeting.starts_at = at(day)
            meeting.ends_at = meeting.starts_at + timedelta(hours=6)
        db.session.rollback()
        deadline = at(today() + timedelta(days=30))
        with pytest.raises(InvalidInput) as refused, force_locale("en"):
            catalogue.change_session_dates(session, provider_user, data, deadline, deadline)
        assert "holiday" in refused.value.errors["meetings-0-starts_at"]

    def test_cancelling_the_session_settles_the_proposal(self, proposed, provider_user):
        from portal.services import catalogue

        session, proposal, _ = proposed
        catalogue.cancel_session(session, provider_user, "")
        db.session.commit()
        db.session.refresh(proposal)
        assert proposal.status == ProposalStatus.REPLACED


def test_postponing_and_proposing_are_audited(make, pm, provider_user):
    session = in_person(make, provider_user.provider, booked=12, days_ahead=4)
    restriction = record(pm, country(8))
    lift(pm, restriction)
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id.in_([session.id, restriction.id])).order_by(AuditEvent.id)
    ).all()
    assert ["restriction.recorded", "session.postponed", "restriction.lifted", "session.dates_proposed"] == [
        a for a in actions if a.startswith(("restriction.", "session."))
    ]


def test_a_second_click_on_record_saves_nothing_more(make, pm, provider_user):
    """No session to postpone, so both clicks carry the same (zero) count: the second is refused."""
    data = country(8)
    record(pm, data)
    with pytest.raises(DomainError):
        service.record_restriction(pm, data, confirmed_sessions=0)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Restriction.id))) == 1
    record(pm, country(8, description="Ett annat beslut"))  # a different restriction is fine


class TestSeatsUnderARestriction:
    """A restriction in force limits the seats of in-person sessions it covers, not only the ones it postpones."""

    def meetings(self, make, days_ahead: int = 30, online: bool = False) -> list[MeetingData]:
        starts = at(working_day_from(today() + timedelta(days=days_ahead)))
        place = {"online_url": "https://meet.example/kurs"} if online else {
            "venue": "Verkstaden", "municipality_id": make.municipality("Västerås").id}
        return [MeetingData(starts_at=starts, ends_at=starts + timedelta(hours=6), **place)]

    def session_data(self, make, capacity: int, **meetings) -> SessionData:
        found = self.meetings(make, **meetings)
        first = found[0].starts_at
        return SessionData(capacity=capacity, booking_deadline=first - timedelta(days=7),
                           cancellation_deadline=first - timedelta(days=3), meetings=found)

    def test_a_session_is_published_with_no_more_seats_than_the_restriction_lets_meet(self, make, pm, provider_user):
        course = make.course(provider_user.provider)
        record(pm, country(6))
        with pytest.raises(InvalidInput) as refused:
            catalogue.create_session(course, provider_user, self.session_data(make, 12), publish=True)
        assert "högst 6" in refused.value.errors["capacity"]
        db.session.rollback()
        assert catalogue.create_session(course, provider_user, self.session_data(make, 6), publish=True).capacity == 6
        online = make.course(provider_user.provider, format=CourseFormat.DIGITAL)
        assert catalogue.create_session(online, provider_user, self.session_data(make, 12, online=True), publish=True)

    def test_no_in_person_meeting_at_all_is_refused_on_the_meeting(self, make, pm, provider_user):
        record(pm, country(None, description="Inga fysiska träffar"))
        with pytest.raises(InvalidInput) as refused:
            catalogue.create_session(make.course(provider_user.provider), provider_user, self.session_data(make, 4),
                                     publish=True)
        assert list(refused.value.errors) == ["meetings-0-starts_at"]

    def test_seats_beyond_the_restriction_are_refused_with_the_reason(self, make, pm, provider_user):
        session = in_person(make, provider_user.provider, days_ahead=30, booked=5)
        record(pm, country(6))  # five booked: it may still meet, with one more
        hr = make.user(Role.HR)
        wanted = [make.employee(hr.company).id for _ in range(3)]

        outcomes = book_employees(session.id, wanted, hr).outcomes

        assert [o.result for o in outcomes] == ["booked", "refused", "refused"]
        assert "högst 6" in outcomes[1].reason
        assert db.session.get(Session, session.id).seats_taken == 6

    def test_a_freed_seat_goes_to_the_line_only_within_the_restriction(self, make, pm, provider_user):
        session = in_person(make, provider_user.provider, days_ahead=30, booked=7)
        record(pm, country(6))  # seven booked: postponed, as before
        assert db.session.get(Session, session.id).status == SessionStatus.POSTPONED
        open_one = in_person(make, provider_user.provider, days_ahead=30, booked=6)
        line = [make.booking(open_one, make.employee(), BookingStatus.WAITLISTED) for _ in range(2)]
        db.session.commit()
        leaving = db.session.scalars(select(Booking).where(Booking.session_id == open_one.id,
                                                           Booking.status == BookingStatus.BOOKED)).first()
        promoted = cancel_booking(leaving, pm)
        db.session.commit()
        assert [b.id for b in promoted] == [line[0].id]  # the seat freed under the limit, and no more
        assert db.session.get(Session, open_one.id).seats_taken == 6
        assert db.session.get(Booking, line[1].id).status == BookingStatus.WAITLISTED

    def test_a_session_the_provider_postponed_is_held_to_the_restriction_too(self, make, pm, provider_user):
        session = in_person(make, provider_user.provider, days_ahead=30, booked=4)
        catalogue.postpone_session(session, provider_user, "Läraren är sjuk")
        db.session.commit()
        record(pm, country(6))
        more_seats = dataclasses.replace(catalogue._settings_of(session), capacity=12)
        with pytest.raises(InvalidInput) as refused:
            catalogue.update_session(session, provider_user, more_seats)
        assert "högst 6" in refused.value.errors["capacity"]
