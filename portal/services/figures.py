"""The counting rules the programme reports by, as reusable SQL pieces."""
from sqlalchemy import ColumnElement, and_, func, or_

from portal.models import HoursEntry, HoursSource, Verification


def counted_hours() -> ColumnElement[bool]:
    """Hours that count: attended meetings, and manual entries the programme office verified."""
    return or_(
        HoursEntry.source == HoursSource.ATTENDANCE,
        and_(HoursEntry.source == HoursSource.MANUAL, HoursEntry.verification == Verification.VERIFIED),
    )


def pending_hours() -> ColumnElement[bool]:
    """Hours HR logged that wait for the programme office's decision: reported apart, never counted."""
    return and_(HoursEntry.source == HoursSource.MANUAL, HoursEntry.verification == Verification.PENDING)


def minutes_between(starts, ends, dialect: str) -> ColumnElement[float]:
    """The minutes from one timestamp column to another, in the database's own arithmetic."""
    if dialect == "sqlite":
        return (func.julianday(ends) - func.julianday(starts)) * 1440
    return func.extract("epoch", ends - starts) / 60
