"""HR keeps its company's roster: the list, one employee's form, and importing a CSV file."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from jinja2_fragments.flask import render_blocks

from portal.access import load_or_404
from portal.blueprints.helpers import attempt
from portal.blueprints.roster.forms import ConfirmImportForm, EmployeeForm, ImportForm, RosterFilterForm, gender_label
from portal.extensions import htmx
from portal.models import Employee, Role
from portal.security import gate_blueprint
from portal.services import roster as service
from portal.services import roster_import, roster_views
from portal.services.roster import FIELD_LABELS

bp = Blueprint("roster", __name__, url_prefix="/employees")
gate_blueprint(bp, Role.HR)
bp.add_app_template_global(gender_label)


def _employee(employee_id: int) -> Employee:
    return load_or_404(Employee, employee_id, current_user, manage=True)


def _status() -> int:
    """A form shown again after a POST was refused answers 422."""
    return 422 if request.method == "POST" else 200


@bp.route("")
def index():
    form = RosterFilterForm(formdata=request.args)
    form.validate()
    page = roster_views.roster(current_user.company_id, form.text(), form.status(), request.args.get("page", 1, type=int))
    if htmx and not htmx.history_restore_request:
        return render_blocks("roster/index.html", ["results", "result_count"], form=form, page=page)
    return render_template("roster/index.html", form=form, page=page)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = EmployeeForm()
    if form.validate_on_submit():
        employee = attempt(lambda: service.add_employee(current_user, form.data_for_service()), form)
        if employee:
            flash(_("%(name)s is added to the roster.", name=employee.name), "success")
            return redirect(url_for(".index"))
    return render_template("roster/form.html", form=form, employee=None), _status()


@bp.route("/<int:employee_id>/edit", methods=["GET", "POST"])
def edit(employee_id: int):
    found = _employee(employee_id)
    form = EmployeeForm() if request.method == "POST" else EmployeeForm.for_employee(found)
    if form.validate_on_submit() and attempt(lambda: service.update_employee(found, current_user, form.data_for_service()), form):
        flash(_("%(name)s is saved.", name=found.name), "success")
        return redirect(url_for(".index"))
    return render_template("roster/form.html", form=form, employee=found), _status()


@bp.route("/<int:employee_id>/deactivate", methods=["POST"])
def deactivate(employee_id: int):
    found = _employee(employee_id)
    if attempt(lambda: service.deactivate_employee(found, current_user)):
        flash(_("%(name)s is deactivated: no longer offered for booking. Hours and bookings stay.", name=found.name),
              "success")
        coming = roster_views.coming_bookings(found.id)
        if coming:
            flash(ngettext("%(name)s still holds %(num)s place on a coming session; cancel it on the bookings page "
                           "if they will not attend.",
                           "%(name)s still holds %(num)s places on coming sessions; cancel them on the bookings page "
                           "if they will not attend.", coming, name=found.name), "info")
    return redirect(url_for(".edit", employee_id=employee_id))


@bp.route("/<int:employee_id>/reactivate", methods=["POST"])
def reactivate(employee_id: int):
    found = _employee(employee_id)
    if attempt(lambda: service.reactivate_employee(found, current_user)):
        flash(_("%(name)s is active again.", name=found.name), "success")
    return redirect(url_for(".edit", employee_id=employee_id))


@bp.route("/import", methods=["GET", "POST"])
def import_roster():
    form = ImportForm()
    if form.validate_on_submit():
        raw = form.content()
        preview = attempt(lambda: roster_import.preview_import(current_user, raw), form)
        if preview is not None:
            return render_template("roster/preview.html", preview=preview, confirm_form=ConfirmImportForm.carrying(raw),
                                   labels=FIELD_LABELS, Action=roster_import.Action)
    return render_template("roster/import.html", form=form), _status()


@bp.route("/import/confirm", methods=["POST"])
def confirm_import():
    form = ConfirmImportForm()
    raw = form.raw() if form.validate_on_submit() else None
    if raw is None:
        flash(_("The file did not come back whole. Choose it again."), "error")
        return redirect(url_for(".import_roster"))
    result = attempt(lambda: roster_import.confirm_import(current_user, raw))
    if result is None:
        return redirect(url_for(".import_roster"))
    flash(_("Import done: %(added)s added, %(updated)s updated.", added=result.added, updated=result.updated), "success")
    if result.unchanged:
        flash(ngettext("%(num)s employee in the file was already up to date.",
                       "%(num)s employees in the file were already up to date.", result.unchanged), "info")
    if result.skipped:
        flash(ngettext("%(num)s row with errors was not imported.", "%(num)s rows with errors were not imported.",
                       result.skipped), "info")
    return redirect(url_for(".index"))
