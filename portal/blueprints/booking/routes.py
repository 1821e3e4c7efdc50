"""HR books employees into sessions and follows and cancels bookings; the programme office too."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy.orm import joinedload

from portal.access import load_or_404
from portal.blueprints.auth.routes import safe_next
from portal.blueprints.booking.forms import BookForm
from portal.blueprints.catalogue.routes import plan_item_arg
from portal.blueprints.helpers import attempt
from portal.extensions import htmx
from portal.models import Booking, Role, Session
from portal.models.types import MAX_ID
from portal.security import gate_blueprint, role_required
from portal.services import booking as service
from portal.services import booking_views

bp = Blueprint("booking", __name__)
gate_blueprint(bp, Role.HR, Role.PM)


def _session(session_id: int) -> Session:
    return load_or_404(Session, session_id, current_user, options=service.AS_SHOWN)


@bp.route("/sessions/<int:session_id>/book", methods=["GET", "POST"])
@role_required(Role.HR)
def book(session_id: int):
    if not 0 < session_id <= MAX_ID:
        abort(404)
    plan_item = plan_item_arg()
    form = BookForm()
    text = request.values.get("q", "")[:100].replace("\x00", "")
    booked = None
    if form.validate_on_submit():
        # The people the page lists next are read first, so their clashes come in the booking's own look-up;
        # the service reads the session under its lock as the page shows it: kept for the page. Every
        # session is HR's to read; one that does not exist is a 404.
        listed = booking_views.roster(session_id, current_user.company_id, text)
        try:
            booked = attempt(lambda: service.book_employees(session_id, form.employee_ids.data, current_user, plan_item,
                                                            shown=listed.ids),
                             keep_loaded=True, passthrough=(service.NoSuchSession,))
        except service.NoSuchSession:
            abort(404)
        if booked is None:  # refused: the rollback forgot what was read
            plan_item = plan_item_arg()
    found = booked.session if booked else _session(session_id)
    outcomes = booked.outcomes if booked else None
    if booked:
        people, selected = listed.candidates(booked.clashes, booked.held), []
    else:
        selected = _selected_ids() or _named_in(plan_item)
        people = booking_views.candidates(found, current_user.company_id, text, selected)
    context = dict(session=found, form=form, people=people, selected=set(selected), text=text, outcomes=outcomes,
                   cap_active=service.company_seat_cap_active(found), plan_item=plan_item)
    if htmx and request.method == "GET" and not htmx.history_restore_request:
        return render_block("booking/book.html", "roster", **context)
    status = 422 if request.method == "POST" and outcomes is None else 200
    return render_template("booking/book.html", **context), status


def _named_in(plan_item) -> list[int]:
    """Coming from a plan item, its named employees are ticked to begin with."""
    first_look = request.method == "GET" and not htmx
    return [employee.id for employee in plan_item.employees] if plan_item and first_look else []


def _selected_ids() -> list[int]:
    return [int(v) for v in request.values.getlist("employee_ids") if v.isdigit() and 0 < int(v) <= MAX_ID]


@bp.route("/bookings")
def bookings():
    session_id = request.args.get("session", type=int)
    if session_id is not None and not 0 < session_id <= MAX_ID:
        abort(404)
    rows = booking_views.bookings_for(current_user, request.args.get("page", 1, type=int), session_id)
    return render_template("booking/bookings.html", page=rows, session_id=session_id)


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
def cancel(booking_id: int):
    found = load_or_404(Booking, booking_id, current_user, manage=True, options=[joinedload(Booking.employee)])
    name = found.employee.name
    promoted = attempt(lambda: service.cancel_booking(found, current_user), keep_loaded=True)
    if promoted is not None:
        flash(_("%(name)s's booking is cancelled.", name=name), "success")
        for booking in promoted:
            # Only one's own: another company's employee is not this HR's to know of.
            if current_user.role == Role.PM or booking.company_id == current_user.company_id:
                flash(_("%(name)s got the freed seat from the waitlist.", name=booking.employee.name), "success")
    return redirect(_back())


def _back() -> str:
    return safe_next(request.form.get("next")) or url_for(".bookings")
