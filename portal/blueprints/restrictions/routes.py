"""Restrictions (pm): record one with a preview of what it postpones, change its group size, lift it."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal.access import load_or_404
from portal.blueprints.helpers import attempt
from portal.blueprints.restrictions.forms import GroupSizeForm, LiftForm, RestrictionForm, SettingsForm
from portal.models import Restriction, Role
from portal.security import gate_blueprint
from portal.services import rescheduling, restrictions as service
from portal.services.overview import current_programme

bp = Blueprint("restrictions", __name__, url_prefix="/restrictions")
gate_blueprint(bp, Role.PM)


def _restriction(restriction_id: int) -> Restriction:
    return load_or_404(Restriction, restriction_id, current_user, manage=True, options=[
        selectinload(Restriction.regions), selectinload(Restriction.municipalities), selectinload(Restriction.changes),
    ])


def _preview_or_save(form, preview, save):
    """Preview what saving would postpone; save only what pm has seen. Returns (saved, impact)."""
    if not form.validate_on_submit():
        return None, None
    if "save" in request.form and form.confirmed() is not None:
        try:
            saved = attempt(lambda: save(form.confirmed()), form, passthrough=(service.ImpactToConfirm,))
        except service.ImpactToConfirm as changed:
            flash(str(changed), "error")
            impact = changed.impact
        else:
            return saved, None
    else:
        impact = attempt(preview, form)
    if impact is not None:
        form.confirmed_sessions.data = str(impact.sessions)
    return None, impact


@bp.route("")
def index():
    programme = current_programme()
    settings = SettingsForm(obj=programme) if programme else None
    return render_template("restrictions/index.html", restrictions=service.restrictions_list(), settings=settings,
                           unplaceable=service.unplaceable_sessions())


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = RestrictionForm().prepare()
    saved, impact = _preview_or_save(
        form, lambda: service.preview_restriction(form.data_for_service()),
        lambda confirmed: service.record_restriction(current_user, form.data_for_service(), confirmed_sessions=confirmed),
    )
    if saved:
        flash(_("The restriction is recorded; the sessions it stops are postponed and everyone booked has been told."),
              "success")
        return redirect(url_for(".show", restriction_id=saved.id))
    return render_template("restrictions/new.html", form=form, impact=impact,
                           rows=service.session_rows(impact.session_ids[:50]) if impact else []), \
        422 if request.method == "POST" and impact is None else 200


@bp.route("/<int:restriction_id>")
def show(restriction_id: int):
    found = _restriction(restriction_id)
    return _show(found, GroupSizeForm(), LiftForm())


def _show(found: Restriction, size_form: GroupSizeForm, lift_form: LiftForm, impact=None, status: int = 200):
    return render_template(
        "restrictions/show.html", restriction=found, size_form=size_form, lift_form=lift_form, impact=impact,
        impact_rows=service.session_rows(impact.session_ids[:50]) if impact else [],
        postponed=service.sessions_postponed_by(found.id),
    ), status


@bp.route("/<int:restriction_id>/group-size", methods=["POST"])
def change_group_size(restriction_id: int):
    found = _restriction(restriction_id)
    form = GroupSizeForm()
    saved, impact = _preview_or_save(
        form, lambda: service.preview_group_size(found, form.effective_from.data, form.max_group_size.data),
        lambda confirmed: service.change_group_size(found, current_user, form.effective_from.data,
                                                    form.max_group_size.data, confirmed_sessions=confirmed),
    )
    if saved:
        report = rescheduling.reschedule(restriction_id=found.id)
        flash(_("The new group size is saved. Sessions postponed: %(postponed)s. New dates proposed: %(proposed)s.",
                postponed=form.confirmed(), proposed=report.proposed + report.confirmed), "success")
        return redirect(url_for(".show", restriction_id=found.id))
    return _show(_restriction(restriction_id), form, LiftForm(), impact, 200 if impact else 422)


@bp.route("/<int:restriction_id>/lift", methods=["POST"])
def lift(restriction_id: int):
    found = _restriction(restriction_id)
    form = LiftForm()
    if form.validate_on_submit() and attempt(lambda: service.lift_restriction(found, current_user, form.lifted_on.data), form):
        # Lifting reschedules at once for this restriction, without waiting for the nightly run.
        report = rescheduling.reschedule(restriction_id=found.id)
        flash(_("The restriction is lifted. New dates proposed: %(proposed)s; confirmed at once: %(confirmed)s; "
                "no room before the period ends: %(unplaceable)s.", proposed=report.proposed,
                confirmed=report.confirmed, unplaceable=report.unplaceable), "success")
        return redirect(url_for(".show", restriction_id=found.id))
    return _show(_restriction(restriction_id), GroupSizeForm(), form, status=422)


@bp.route("/settings", methods=["POST"])
def settings():
    programme = current_programme()
    form = SettingsForm()
    if programme is None:
        flash(_("There is no programme to set up yet."), "error")
    elif not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    elif attempt(lambda: rescheduling.update_settings(programme, current_user, form.notice_days.data,
                                                      form.auto_confirm_reschedule.data)):
        flash(_("The rescheduling settings are saved."), "success")
    return redirect(url_for(".index"))
