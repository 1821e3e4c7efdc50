"""The outbox job: send the mail that is due."""
import logging
import os
import socket

from flask import Flask

from portal.services.mail import send_pending

log = logging.getLogger(__name__)


def send_outbox(app: Flask) -> None:
    with app.app_context():
        report = send_pending(f"{socket.gethostname()}:{os.getpid()}"[:100])
    busy = report.sent or report.retried or report.failed or report.reclaimed
    log.log(logging.INFO if busy else logging.DEBUG, "Outbox: %d sent, %d to retry, %d given up, %d reclaimed",
            report.sent, report.retried, report.failed, report.reclaimed)
