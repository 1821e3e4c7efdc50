"""The outbox job: send the mail that is due."""
import logging
import os
import socket
from dataclasses import asdict

from flask import Flask

from portal.jobs import run_in
from portal.services.mail import send_pending

log = logging.getLogger(__name__)


def send_outbox(app: Flask) -> None:
    def action() -> dict[str, int]:
        report = send_pending(f"{socket.gethostname()}:{os.getpid()}"[:100])
        busy = report.sent or report.retried or report.failed or report.reclaimed
        log.log(logging.INFO if busy else logging.DEBUG, "Outbox: %d sent, %d to retry, %d given up, %d reclaimed",
                report.sent, report.retried, report.failed, report.reclaimed)
        return asdict(report)

    run_in(app, "send_outbox", action)
