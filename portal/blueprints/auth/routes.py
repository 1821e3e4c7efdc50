"""Sign in and sign out."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.blueprints.auth.forms import ChangePasswordForm, ForgotForm, LoginForm, SetPasswordForm
from portal.blueprints.helpers import attempt
from portal.extensions import db
from portal.services import accounts
from portal.services.accounts import authenticate, end_sessions

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never send a signed-in user elsewhere."""
    if not target or any(ord(char) < 32 or char == "\\" for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        address = request.remote_addr or "unknown"
        try:
            accounts.check_attempts(form.email.data, address)
        except accounts.TooManyAttempts as refused:
            form.password.errors.append(str(refused))
            return render_template("auth/login.html", form=form), 429
        user = authenticate(form.email.data, form.password.data)
        accounts.record_attempt(form.email.data, address, succeeded=user is not None)
        db.session.commit()
        if user is None:
            form.password.errors.append(_("Wrong email or password."))
        else:
            locale = session.get("locale")
            session.clear()  # a fresh session at sign-in: nothing carried over from before
            if locale:
                session["locale"] = locale
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    status = 200 if not form.errors else 422
    return render_template("auth/login.html", form=form), status


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    form = ForgotForm()
    if form.validate_on_submit():
        accounts.request_reset(form.email.data)
        db.session.commit()
        # The same answer whether or not the address has an account.
        flash(_("If %(email)s belongs to an account, a link to set a new password is on its way. It works for an hour.",
                email=form.email.data), "info")
        return redirect(url_for(".login"))
    return render_template("auth/forgot.html", form=form), 422 if form.errors else 200


@bp.route("/password/set/<token>", methods=["GET", "POST"])
def set_password(token: str):
    link = accounts.valid_link(token)
    if link is None:
        return render_template("auth/link_expired.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit() and attempt(lambda: accounts.set_password_by_link(token, form.password.data), form):
        if current_user.is_authenticated:
            logout_user()
        flash(_("Your password is set. Sign in with it."), "success")
        return redirect(url_for(".login"))
    return render_template("auth/set_password.html", form=form, user=link.user), 422 if form.errors else 200


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    if form.validate_on_submit() and attempt(lambda: accounts.change_password(user, form.current_password.data,
                                                                                form.password.data), form):
        login_user(user)  # this session goes on with the new session version; the others have ended
        flash(_("Your password is changed. You have been signed out everywhere else."), "success")
        return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form), 422 if form.errors else 200


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # A cookie captured before signing out must be useless after it: the signed session lives in
    # the browser, so the account's session version moves on (this signs out its other devices too).
    end_sessions(current_user)
    db.session.commit()
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))
