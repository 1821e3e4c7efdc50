"""Finding courses and sessions: search as you type, course pages, calendar files and feeds."""
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_blocks
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.utils import secure_filename

from portal.access import load_or_404
from portal.blueprints.catalogue.forms import CatalogueFilterForm
from portal.blueprints.helpers import attempt
from portal.extensions import htmx
from portal.models import Course, Meeting, PlanItem, Role, Session
from portal.security import role_required
from portal.services import calendar, search

bp = Blueprint("catalogue", __name__)


@bp.app_template_filter("language_name")
def language_name(code: str) -> str:
    """An ISO 639-1 code as the language's name in the reader's language: 'sv' -> 'svenska'."""
    return get_locale().languages.get(code, code)


def plan_item_arg() -> PlanItem | None:
    """The plan item HR came from ("find sessions"), carried along so a booking counts toward it."""
    item_id = request.values.get("plan_item", type=int)
    if item_id is None or current_user.role != Role.HR:
        return None
    return load_or_404(PlanItem, item_id, current_user, manage=True, options=[joinedload(PlanItem.competence_area)])


@bp.route("/catalogue/")
@login_required
def index():
    form = CatalogueFilterForm(formdata=request.args)
    form.fill_choices(search.filter_choices(str(get_locale())))
    form.validate()
    results = search.search_sessions(form.filters(), request.args.get("page", 1, type=int))
    if htmx and not htmx.history_restore_request:
        return render_blocks("catalogue/search.html", ["results", "result_count"], form=form, results=results,
                             plan_item=plan_item_arg())
    return render_template("catalogue/search.html", form=form, results=results, plan_item=plan_item_arg())


@bp.route("/catalogue/courses/<int:course_id>")
@login_required
def course(course_id: int):
    found = load_or_404(Course, course_id, current_user, options=search.course_options())
    company_id = current_user.company_id if current_user.role == Role.HR else None
    sessions = search.course_sessions(found, company_id)
    return render_template("catalogue/course.html", course=found, sessions=sessions, plan_item=plan_item_arg())


@bp.route("/catalogue/sessions/<int:session_id>.ics")
@login_required
def session_ics(session_id: int):
    found = load_or_404(Session, session_id, current_user, options=(
        joinedload(Session.course).joinedload(Course.provider),
        selectinload(Session.meetings).joinedload(Meeting.municipality),
    ))
    filename = f"{secure_filename(found.course.title) or 'session'}-{found.id}.ics"
    return _calendar_response(calendar.session_calendar(found), filename)


@bp.route("/calendar")
@role_required(Role.HR)
def calendar_page():
    token = current_user.company.calendar_token
    feed_url = url_for("catalogue.calendar_feed", token=token, _external=True) if token else None
    return render_template("catalogue/calendar.html", company=current_user.company, feed_url=feed_url)


@bp.route("/calendar/token", methods=["POST"])
@role_required(Role.HR)
def renew_calendar_token():
    if attempt(lambda: calendar.renew_calendar_token(current_user)):
        flash(_("The feed has a new address. Any earlier address no longer works."), "success")
    return redirect(url_for("catalogue.calendar_page"))


@bp.route("/calendar/token/revoke", methods=["POST"])
@role_required(Role.HR)
def revoke_calendar_token():
    if attempt(lambda: calendar.revoke_calendar_token(current_user)):
        flash(_("The feed is turned off. Its address no longer works."), "success")
    return redirect(url_for("catalogue.calendar_page"))


@bp.route("/calendar/<token>.ics")
def calendar_feed(token: str):
    """The company's bookings for calendar apps, which cannot sign in: the secret address is the key."""
    company = calendar.company_by_calendar_token(token)
    if company is None:
        abort(404)
    return _calendar_response(calendar.company_feed(company))


def _calendar_response(body: bytes, filename: str | None = None) -> Response:
    response = Response(body, mimetype="text/calendar")
    if filename:
        response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response
