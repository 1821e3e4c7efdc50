"""The scheduler process (`flask --app wsgi portal scheduler`): every scheduled job, in one list."""
import logging
import signal
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from portal.jobs.outbox import send_outbox
from portal.jobs.seats import release_caps

log = logging.getLogger(__name__)

# Every job: a function taking the app, and when it runs (APScheduler add_job arguments).
JOBS = [
    (send_outbox, {"trigger": "interval", "seconds": 30}),
    (release_caps, {"trigger": "interval", "minutes": 5}),
]
# A run never overlaps the previous one, and runs missed while busy or asleep collapse into one.
EVERY_JOB = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}


def build_scheduler(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=ZoneInfo(app.config["PROGRAMME_TIMEZONE"]))
    for function, when in JOBS:
        scheduler.add_job(function, args=(app,), id=function.__name__, **(EVERY_JOB | when))
    return scheduler


def run_scheduler(app: Flask) -> None:
    """Run the jobs until stopped by Ctrl-C or SIGTERM, letting a running job finish first."""
    scheduler = build_scheduler(app)
    for job in scheduler.get_jobs():
        log.info("Scheduled %s: %s", job.id, job.trigger)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # systemd and docker stop with SIGTERM
    try:
        scheduler.start()
    except KeyboardInterrupt:
        scheduler.shutdown()
