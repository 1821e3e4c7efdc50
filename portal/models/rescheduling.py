"""New dates proposed for a session a restriction postponed, for its provider to confirm."""
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import StrEnum, UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from portal.models.catalogue import Meeting, Session


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"  # waiting for the provider
    UNPLACEABLE = "unplaceable"  # no dates before the programme period ends: flagged to pm and provider
    CONFIRMED = "confirmed"
    REPLACED = "replaced"  # the provider chose other dates, cancelled, or the proposal no longer held


# A session has at most one proposal waiting, whichever scheduler made it.
ACTIVE = "status IN ('proposed', 'unplaceable')"


class RescheduleProposal(db.Model):
    __tablename__ = "reschedule_proposals"
    __table_args__ = (
        CheckConstraint("clash_count >= 0", name="clash_count_not_negative"),
        Index("uq_reschedule_proposals_active_session", "session_id", unique=True,
              sqlite_where=text(ACTIVE), postgresql_where=text(ACTIVE)),
        Index("ix_reschedule_proposals_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    restriction_id: Mapped[int | None] = mapped_column(ForeignKey("restrictions.id"), index=True)
    status: Mapped[ProposalStatus] = mapped_column(enum_type(ProposalStatus, "proposal_status"))
    # The first day the new dates could start: the lift (or easing) plus the notice period.
    earliest_day: Mapped[date]
    clash_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    session: Mapped["Session"] = relationship()
    meetings: Mapped[list["ProposedMeeting"]] = relationship(
        back_populates="proposal", order_by="ProposedMeeting.starts_at", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<RescheduleProposal {self.id} session {self.session_id} {self.status}>"


class ProposedMeeting(db.Model):
    """Where one of the session's meetings would move."""

    __tablename__ = "proposed_meetings"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("reschedule_proposals.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    proposal: Mapped[RescheduleProposal] = relationship(back_populates="meetings")
    meeting: Mapped["Meeting"] = relationship()
