"""The scheduler process (`flask --app wsgi portal scheduler`): every scheduled job, in one list."""
import logging
import signal
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from flask_babel import lazy_gettext as _l

from portal.jobs.outbox import send_outbox
from portal.jobs.reminders import send_meeting_reminders
from portal.jobs.rescheduling import reschedule_postponed
from portal.jobs.retention import purge_attendance
from portal.jobs.seats import release_caps
from portal.jobs.totals import compact_totals
from portal.services.job_runs import last_success_started

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    function: Callable[[Flask], None]
    label: str
    trigger: Callable[[Flask, ZoneInfo], BaseTrigger]

    @property
    def name(self) -> str:
        return self.function.__name__


def _daily_at(config_key: str):
    def trigger(app: Flask, zone: ZoneInfo) -> BaseTrigger:
        hour, _, minute = app.config[config_key].partition(":")
        return CronTrigger(hour=int(hour), minute=int(minute or 0), timezone=zone)

    return trigger


# Every job, and when it runs.
JOBS = [
    Job(send_outbox, _l("Send mail"), lambda app, zone: IntervalTrigger(minutes=1, timezone=zone)),
    Job(release_caps, _l("Release seat caps"), lambda app, zone: IntervalTrigger(minutes=5, timezone=zone)),
    Job(reschedule_postponed, _l("Reschedule postponed sessions"), _daily_at("PORTAL_RESCHEDULE_AT")),
    Job(send_meeting_reminders, _l("Meeting reminders"), lambda app, zone: CronTrigger(minute=5, timezone=zone)),
    Job(purge_attendance, _l("Purge old attendance registers"), _daily_at("PORTAL_PURGE_AT")),
    Job(compact_totals, _l("Compact the programme's totals"), lambda app, zone: IntervalTrigger(minutes=10, timezone=zone)),
]
JOBS_BY_NAME = {job.name: job for job in JOBS}
# A run never overlaps the previous one, and runs missed while busy collapse into one.
EVERY_JOB = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 15 * 60}


def build_scheduler(app: Flask, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    zone = ZoneInfo(app.config["PROGRAMME_TIMEZONE"])
    scheduler = scheduler_class(timezone=zone)
    for job in JOBS:
        scheduler.add_job(job.function, job.trigger(app, zone), args=(app,), id=job.name, **EVERY_JOB)
    return scheduler


def catch_up(app: Flask, scheduler: BaseScheduler, now: datetime | None = None) -> list[str]:
    """Daily and hourly runs missed while no scheduler ran (a deploy, a night's outage) run once
    at start, however many were missed."""
    now = now or datetime.now(timezone.utc)
    missed = []
    with app.app_context():
        for job in scheduler.get_jobs():
            if not isinstance(job.trigger, CronTrigger):
                continue  # interval jobs run again within minutes anyway
            last = last_success_started(job.id)
            due = job.trigger.get_next_fire_time(None, last) if last else None
            if last is None or (due is not None and due <= now):
                missed.append(job.id)
    for name in missed:
        scheduler.add_job(JOBS_BY_NAME[name].function, "date", run_date=now, args=(app,), id=f"{name}:catch-up",
                          **EVERY_JOB)
    return missed


def run_scheduler(app: Flask) -> None:
    """Run the jobs until stopped by Ctrl-C or SIGTERM, letting a running job finish first."""
    scheduler = build_scheduler(app)
    for job in scheduler.get_jobs():
        log.info("Scheduled %s: %s", job.id, job.trigger)
    for name in catch_up(app, scheduler):
        log.info("Catching up %s once: a run was missed while no scheduler ran", name)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # systemd and docker stop with SIGTERM
    try:
        scheduler.start()
    except KeyboardInterrupt:
        scheduler.shutdown()
