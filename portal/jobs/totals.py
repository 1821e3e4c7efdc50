"""The totals job: collapse the programme's totals, appended to by every change of hours, to one row per key."""
import logging

from flask import Flask

from portal.extensions import db
from portal.jobs import run_in
from portal.services.tallies import compact

log = logging.getLogger(__name__)


def compact_totals(app: Flask) -> None:
    run_in(app, "compact_totals", _compact)


def _compact() -> dict[str, int]:
    before, after = compact(db.session.connection())
    db.session.commit()
    log.log(logging.INFO if before != after else logging.DEBUG, "Totals: %d rows collapsed to %d", before, after)
    return {"rows_before": before, "rows_after": after}
