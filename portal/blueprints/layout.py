"""What every page's layout needs: the programme's name, the role's navigation, labels."""
from functools import cached_property

from flask import Flask, g
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user

from portal.services.notifications import unread_count
from portal.services.overview import current_programme

NAVIGATION = {
    "hr": [
        ("main.index", _l("Overview")), ("roster.index", _l("Employees")), ("catalogue.index", _l("Catalogue")),
        ("booking.bookings", _l("Bookings")),
        ("plans.own_plan", _l("Training plan")), ("catalogue.calendar_page", _l("Calendar feed")),
        ("hours.index", _l("Hours")),
        ("reports.index", _l("Reports")),
    ],
    "provider": [
        ("main.index", _l("My sessions")), ("provider.courses", _l("My courses")), ("catalogue.index", _l("Catalogue")),
        ("plans.pooled_demand", _l("Pooled demand")),
    ],
    "pm": [
        ("main.index", _l("Programme overview")), ("catalogue.index", _l("Catalogue")), ("booking.bookings", _l("Bookings")),
        ("plans.all_plans", _l("Plans")), ("plans.pooled_demand", _l("Pooled demand")),
        ("hours.review", _l("Verify hours")),
        ("restrictions.index", _l("Restrictions")),
        ("reports.index", _l("Reports")),
        ("jobs.index", _l("Scheduled jobs")),
        ("users.index", _l("Accounts")),
        ("privacy.index", _l("Personal data")),
    ],
}

ROLE_LABELS = {"hr": _l("HR"), "provider": _l("Course provider"), "pm": _l("Programme office")}

STATUS_LABELS = {
    "planned": lazy_pgettext("status", "Planned"),
    "open": lazy_pgettext("status", "Open"),
    "postponed": lazy_pgettext("status", "Postponed"),
    "cancelled": lazy_pgettext("status", "Cancelled"),
    "completed": lazy_pgettext("status", "Completed"),
    "booked": lazy_pgettext("status", "Booked"),
    "waitlisted": lazy_pgettext("status", "Waitlisted"),
    "employed": lazy_pgettext("status", "Employed"),
    "furloughed": lazy_pgettext("status", "Furloughed"),
    "notice": lazy_pgettext("status", "Given notice"),
}


FORMAT_LABELS = {
    "in_person": _l("In person"),
    "digital": _l("Digital"),
    "hybrid": _l("Hybrid"),
}


LEVEL_LABELS = {
    "introductory": _l("Introductory"),
    "intermediate": _l("Intermediate"),
    "advanced": _l("Advanced"),
}


def level_label(value) -> str:
    return str(LEVEL_LABELS.get(str(value), str(value)))


def format_label(value) -> str:
    return str(FORMAT_LABELS.get(str(value), str(value)))


def status_label(value) -> str:
    return str(STATUS_LABELS.get(str(value), str(value)))


def role_name(value) -> str:
    return str(ROLE_LABELS.get(str(value), str(value)))


def init_layout(app: Flask) -> None:
    app.jinja_env.globals["role_name"] = role_name
    app.jinja_env.globals["status_label"] = status_label
    app.jinja_env.globals["format_label"] = format_label
    app.jinja_env.globals["level_label"] = level_label

    @app.context_processor
    def _layout():
        if "layout" not in g:
            g.layout = Layout()
        role = str(current_user.role) if current_user.is_authenticated else None
        return {"layout": g.layout, "nav_items": NAVIGATION.get(role, []), "role_label": ROLE_LABELS.get(role, "")}


class Layout:
    """What a full page shows around its content from the database, read once a template shows it:
    an htmx fragment costs no query for it."""

    @cached_property
    def _programme(self):
        return current_programme()

    @property
    def programme_name(self) -> str:
        return self._programme.name if self._programme else "Portal"

    @property
    def programme_funder(self) -> str:
        return self._programme.funder if self._programme else ""

    @cached_property
    def unread(self) -> int:
        """The signed-in user's unread notifications."""
        return unread_count(current_user) if current_user.is_authenticated else 0
