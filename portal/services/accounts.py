"""User accounts: passwords, sign-in with throttling, one-time links to set a password, invitations."""
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.models import AccountToken, Company, Provider, Role, SignInAttempt, TokenPurpose, User
from portal.models.types import utcnow
from portal.services import DomainError, InvalidInput, audit, notifications
from portal.services.pagination import Page, paginate_rows
from portal.services.passwords import password_problem
from portal.urls import external_url

log = logging.getLogger("portal.auth")

# Checked against when the email is unknown, so both answers take the same time.
_UNKNOWN_USER_HASH = generate_password_hash("not a real password", method="scrypt")

# Failed sign-ins, counted per email (known or not) and per address since the last success:
WINDOW = timedelta(minutes=15)
FREE_FAILURES = 3  # then each attempt waits 1, 2, 4 … seconds after the last
REFUSE_AFTER = 10  # then none until the oldest failure leaves the window
ADDRESS_REFUSE_AFTER = 50  # one address trying many accounts
KEEP_ATTEMPTS = timedelta(days=30)  # the log of attempts

VALID_FOR = {TokenPurpose.INVITE: timedelta(days=7), TokenPurpose.RESET: timedelta(hours=1)}


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


def end_sessions(user: User) -> None:
    """Every cookie the user holds stops working, on every device: at sign-out, a password change
    or deactivation. The session version is part of the signed login id (User.get_id)."""
    user.session_version += 1


# Throttling

class TooManyAttempts(DomainError):
    def __init__(self, wait: timedelta):
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        super().__init__(_("Too many attempts to sign in. Try again in %(n)s minutes.", n=minutes)
                         if wait > timedelta(seconds=60) else
                         _("Too many attempts to sign in. Wait a moment and try again."))
        self.wait = wait


def check_attempts(email: str, address: str, now: datetime | None = None) -> None:
    """Refuse (TooManyAttempts) while this email or address has failed too often lately; the
    same for known and unknown emails. Never for good: failures leave the window."""
    now = now or utcnow()
    for column, value, refuse_after, slow in ((SignInAttempt.email, normalise_email(email), REFUSE_AFTER, True),
                                              (SignInAttempt.address, address, ADDRESS_REFUSE_AFTER, False)):
        last_success = select(func.max(SignInAttempt.at)).where(column == value, SignInAttempt.succeeded)
        count, first, last = db.session.execute(
            select(func.count(SignInAttempt.id), func.min(SignInAttempt.at), func.max(SignInAttempt.at))
            .where(column == value, ~SignInAttempt.succeeded, SignInAttempt.at > now - WINDOW,
                   or_(last_success.scalar_subquery().is_(None), SignInAttempt.at > last_success.scalar_subquery()))
        ).one()
        if count >= refuse_after:
            raise TooManyAttempts(first + WINDOW - now)
        if slow and count >= FREE_FAILURES:
            ready = last + timedelta(seconds=2 ** (count - FREE_FAILURES))
            if now < ready:
                raise TooManyAttempts(ready - now)


def record_attempt(email: str, address: str, succeeded: bool, now: datetime | None = None) -> None:
    now = now or utcnow()
    email = normalise_email(email)[:254]
    db.session.add(SignInAttempt(email=email, address=address[:45], at=now, succeeded=succeeded))
    db.session.execute(delete(SignInAttempt).where(SignInAttempt.email == email, SignInAttempt.at < now - KEEP_ATTEMPTS))
    if not succeeded:
        log.warning("Failed sign-in for %r from %s", email, address)


# Passwords and one-time links

def change_password(user: User, current: str, new: str) -> User:
    """The user's own change; their other sessions end (the caller signs this one in again)."""
    if not check_password_hash(user.password_hash, current):
        raise InvalidInput({"current_password": _("That is not your current password.")})
    _set_password(user, new)
    return user


def _set_password(user: User, password: str, field: str = "password") -> None:
    problem = password_problem(password, user.email)
    if problem:
        raise InvalidInput({field: problem})
    user.password_hash = hash_password(password)
    end_sessions(user)
    audit.record(user, "user.password_set", "user", user.id)


def issue_link(user: User, purpose: TokenPurpose) -> str:
    """A new one-time link's token; earlier unused links of the purpose stop working."""
    now = utcnow()
    db.session.execute(
        AccountToken.__table__.update()
        .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(AccountToken(user_id=user.id, purpose=purpose, token_hash=_digest(token), created_at=now,
                                expires_at=now + VALID_FOR[purpose]))
    return token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def valid_link(token: str) -> AccountToken | None:
    """The unused, unexpired link for an active user, or None."""
    if not token or len(token) > 100:
        return None
    found = db.session.scalars(select(AccountToken).where(AccountToken.token_hash == _digest(token))).first()
    if found is None or found.used_at is not None or found.expires_at <= utcnow() or not found.user.is_active:
        return None
    return found


def set_password_by_link(token: str, password: str) -> User:
    link = valid_link(token)
    if link is None:
        raise DomainError(_("This link has expired or has been used. Ask for a new one."))
    _set_password(link.user, password)
    link.used_at = utcnow()
    return link.user


def request_reset(email: str) -> None:
    """Mail a reset link if the address belongs to an active account; say nothing either way."""
    user = db.session.scalars(select(User).where(func.lower(User.email) == normalise_email(email), User.is_active)).first()
    if user is None:
        return
    token = issue_link(user, TokenPurpose.RESET)
    with force_locale("sv"):
        notifications.email(user.email, _("Set a new password"), _(
            "Someone (we hope you) asked to set a new password for your account. The link works once, "
            "for an hour:\n\n%(link)s\n\nIf it was not you, ignore this message: your password stays as it is.",
            link=external_url("auth.set_password", token=token)))


# Invitations and deactivation (pm)

@dataclass
class Invitation:
    email: str
    name: str
    role: Role
    company_id: int | None = None
    provider_id: int | None = None


def invite_user(actor: User, data: Invitation) -> User:
    email = normalise_email(data.email)
    errors = {}
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        errors["email"] = _("There is already an account with this email.")
    if not data.name.strip():
        errors["name"] = _("Give the person's name.")
    if data.role == Role.HR and (data.company_id is None or db.session.get(Company, data.company_id) is None):
        errors["company_id"] = _("Choose the company from the list.")
    if data.role == Role.PROVIDER and (data.provider_id is None or db.session.get(Provider, data.provider_id) is None):
        errors["provider_id"] = _("Choose the provider from the list.")
    if errors:
        raise InvalidInput(errors)
    user = User(email=email, name=data.name.strip(), role=data.role,
                company_id=data.company_id if data.role == Role.HR else None,
                provider_id=data.provider_id if data.role == Role.PROVIDER else None,
                password_hash=hash_password(secrets.token_urlsafe(32)))  # no one knows it: the link sets one
    try:
        with db.session.begin_nested():  # two invitations of one address at once: the second is told so
            db.session.add(user)
            db.session.flush()
    except IntegrityError:
        raise InvalidInput({"email": _("There is already an account with this email.")}) from None
    token = issue_link(user, TokenPurpose.INVITE)
    audit.record(actor, "user.invited", "user", user.id, role=str(data.role), company_id=user.company_id,
                 provider_id=user.provider_id)
    with force_locale("sv"):
        notifications.email(user.email, _("You are invited to the programme portal"), _(
            "%(who)s has invited you to the portal. Choose your password with this link; it works once, "
            "for seven days:\n\n%(link)s", who=actor.name, link=external_url("auth.set_password", token=token)))
    return user


def accounts_page(page: int, per_page: int = 50) -> Page[User]:
    statement = (
        select(User).options(selectinload(User.company), selectinload(User.provider)).order_by(User.role, User.name, User.id)
    )
    return paginate_rows(statement, page, per_page, row=lambda user: user)


def set_active(actor: User, user: User, active: bool) -> User:
    if user.id == actor.id:
        raise DomainError(_("You cannot deactivate your own account."))
    if user.is_active != active:
        user.is_active = active
        end_sessions(user)
        audit.record(actor, "user.activated" if active else "user.deactivated", "user", user.id)
    return user
