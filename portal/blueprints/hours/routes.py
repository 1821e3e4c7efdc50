"""Training hours: HR logs its company's, the programme office verifies or rejects them."""
from dataclasses import astuple

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import load_or_404
from portal.blueprints.auth.routes import safe_next
from portal.blueprints.helpers import attempt
from portal.blueprints.hours.forms import SERVICE_FIELDS, HoursForm, RejectForm, ReviewFilterForm
from portal.models import HoursEntry, Role
from portal.models.types import MAX_ID
from portal.security import gate_blueprint, role_required
from portal.services import hours as service

bp = Blueprint("hours", __name__, url_prefix="/hours")
gate_blueprint(bp, Role.HR, Role.PM)


def _entry(entry_id: int) -> HoursEntry:
    return load_or_404(HoursEntry, entry_id, current_user, manage=True)


def _field(name: str) -> str:
    return SERVICE_FIELDS.get(name, name)


def _page_number(name: str) -> int:
    return request.args.get(name, 1, type=int)


@bp.route("", methods=["GET", "POST"])
@role_required(Role.HR)
def index():
    company_id = current_user.company_id
    form = HoursForm().prepare(company_id)
    if form.validate_on_submit():
        data = form.data_for_service()
        entry = attempt(lambda: service.log_hours(current_user, *astuple(data)), form, key=_field)
        if entry:
            flash(_("The hours are logged and wait for the programme office's verification."), "success")
            return redirect(url_for(".index"))
    pending = service.company_hours(company_id, _page_number("pending_page"), pending=True)
    others = service.company_hours(company_id, _page_number("page"), pending=False)
    status = 422 if request.method == "POST" else 200
    return render_template("hours/index.html", form=form, pending=pending, others=others), status


@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
@role_required(Role.HR)
def edit(entry_id: int):
    found = _entry(entry_id)
    if not service.changeable(found):
        flash(_("These hours are decided already and can no longer be changed."), "error")
        return redirect(url_for(".index"))
    form = (HoursForm() if request.method == "POST" else HoursForm.for_entry(found)).prepare(current_user.company_id, found)
    if form.validate_on_submit():
        data = form.data_for_service()
        if attempt(lambda: service.edit_hours(found, current_user, *astuple(data)), form, key=_field):
            flash(_("The hours are saved."), "success")
            return redirect(url_for(".index"))
    return render_template("hours/edit.html", form=form, entry=found), 422 if request.method == "POST" else 200


@bp.route("/<int:entry_id>/delete", methods=["POST"])
@role_required(Role.HR)
def delete(entry_id: int):
    found = _entry(entry_id)
    if attempt(lambda: service.delete_hours(found, current_user)):
        flash(_("The hours are deleted."), "success")
    return redirect(url_for(".index"))


@bp.route("/review")
@role_required(Role.PM)
def review():
    form = ReviewFilterForm(formdata=request.args).prepare()
    company_id = form.company.data if form.validate() else None
    if company_id is not None and not 0 < company_id <= MAX_ID:
        company_id = None  # not a company: the whole list
    page = service.hours_to_review(_page_number("page"), company_id)
    return render_template("hours/review.html", form=form, page=page, reject_form=RejectForm())


@bp.route("/<int:entry_id>/verify", methods=["POST"])
@role_required(Role.PM)
def verify(entry_id: int):
    found = _entry(entry_id)
    if attempt(lambda: service.verify_hours(found, current_user)):
        flash(_("The hours are verified and count from now on."), "success")
    return redirect(_back())


@bp.route("/<int:entry_id>/reject", methods=["POST"])
@role_required(Role.PM)
def reject(entry_id: int):
    found = _entry(entry_id)
    form = RejectForm()
    if not form.validate_on_submit():
        for message in form.reason.errors:
            flash(message, "error")
    elif attempt(lambda: service.reject_hours(found, current_user, form.reason.data or "")):
        flash(_("The hours are rejected and the company's HR is told why."), "success")
    return redirect(_back())


def _back() -> str:
    return safe_next(request.form.get("next")) or url_for(".review")
