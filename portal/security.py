"""Sign-in wiring and the role gates every blueprint uses."""
from functools import wraps

from flask import Blueprint, Flask, abort, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user

from portal.extensions import db
from portal.models import Role, User


def init_login(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see that page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        # The id carries the user's session version: after a password change, deactivation or
        # sign-out everywhere the version moves on and older cookies stop working.
        ident, _, version = user_id.partition(":")
        if not (ident.isdigit() and version.isdigit()):
            return None
        user = db.session.get(User, int(ident))
        if user is None or not user.is_active or user.session_version != int(version):
            return None
        return user


def _check_role(roles: tuple[Role, ...]):
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if current_user.role not in roles:
        abort(403)
    return None


def gate_blueprint(blueprint: Blueprint, *roles: Role) -> None:
    """Every route of the blueprint needs a signed-in user with one of the roles."""

    @blueprint.before_request
    def _gate():
        return _check_role(roles)


def role_required(*roles: Role):
    """Gate one view to signed-in users with one of the roles."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            return _check_role(roles) or view(*args, **kwargs)

        return wrapped

    return decorator
