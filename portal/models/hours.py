"""Training hours, the figure the funder reports on. Kept in whole minutes so sums are exact."""
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import StrEnum, UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from portal.models.bookings import Attendance
    from portal.models.catalogue import Course, Session
    from portal.models.organisations import Employee


class HoursSource(StrEnum):
    ATTENDANCE = "attendance"  # created from an attended meeting
    MANUAL = "manual"  # self-paced digital or internal training, logged by HR


class Verification(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class Delivery(StrEnum):
    """How the training reached the person, as the funder counts it."""

    IN_PERSON = "in_person"
    DIGITAL = "digital"


class HoursEntry(db.Model):
    __tablename__ = "hours_entries"
    __table_args__ = (
        CheckConstraint("minutes > 0 AND minutes <= 1440", name="minutes_within_a_day"),
        # Attendance creates its entry, for its session; a manual entry has neither. Once the
        # session's attendance register is purged (retention), the entry keeps its session only.
        CheckConstraint(
            "(source = 'attendance' AND session_id IS NOT NULL)"
            " OR (source = 'manual' AND attendance_id IS NULL AND session_id IS NULL)",
            name="source_matches_attendance",
        ),
        Index("ix_hours_entries_employee_id_entry_date", "employee_id", "entry_date"),
        Index("ix_hours_entries_entry_date", "entry_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    entry_date: Mapped[date]
    minutes: Mapped[int]
    source: Mapped[HoursSource] = mapped_column(enum_type(HoursSource, "hours_source"))
    # Unique: an attended meeting yields its hours once, never twice.
    attendance_id: Mapped[int | None] = mapped_column(ForeignKey("attendances.id", ondelete="CASCADE"), unique=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    # An attended meeting with a venue was in person, one without was digital; HR says for its own.
    delivery: Mapped[Delivery] = mapped_column(enum_type(Delivery, "delivery"))
    description: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    verification: Mapped[Verification] = mapped_column(
        enum_type(Verification, "verification"), default=Verification.PENDING
    )
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    employee: Mapped["Employee"] = relationship()
    attendance: Mapped["Attendance | None"] = relationship()
    session: Mapped["Session | None"] = relationship()
    course: Mapped["Course | None"] = relationship()

    def __repr__(self) -> str:
        return f"<HoursEntry {self.id} employee {self.employee_id} {self.minutes} min>"
