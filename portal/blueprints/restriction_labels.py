"""How restrictions, proposals and job runs read on the page."""
from flask_babel import gettext as _, lazy_gettext as _l

from portal.i18n import day as format_day
from portal.models import Restriction, RestrictionScope
from portal.services.placement import today

PROPOSAL_LABELS = {
    "proposed": _l("Proposed, waiting for the provider"),
    "unplaceable": _l("No room before the period ends"),
    "confirmed": _l("Confirmed"),
    "replaced": _l("Replaced"),
}
RUN_OUTCOME_LABELS = {"running": _l("Running"), "ok": _l("Succeeded"), "failed": _l("Failed")}
COUNT_LABELS = {
    "sent": _l("sent"), "retried": _l("to retry"), "failed": _l("given up"), "reclaimed": _l("reclaimed"),
    "promoted": _l("promoted from waitlists"), "busy": _l("busy, left for the next run"),
    "proposed": _l("proposed"), "confirmed": _l("confirmed"), "unplaceable": _l("without room"),
    "waiting": _l("still waiting"), "reminded": _l("meetings reminded"),
    "rows_before": _l("rows of totals before"), "rows_after": _l("after"),
}
NAMES_SHOWN = 5


def restriction_scope_text(restriction: Restriction) -> str:
    if restriction.scope == RestrictionScope.COUNTRY:
        return _("The whole country")
    places = restriction.regions if restriction.scope == RestrictionScope.REGIONS else restriction.municipalities
    names = [place.name for place in places]
    if len(names) > NAMES_SHOWN:
        return _("%(names)s and %(n)s more", names=", ".join(names[:NAMES_SHOWN]), n=len(names) - NAMES_SHOWN)
    return ", ".join(names)


def group_size_text(restriction: Restriction) -> str:
    day = today()
    if not restriction.in_force_on(day):
        if restriction.in_force_from <= day:
            return _("not in force")
        # Not yet in force: the group it will allow, and from when
        first = restriction.in_force_from
        return _("%(limit)s from %(day)s", limit=_group(restriction.group_size_on(first)), day=format_day(first))
    return _group(restriction.group_size_on(day))


def _group(size: int | None) -> str:
    return _("%(n)s people", n=size) if size else _("no in-person meetings")


def proposal_label(value) -> str:
    return str(PROPOSAL_LABELS.get(str(value), str(value)))


def run_outcome_label(value) -> str:
    return str(RUN_OUTCOME_LABELS.get(str(value), str(value)))


def job_counts_text(counts: dict) -> str:
    return ", ".join(f"{value} {COUNT_LABELS.get(key, key)}" for key, value in counts.items() if value) or _("nothing to do")


def init_restriction_labels(app) -> None:
    for function in (restriction_scope_text, group_size_text, proposal_label, run_outcome_label, job_counts_text, today):
        app.jinja_env.globals[function.__name__] = function
