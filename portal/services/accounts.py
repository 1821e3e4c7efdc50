"""User accounts: passwords and sign-in."""
from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.models import User
from portal.models.types import utcnow

# Checked against when the email is unknown, so both answers take the same time.
_UNKNOWN_USER_HASH = generate_password_hash("not a real password", method="scrypt")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def normalise_email(email: str) -> str:
    return email.strip().lower()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None: never says which part was wrong."""
    user = db.session.scalars(select(User).where(func.lower(User.email) == normalise_email(email))).first()
    if user is None or not user.is_active:
        check_password_hash(_UNKNOWN_USER_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    return user
