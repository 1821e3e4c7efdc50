"""The audit trail: who did what to which booking, session or plan."""
from typing import Any

from sqlalchemy import insert

from portal.extensions import db
from portal.models import AuditEvent, User
from portal.models.types import utcnow


def record(
    actor: User | None, action: str, object_type: str, object_id: int, *,
    company_id: int | None = None, provider_id: int | None = None, **data: Any,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.id if actor else None, action=action, object_type=object_type, object_id=object_id,
        company_id=company_id, provider_id=provider_id, data=data,
    )
    db.session.add(event)
    return event


def record_many(actor: User | None, action: str, object_type: str, events: list[dict[str, Any]]) -> None:
    """Many events of one kind in one statement; each dict holds object_id, company_id,
    provider_id and its data."""
    if not events:
        return
    now = utcnow()
    db.session.execute(insert(AuditEvent), [
        {"actor_id": actor.id if actor else None, "action": action, "object_type": object_type,
         "created_at": now, **event} for event in events
    ])
