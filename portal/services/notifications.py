"""Telling people: in-portal notifications, and email through the outbox in the same transaction."""
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update

from portal.extensions import db
from portal.models import Employee, Notification, OutboxEmail, Role, User
from portal.models.types import utcnow
from portal.services.pagination import Page, paginate_rows


@dataclass(frozen=True)
class Recipient:
    """Whom a notification goes to, when no User object is at hand: a user's id and address."""

    id: int
    email: str


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    content: str


def fitted(text: str, limit: int) -> str:
    """The text, shortened with an ellipsis if it is longer than its column holds (a title made from a
    course title of the longest length the course form takes does not fit beside the words around it)."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def email(to: str, subject: str, body: str, attachment: Attachment | None = None) -> OutboxEmail:
    """Queue a message; the outbox job sends it, so nothing is lost while the mail server is down."""
    message = OutboxEmail(
        to_address=to, subject=fitted(subject, OutboxEmail.subject.type.length), body_text=body,
        attachment_name=attachment.name if attachment else None,
        attachment_type=attachment.content_type if attachment else None,
        attachment_content=attachment.content if attachment else None,
    )
    db.session.add(message)
    return message


def notify(
    user: User | Recipient, kind: str, title: str, body: str = "", link: str = "", attachment: Attachment | None = None
) -> Notification:
    """A notification in the portal, and the same by email."""
    notification = Notification(user_id=user.id, kind=kind, title=fitted(title, Notification.title.type.length),
                                body=body, link=link)
    db.session.add(notification)
    outgoing = email(user.email, title, body + (f"\n\n{link}" if link else ""), attachment)
    outgoing.notification = notification  # both written in the next flush, the email pointing at it
    return notification


def hr_users_of(company_ids: set[int]) -> list[User]:
    """The active HR users of these companies, in a stable order."""
    if not company_ids:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.HR, User.is_active, User.company_id.in_(company_ids))
            .order_by(User.company_id, User.id)
        )
    )


def provider_users_of(provider_id: int) -> list[User]:
    return list(db.session.scalars(_provider_users(provider_id)))


def provider_recipients(provider_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """Each provider's active users as recipients (what a job may keep across its transactions), in one query."""
    found: dict[int, list[Recipient]] = {provider_id: [] for provider_id in provider_ids}
    statement = (
        select(User.provider_id, User.id, User.email)
        .where(User.role == Role.PROVIDER, User.is_active, User.provider_id.in_(list(found)))
        .order_by(User.provider_id, User.id)
    )
    for provider_id, user_id, address in db.session.execute(statement):
        found[provider_id].append(Recipient(user_id, address))
    return found


def _provider_users(provider_id: int):
    return select(User).where(User.role == Role.PROVIDER, User.is_active, User.provider_id == provider_id).order_by(User.id)


def programme_office() -> list[User]:
    return list(db.session.scalars(_programme_office()))


def office_recipients() -> list[Recipient]:
    """The programme office's active users as recipients."""
    return [Recipient(user_id, address) for user_id, address in
            db.session.execute(_programme_office().with_only_columns(User.id, User.email))]


def _programme_office():
    return select(User).where(User.role == Role.PM, User.is_active).order_by(User.id)


def email_employees(employees: list[Employee], subject: str, body: str, attachment: Attachment | None = None) -> int:
    """Mail the employees who have an address; returns how many were mailed."""
    mailed = 0
    for employee in employees:
        if employee.email and employee.erased_at is None:
            email(employee.email, subject, body, attachment)
            mailed += 1
    return mailed


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ) or 0


def notifications_of(user: User, page: int, per_page: int = 20) -> Page[Notification]:
    statement = (
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return paginate_rows(statement, page, per_page, row=lambda notification: notification)


def mark_read(user: User, notification_id: int) -> bool:
    """Mark one of the user's own notifications read; another user's id changes nothing."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount == 1


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None)).values(read_at=utcnow())
    )
    return result.rowcount
