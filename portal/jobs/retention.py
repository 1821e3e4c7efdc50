"""The retention job: purge attendance registers older than the programme's retention setting."""
from flask import Flask

from portal.jobs import run_in
from portal.services.privacy import purge_expired_attendance


def purge_attendance(app: Flask) -> None:
    run_in(app, "purge_attendance", lambda: {"purged": purge_expired_attendance()})
