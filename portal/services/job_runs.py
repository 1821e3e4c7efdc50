"""Each scheduled job's runs: when, how it went and what it did, for pm to see."""
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, func, select

from portal.extensions import db
from portal.models import JobRun, RunOutcome
from portal.models.types import utcnow

log = logging.getLogger("portal.jobs")

KEEP_RUNS_FOR = timedelta(days=30)


def run_recorded(job: str, action: Callable[[], dict[str, int]]) -> JobRun:
    """Run the job's action and record its outcome and counts; a failure is recorded, not raised."""
    run = JobRun(job=job, started_at=utcnow(), outcome=RunOutcome.RUNNING, counts={}, message="")
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    try:
        counts = action()
    except Exception as error:  # noqa: BLE001 - the scheduler goes on; the failure is shown to pm
        db.session.rollback()
        log.exception("Job %s failed", job)
        outcome, counts, message = RunOutcome.FAILED, {}, f"{type(error).__name__}: {error}"[:1000]
    else:
        outcome, message = RunOutcome.OK, ""
    run = db.session.get(JobRun, run_id)
    run.outcome, run.counts, run.message, run.finished_at = outcome, counts, message, utcnow()
    db.session.execute(delete(JobRun).where(JobRun.job == job, JobRun.started_at < utcnow() - KEEP_RUNS_FOR))
    db.session.commit()
    return run


def last_runs(jobs: list[str]) -> dict[str, JobRun | None]:
    """Each job's latest run."""
    latest = (
        select(JobRun.job, func.max(JobRun.id).label("id")).where(JobRun.job.in_(jobs)).group_by(JobRun.job).subquery()
    )
    runs = {run.job: run for run in db.session.scalars(select(JobRun).join(latest, latest.c.id == JobRun.id))}
    return {job: runs.get(job) for job in jobs}


def last_success_started(job: str):
    return db.session.scalar(
        select(func.max(JobRun.started_at)).where(JobRun.job == job, JobRun.outcome == RunOutcome.OK)
    )
