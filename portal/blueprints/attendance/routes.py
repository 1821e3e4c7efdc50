"""The provider's register: who attended a meeting of its session. Hours follow attendance."""
from flask import Blueprint, abort, flash, get_flashed_messages, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy.orm import joinedload

from portal.access import load_or_404
from portal.blueprints.attendance.forms import MarkForm
from portal.blueprints.helpers import attempt
from portal.extensions import htmx
from portal.models import Booking, Meeting, Role, Session
from portal.models.types import MAX_ID
from portal.security import gate_blueprint
from portal.services import attendance as service

bp = Blueprint("attendance", __name__, url_prefix="/provider")
gate_blueprint(bp, Role.PROVIDER)
bp.add_app_template_global(service.has_started, "meeting_started")


def _meeting(session_id: int, meeting_id: int) -> Meeting:
    """The meeting, looked up under its session: the provider's own, or 404. One statement."""
    meeting = load_or_404(Meeting, meeting_id, current_user, manage=True, options=[
        joinedload(Meeting.municipality), joinedload(Meeting.session).joinedload(Session.course),
    ])
    if meeting.session_id != session_id:
        abort(404)
    return meeting


def _page(meeting: Meeting, **extra) -> dict:
    return dict(meeting=meeting, session=meeting.session, rows=service.register(meeting),
                started=service.has_started(meeting), **extra)


@bp.route("/sessions/<int:session_id>/meetings/<int:meeting_id>/register")
def register(session_id: int, meeting_id: int):
    return render_template("attendance/register.html", **_page(_meeting(session_id, meeting_id)))


@bp.route("/sessions/<int:session_id>/meetings/<int:meeting_id>/register/<int:booking_id>", methods=["POST"])
def mark(session_id: int, meeting_id: int, booking_id: int):
    if not 0 < booking_id <= MAX_ID:
        abort(404)
    meeting = _meeting(session_id, meeting_id)
    form = MarkForm()
    if form.validate_on_submit():
        # The service reads the booking under the session's lock: one that is not the session's is a 404.
        try:
            attempt(lambda: service.mark(meeting, booking_id, form.status.data, current_user), keep_loaded=True,
                    passthrough=(service.NotOnSession,))
        except service.NotOnSession:
            abort(404)
    else:
        if load_or_404(Booking, booking_id, current_user).session_id != meeting.session_id:
            abort(404)
        flash(_("Mark the person as attended or absent."), "error")
    if not htmx:
        return redirect(url_for(".register", session_id=session_id, meeting_id=meeting_id))
    # htmx swaps the person's row alone; a refusal is told inside it rather than on the next page.
    rows = service.register(meeting, booking_id)
    if not rows:
        # No longer booked (cancelled meanwhile): the whole register is shown again, with the message.
        response = make_response("")
        response.headers["HX-Refresh"] = "true"
        return response
    return render_template("attendance/_row.html", row=rows[0], meeting=meeting, started=service.has_started(meeting),
                           problems=_messages("error"))


@bp.route("/sessions/<int:session_id>/meetings/<int:meeting_id>/register/all-present", methods=["POST"])
def all_present(session_id: int, meeting_id: int):
    meeting = _meeting(session_id, meeting_id)
    marked = attempt(lambda: service.mark_all_present(meeting, current_user))
    if marked is not None:
        flash(ngettext("%(num)s person is marked as attended.", "%(num)s people are marked as attended.",
                       len(marked)), "success")
    if not htmx:
        return redirect(url_for(".register", session_id=session_id, meeting_id=meeting_id))
    return render_block("attendance/register.html", "register", messages=_messages(), **_page(meeting))


def _messages(*categories: str) -> list:
    """Flashed messages taken now, for a fragment (a swapped fragment has no flash area of its own)."""
    return [(category, message) for category, message in get_flashed_messages(with_categories=True)
            if not categories or category in categories]
