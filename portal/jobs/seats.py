"""The seat-cap job: when a session's per-company cap is released, free seats go to the waitlist."""
import logging

from flask import Flask

from portal.extensions import db
from portal.services.booking import release_seat_caps

log = logging.getLogger(__name__)


def release_caps(app: Flask) -> None:
    with app.app_context():
        promoted = release_seat_caps()
        db.session.commit()
    log.log(logging.INFO if promoted else logging.DEBUG, "Seat caps: %d promoted from waitlists", promoted)
