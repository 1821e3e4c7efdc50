"""Personal data (pm): find a person, export what is held about them, erase them; the retention rule."""
import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import load_or_404
from portal.blueprints.helpers import attempt
from portal.blueprints.privacy.forms import EraseForm, RetentionForm
from portal.extensions import db
from portal.models import Employee, Role
from portal.security import gate_blueprint
from portal.services import privacy

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
gate_blueprint(bp, Role.PM)


@bp.route("")
def index():
    return _index(RetentionForm(retention_years=privacy.retention_years()))


@bp.route("/retention", methods=["POST"])
def retention():
    form = RetentionForm()
    if form.validate_on_submit() and attempt(lambda: privacy.set_retention(current_user, form.retention_years.data), form):
        flash(_("The retention rule is saved; the nightly job purges what it covers."), "success")
        return redirect(url_for(".index"))
    return _index(form), 422


@bp.route("/purge", methods=["POST"])
def purge():
    purged = attempt(privacy.purge_expired_attendance)
    if purged is not None:
        flash(ngettext("Attendance registers purged: %(num)d session.", "Attendance registers purged: %(num)d sessions.",
                       purged), "success")
    return redirect(url_for(".index"))


@bp.route("/people/<int:employee_id>")
def person(employee_id: int):
    return _person(load_or_404(Employee, employee_id, current_user), EraseForm())


@bp.route("/people/<int:employee_id>/export")
def export(employee_id: int):
    employee = load_or_404(Employee, employee_id, current_user)
    body = json.dumps(privacy.person_data(employee), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="person-{employee.id}.json"',
        "Cache-Control": "no-store",
    })


@bp.route("/people/<int:employee_id>/erase", methods=["POST"])
def erase(employee_id: int):
    employee = load_or_404(Employee, employee_id, current_user)
    form = EraseForm()
    if form.validate_on_submit():
        erased = attempt(lambda: privacy.erase(current_user, employee), form)
        if erased is not None:
            flash(" ".join([
                _("The person is erased."),
                ngettext("%(num)d coming booking cancelled,", "%(num)d coming bookings cancelled,", erased.cancelled),
                ngettext("%(num)d person moved up from a waitlist.", "%(num)d people moved up from waitlists.",
                         erased.promoted),
                _("Their hours stay in the totals, without a name."),
            ]), "success")
            return redirect(url_for(".person", employee_id=employee.id))
        db.session.refresh(employee)
    return _person(employee, form), 422


def _index(form: RetentionForm) -> str:
    text = request.args.get("q", "")[:100].replace("\x00", "")
    return render_template(
        "privacy/index.html", form=form, text=text,
        people=privacy.find_people(text, request.args.get("page", 1, type=int)),
        due=privacy.sessions_due_for_purge(privacy.retention_years()),
    )


def _person(employee: Employee, form: EraseForm) -> str:
    return render_template("privacy/person.html", employee=employee, form=form,
                           summary=privacy.person_summary(employee))
