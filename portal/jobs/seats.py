"""The seat-cap job: when a session's per-company cap is released, free seats go to the waitlist."""
import logging

from flask import Flask
from sqlalchemy.exc import OperationalError

from portal.extensions import db
from portal.jobs import run_in
from portal.services.booking import release_seat_cap, sessions_with_released_caps

log = logging.getLogger(__name__)


def release_caps(app: Flask) -> None:
    run_in(app, "release_caps", _release)


def _release() -> dict[str, int]:
    promoted = busy = 0
    # One session at a time, each in its own transaction: a busy session does not undo the others.
    for session_id in sessions_with_released_caps():
        try:
            promoted += release_seat_cap(session_id)
            db.session.commit()
        except OperationalError:  # a booking holds the session: the next run tries again
            db.session.rollback()
            busy += 1
            log.warning("Seat caps: session %d busy, left for the next run", session_id)
    log.log(logging.INFO if promoted else logging.DEBUG, "Seat caps: %d promoted from waitlists", promoted)
    return {"promoted": promoted, "busy": busy}
