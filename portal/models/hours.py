"""Training hours, the figure the funder reports on. Kept in whole minutes so sums are exact."""
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
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


PENDING = "source = 'manual' AND verification = 'pending'"


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
        # The few entries waiting for the programme office, found without reading all the others
        # (on PostgreSQL with their minutes, so a company's pending hours never read the table).
        Index("ix_hours_entries_pending", "employee_id", postgresql_include=["minutes"],
              postgresql_where=text(PENDING), sqlite_where=text(PENDING)),
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


class TallyDimension(StrEnum):
    """What a tally sums a person's counted minutes by, and what its key then holds."""

    PERSON = "person"  # key 0: all their counted minutes
    AGE = "age"  # key: the person's age in the entry's year (year - birth year), -1 without a birth year
    MONTH = "month"  # key: year * 100 + month, e.g. 202611
    DELIVERY = "delivery"  # key: 1 in person, 2 digital
    COURSE = "course"  # key: the course's id, 0 for hours without a course
    PROVIDER = "provider"  # key: the course's provider's id, 0 for hours without a course
    AREA = "area"  # key: one of the course's competence areas' ids, 0 without a course or area
    SESSION = "session"  # key: the session's id (hours from attended meetings only)


class HoursTally(db.Model):
    """A person's counted minutes per figure key, so the programme's figures need not read every entry.

    Derived data, kept by services/tallies.py in the same flush as the hours entries it sums: one row
    per person and key means "individuals" is a count of rows instead of a distinct count over all hours.
    """

    __tablename__ = "hours_tallies"
    __table_args__ = (
        CheckConstraint("minutes > 0", name="minutes_positive"),
        # A figure reads one dimension's rows by key; on PostgreSQL from the index alone.
        Index("ix_hours_tallies_dimension_key", "dimension", "key", postgresql_include=["employee_id", "minutes"]),
        Index("ix_hours_tallies_company_id_dimension", "company_id", "dimension",
              postgresql_include=["key", "employee_id", "minutes"]),
    )

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), primary_key=True)
    dimension: Mapped[TallyDimension] = mapped_column(
        enum_type(TallyDimension, "tally_dimension"), primary_key=True
    )
    key: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    minutes: Mapped[int]
