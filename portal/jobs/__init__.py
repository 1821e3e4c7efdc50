"""Scheduled jobs: thin functions that open an app context, call a service and record the run.

They run in one scheduler process only, never inside the web workers (`flask portal scheduler`);
`flask portal run-job NAME` runs one of them once.
"""
from collections.abc import Callable

from flask import Flask

from portal.models import JobRun
from portal.services.job_runs import run_recorded


def run_in(app: Flask, job: str, action: Callable[[], dict[str, int]]) -> JobRun:
    with app.app_context():
        return run_recorded(job, action)
