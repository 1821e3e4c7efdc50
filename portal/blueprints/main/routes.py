"""Start pages per role, the company overview, and the language switch."""
from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from portal.access import load_or_404
from portal.blueprints.auth.routes import safe_next
from portal.models import Company, Role
from portal.security import role_required
from portal.services import overview, plans, restrictions

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def index():
    if current_user.role == Role.HR:
        return _company_page(current_user.company_id)
    if current_user.role == Role.PROVIDER:
        sessions = overview.upcoming_sessions_of_provider(current_user.provider_id)
        return render_template("main/provider.html", provider=current_user.provider, sessions=sessions,
                               needing_dates=restrictions.sessions_needing_dates(current_user.provider_id))
    page = request.args.get("page", 1, type=int)
    return render_template("main/programme.html", overview=overview.programme_overview(page))


@bp.route("/companies/<int:company_id>")
@role_required(Role.HR, Role.PM)
def company(company_id: int):
    return _company_page(company_id)


def _company_page(company_id: int):
    company = load_or_404(Company, company_id, current_user, options=[joinedload(Company.municipality)])
    plan = plans.plan_of(company.id)
    return render_template("main/company.html", overview=overview.company_overview(company),
                           plan=plans.progress(plan, people=False) if plan else None)


@bp.route("/language", methods=["POST"])
def language():
    chosen = request.form.get("locale", "")
    if chosen not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = chosen
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))
