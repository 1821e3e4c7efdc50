"""The rescheduling job: new dates for every session a restriction postponed that may now run."""
import logging

from flask import Flask

from portal.jobs import run_in
from portal.services.rescheduling import reschedule

log = logging.getLogger(__name__)


def reschedule_postponed(app: Flask) -> None:
    run_in(app, "reschedule_postponed", _reschedule)


def _reschedule() -> dict[str, int]:
    report = reschedule()
    log.info("Rescheduling: %d proposed, %d confirmed, %d unplaceable, %d waiting, %d busy",
             report.proposed, report.confirmed, report.unplaceable, report.waiting, report.busy)
    return report.as_dict()
