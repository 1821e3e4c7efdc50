"""Training plans: HR keeps its company's plan; the programme office sees every plan side by side;
providers and the programme office see the pooled demand."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import load_or_404
from portal.blueprints.helpers import attempt
from portal.blueprints.plans.forms import PRIORITY_LABELS, ItemForm
from portal.models import PlanItem, Role, TrainingPlan
from portal.models.types import utcnow
from portal.security import role_required
from portal.services import demand, plan_overview, plans
from portal.services.overview import current_programme

bp = Blueprint("plans", __name__)


@bp.context_processor
def _labels():
    return {"priority_labels": PRIORITY_LABELS}


@bp.route("/plan")
@role_required(Role.HR)
def own_plan():
    plan = plans.plan_of(current_user.company_id)
    if plan is None:
        return render_template("plans/no_plan.html", programme=current_programme())
    return render_template("plans/plan.html", progress=plans.progress(plan), editable=True)


@bp.route("/plan", methods=["POST"])
@role_required(Role.HR)
def create_plan():
    programme = current_programme()
    if programme is None:
        abort(404)
    if attempt(lambda: plans.create_plan(current_user, programme)):
        flash(_("The training plan is created. Add the company's competence needs."), "success")
    return redirect(url_for(".own_plan"))


@bp.route("/plan/items/new", methods=["GET", "POST"])
@role_required(Role.HR)
def new_item():
    plan = plans.plan_of(current_user.company_id) or abort(404)
    form = ItemForm().prepare(plan)
    if form.validate_on_submit() and attempt(lambda: plans.add_item(plan, current_user, form.item_data()), form):
        flash(_("The need is added to the plan."), "success")
        return redirect(url_for(".own_plan"))
    return render_template("plans/item_form.html", form=form, item=None), 422 if request.method == "POST" else 200


@bp.route("/plan/items/<int:item_id>/edit", methods=["GET", "POST"])
@role_required(Role.HR)
def edit_item(item_id: int):
    item = load_or_404(PlanItem, item_id, current_user, manage=True)
    form = (ItemForm() if request.method == "POST" else ItemForm.for_item(item)).prepare(item.plan)
    if form.validate_on_submit() and attempt(lambda: plans.update_item(item, current_user, form.item_data()), form):
        flash(_("The need is saved."), "success")
        return redirect(url_for(".own_plan"))
    return render_template("plans/item_form.html", form=form, item=item), 422 if request.method == "POST" else 200


@bp.route("/plan/items/<int:item_id>/delete", methods=["POST"])
@role_required(Role.HR)
def delete_item(item_id: int):
    item = load_or_404(PlanItem, item_id, current_user, manage=True)
    if attempt(lambda: plans.remove_item(item, current_user)):
        flash(_("The need is removed from the plan."), "success")
    return redirect(url_for(".own_plan"))


@bp.route("/plans")
@role_required(Role.PM)
def all_plans():
    page = plan_overview.plans_side_by_side(request.args.get("page", 1, type=int), utcnow().date())
    return render_template("plans/all.html", page=page)


@bp.route("/plans/<int:plan_id>")
@role_required(Role.HR, Role.PM)
def plan(plan_id: int):
    found = load_or_404(TrainingPlan, plan_id, current_user)
    return render_template("plans/plan.html", progress=plans.progress(found),
                           editable=current_user.role == Role.HR)


@bp.route("/demand")
@role_required(Role.PROVIDER, Role.PM)
def pooled_demand():
    areas = demand.provider_areas(current_user.provider_id) if current_user.role == Role.PROVIDER else None
    return render_template("plans/demand.html", pools=demand.pooled(areas))
