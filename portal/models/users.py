"""People who sign in: company HR, provider staff and the programme office."""
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import StrEnum, UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from portal.models.organisations import Company, Provider


class Role(StrEnum):
    HR = "hr"
    PROVIDER = "provider"
    PM = "pm"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # Each role belongs to exactly the tenant it needs, and no other.
        CheckConstraint(
            "(role = 'hr' AND company_id IS NOT NULL AND provider_id IS NULL)"
            " OR (role = 'provider' AND provider_id IS NOT NULL AND company_id IS NULL)"
            " OR (role = 'pm' AND company_id IS NULL AND provider_id IS NULL)",
            name="tenant_matches_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Changing it ends every signed-in session of the user (see get_id).
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    company: Mapped["Company | None"] = relationship()
    provider: Mapped["Provider | None"] = relationship()

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class TokenPurpose(StrEnum):
    INVITE = "invite"  # a new user sets a first password
    RESET = "reset"  # a user who forgot it sets a new one


class AccountToken(db.Model):
    """A one-time link sent by email. Only its SHA-256 is stored, so the table gives no way in."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_type(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class SignInAttempt(db.Model):
    """Each sign-in attempt, kept a while: failures slow and then refuse more attempts for that
    email or from that address, across every worker."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_email_at", "email", "at"),
        Index("ix_sign_in_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))  # as typed, lower-case: known or not
    address: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded: Mapped[bool] = mapped_column(default=False)
