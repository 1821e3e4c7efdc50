"""The counting rules the programme reports by, as reusable SQL pieces."""
from sqlalchemy import ColumnElement, and_, or_

from portal.models import HoursEntry, HoursSource, Verification


def counted_hours() -> ColumnElement[bool]:
    """Hours that count: attended meetings, and manual entries the programme office verified."""
    return or_(
        HoursEntry.source == HoursSource.ATTENDANCE,
        and_(HoursEntry.source == HoursSource.MANUAL, HoursEntry.verification == Verification.VERIFIED),
    )
