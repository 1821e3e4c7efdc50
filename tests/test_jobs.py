"""The scheduler's jobs: reminders, rescheduling, the totals' compaction, their recorded runs, catching up
after downtime, and two schedulers at once doing each thing once."""
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from portal.extensions import db
from portal.jobs.rescheduling import reschedule_postponed
from portal.jobs.scheduler import JOBS, build_scheduler, catch_up
from portal.jobs.totals import compact_totals
from portal.models import (
    BookingStatus, HoursTotal, JobRun, MeetingReminder, Notification, OutboxEmail, ProposalStatus, RescheduleProposal,
    Role, RunOutcome, SessionStatus,
)
from portal.services import rescheduling
from portal.services.job_runs import last_runs, run_recorded
from portal.services.reminders import send_reminders
from tests.test_restrictions import country, in_person, lift, pm, programme, provider_user, record  # noqa: F401
from tests.test_tallies import log_rows, verified

NOW = datetime.now(timezone.utc).replace(microsecond=0)


class TestReminders:
    @pytest.fixture
    def soon(self, make, provider_user):
        session = make.session(make.course(provider_user.provider), starts_at=NOW + timedelta(days=1, hours=2))
        hr = make.user(Role.HR)
        with_mail = make.booking(session, make.employee(hr.company, email="anna@verkstad.example"))
        make.booking(session, make.employee(hr.company, email=None))
        make.booking(session, make.employee(hr.company, email="kö@verkstad.example"), BookingStatus.WAITLISTED)
        return session, hr, with_mail

    def test_hr_and_employees_with_an_address_are_reminded_once(self, soon):
        session, hr, booking = soon
        assert send_reminders(NOW, days_before=2) == 1
        assert send_reminders(NOW, days_before=2) == 0  # once each

        told = db.session.scalars(select(Notification).where(Notification.kind == "meeting.reminder")).all()
        assert [n.user_id for n in told] == [hr.id]
        assert booking.employee.name in told[0].body
        mailed = db.session.scalars(select(OutboxEmail.to_address)).all()
        assert "anna@verkstad.example" in mailed and "kö@verkstad.example" not in mailed  # the waitlist is not reminded

    def test_meetings_further_ahead_wait_their_turn(self, soon):
        assert send_reminders(NOW, days_before=1) == 0
        assert send_reminders(NOW + timedelta(hours=3), days_before=1) == 1

    @pytest.mark.parametrize("status", [SessionStatus.POSTPONED, SessionStatus.CANCELLED, SessionStatus.PLANNED])
    def test_never_for_postponed_cancelled_or_unpublished_sessions(self, soon, status):
        session, _, _ = soon
        session.status = status
        db.session.commit()
        assert send_reminders(NOW, days_before=2) == 0
        assert db.session.scalar(select(func.count(MeetingReminder.id))) == 0

    def test_a_moved_meeting_is_reminded_again_at_its_new_time(self, soon):
        session, _, _ = soon
        send_reminders(NOW, days_before=2)
        session.meetings[0].starts_at += timedelta(hours=3)
        session.meetings[0].ends_at += timedelta(hours=3)
        db.session.commit()
        assert send_reminders(NOW, days_before=2) == 1


class TestRecordedRuns:
    def test_each_run_records_its_outcome_and_counts(self, ctx):
        run_recorded("example", lambda: {"sent": 3})
        run = last_runs(["example", "never"])
        assert run["example"].outcome == RunOutcome.OK and run["example"].counts == {"sent": 3}
        assert run["example"].finished_at is not None and run["never"] is None

    def test_a_failure_is_recorded_and_not_raised(self, ctx):
        def broken():
            raise RuntimeError("the database went away")

        run = run_recorded("example", broken)
        assert run.outcome == RunOutcome.FAILED and "the database went away" in run.message

    def test_the_rescheduling_job_records_its_counts(self, app, make, pm, provider_user):
        session = in_person(make, provider_user.provider, booked=12)
        restriction = record(pm, country(8))
        restriction.lifted_on = restriction.in_force_from
        db.session.commit()

        reschedule_postponed(app)

        run = db.session.scalars(select(JobRun).where(JobRun.job == "reschedule_postponed")).one()
        assert run.outcome == RunOutcome.OK and run.counts["proposed"] == 1
        assert db.session.scalars(select(RescheduleProposal.session_id)).all() == [session.id]


class TestTotals:
    def test_the_job_compacts_the_totals_every_ten_minutes_and_records_its_counts(self, app, make):
        person = make.employee()
        for month in (3, 4):  # two refreshes of the person's tallies: rows for the same keys twice
            verified(date(2026, month, 2), employee=person)
            db.session.commit()
        rows = log_rows()

        compact_totals(app)

        run = db.session.scalars(select(JobRun).where(JobRun.job == "compact_totals")).one()
        keys = db.session.execute(select(HoursTotal.dimension, HoursTotal.key)).all()
        assert run.outcome == RunOutcome.OK and run.counts == {"rows_before": rows, "rows_after": len(keys)}
        assert rows > len(keys) == len(set(keys))
        trigger = build_scheduler(app, BackgroundScheduler).get_job("compact_totals").trigger
        assert isinstance(trigger, IntervalTrigger) and trigger.interval == timedelta(minutes=10)


class TestScheduler:
    def test_every_job_is_scheduled_one_run_at_a_time(self, app):
        scheduler = build_scheduler(app, BackgroundScheduler)
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"send_outbox", "release_caps", "reschedule_postponed", "send_meeting_reminders",
                             "purge_attendance", "compact_totals"}
        assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())
        daily = jobs["reschedule_postponed"].trigger
        assert isinstance(daily, CronTrigger) and str(daily.fields[5]) == "5" and str(daily.fields[6]) == "30"

    def test_the_rescheduling_time_is_configurable(self, app, monkeypatch):
        monkeypatch.setitem(app.config, "PORTAL_RESCHEDULE_AT", "02:15")
        trigger = build_scheduler(app, BackgroundScheduler).get_job("reschedule_postponed").trigger
        assert (str(trigger.fields[5]), str(trigger.fields[6])) == ("2", "15")

    def test_runs_missed_while_down_are_caught_up_once(self, app, ctx):
        scheduler = build_scheduler(app, BackgroundScheduler)
        # Half past: well clear of the hourly job's minute, whenever the suite runs.
        now = NOW.replace(minute=30, second=0)
        # One daily job last ran three days ago; the others ran a minute ago.
        db.session.add_all([
            JobRun(job="reschedule_postponed", started_at=now - timedelta(days=3), outcome=RunOutcome.OK, counts={}),
            JobRun(job="send_meeting_reminders", started_at=now - timedelta(minutes=1), outcome=RunOutcome.OK, counts={}),
            JobRun(job="purge_attendance", started_at=now - timedelta(minutes=1), outcome=RunOutcome.OK, counts={}),
        ])
        db.session.commit()

        missed = catch_up(app, scheduler, now)

        assert missed == ["reschedule_postponed"]
        extra = [job for job in scheduler.get_jobs() if job.id.endswith(":catch-up")]
        assert [job.id for job in extra] == ["reschedule_postponed:catch-up"]  # one run, not three

    def test_a_job_never_run_is_caught_up(self, app, ctx):
        scheduler = build_scheduler(app, BackgroundScheduler)
        assert set(catch_up(app, scheduler, NOW)) == {"reschedule_postponed", "send_meeting_reminders",
                                                         "purge_attendance"}

    def test_every_job_can_run_once_from_the_command_line(self, app, ctx):
        runner = app.test_cli_runner()
        for job in JOBS:
            result = runner.invoke(args=["portal", "run-job", job.name])
            assert result.exit_code == 0, result.output
            assert result.output.startswith(f"{job.name}: ok")
        assert runner.invoke(args=["portal", "run-job", "nonsense"]).exit_code != 0


def twice_at_once(app, job) -> list:
    """Run the job in two threads (two schedulers) released at the same moment; their results."""
    start = threading.Barrier(2)
    results = []

    def run():
        with app.app_context():
            start.wait()
            results.append(job())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_two_schedulers_at_once_make_one_proposal_per_session(app, make, pm, provider_user):
    """Two processes running the rescheduling at the same moment: each session gets one proposal."""
    sessions = [in_person(make, provider_user.provider, booked=12, venue=f"Sal {n}") for n in range(6)]
    restriction = record(pm, country(8))
    restriction.lifted_on = restriction.in_force_from
    db.session.commit()

    reports = twice_at_once(app, rescheduling.reschedule)

    db.session.expire_all()
    counts = db.session.execute(
        select(RescheduleProposal.session_id, func.count()).where(RescheduleProposal.status == ProposalStatus.PROPOSED)
        .group_by(RescheduleProposal.session_id)
    ).all()
    assert sorted(counts) == sorted((s.id, 1) for s in sessions)
    assert len(reports) == 2 and sum(r.proposed for r in reports) == 6
    told = db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == "session.dates_proposed"))
    assert told == 6


def test_two_schedulers_at_once_send_each_reminder_once(app, make, provider_user):
    sessions = [make.session(make.course(provider_user.provider), starts_at=NOW + timedelta(hours=20 + n)) for n in range(5)]
    hr = make.user(Role.HR)
    for session in sessions:
        make.booking(session, make.employee(hr.company))

    sent = twice_at_once(app, lambda: send_reminders(NOW, days_before=2))

    assert len(sent) == 2 and sum(sent) == 5
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == "meeting.reminder")) == 5

