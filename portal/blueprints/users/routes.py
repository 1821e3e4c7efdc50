"""Accounts (pm): who may sign in, invitations, deactivation."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import load_or_404
from portal.blueprints.helpers import attempt
from portal.blueprints.users.forms import InviteForm
from portal.models import Role, User
from portal.security import gate_blueprint
from portal.services import accounts

bp = Blueprint("users", __name__, url_prefix="/users")
gate_blueprint(bp, Role.PM)


@bp.route("")
def index():
    return render_template("users/index.html", page=accounts.accounts_page(request.args.get("page", 1, type=int)))


@bp.route("/invite", methods=["GET", "POST"])
def invite():
    form = InviteForm().prepare()
    if form.validate_on_submit():
        invited = attempt(lambda: accounts.invite_user(current_user, form.data_for_service()), form)
        if invited:
            flash(_("%(email)s is invited: a link to choose a password is on its way.", email=invited.email), "success")
            return redirect(url_for(".index"))
    return render_template("users/invite.html", form=form), 422 if request.method == "POST" else 200


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
def deactivate(user_id: int):
    return _set_active(user_id, False, _("%(name)s can no longer sign in; their sessions have ended."))


@bp.route("/<int:user_id>/activate", methods=["POST"])
def activate(user_id: int):
    return _set_active(user_id, True, _("%(name)s can sign in again."))


def _set_active(user_id: int, active: bool, done: str):
    found = load_or_404(User, user_id, current_user, manage=True)
    if attempt(lambda: accounts.set_active(current_user, found, active)):
        flash(done % {"name": found.name}, "success")
    return redirect(url_for(".index"))
