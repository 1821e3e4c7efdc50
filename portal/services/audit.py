"""The audit trail: who did what to which booking, session or plan."""
from typing import Any

from portal.extensions import db
from portal.models import AuditEvent, User


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
