"""Training hours, the figure the funder reports on. Kept in whole minutes so sums are exact."""
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import StrEnum, UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from portal.models.bookings import Attendance
    from portal.models.catalogue import Course, Session
    from portal.models.organisations import Company, Employee


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
        # The few entries waiting for the programme office, a company's found without reading the others
        # (on PostgreSQL with their minutes, so a company's pending hours never read the table).
        Index("ix_hours_entries_pending", "company_id", postgresql_include=["minutes"],
              postgresql_where=text(PENDING), sqlite_where=text(PENDING)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    # The employee's company, kept with the entry as a booking keeps it (an employee never changes company).
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
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
    company: Mapped["Company"] = relationship()
    attendance: Mapped["Attendance | None"] = relationship()
    session: Mapped["Session | None"] = relationship()
    course: Mapped["Course | None"] = relationship()

    def __repr__(self) -> str:
        return f"<HoursEntry {self.id} employee {self.employee_id} {self.minutes} min>"


class TallyDimension(StrEnum):
    """What a tally sums a person's counted minutes by, and what its key then holds."""

    PERSON = "person"  # key 0: all their counted minutes
    # key: the first age of the band the person's age in the entry's year (year - birth year) falls in (0, 30,
    # 40, 50, 60: services/tallies.AGE_BANDS), -1 without a birth year. A band, not an age: someone who turns
    # 32 during their training is one row of 30–39, so a band's individuals are a count of rows.
    AGE = "age"
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


class HoursTotal(db.Model):
    """The programme's figures per dimension and key, so the programme-wide report need not read every tally.

    The figure of a dimension and key is the SUM of its rows: individuals (tallies) and their minutes. Rows
    are deltas, appended by every tally refresh (minus what a person's tallies held, plus what they hold
    now) and never updated, so concurrent writers of hours never wait on each other or deadlock on a hot
    row; `services.tallies.compact` collapses them to one row per key now and then. The person dimension
    is kept per company (key: the company's id), which gives the company breakdown as well as the headline.
    """

    __tablename__ = "hours_totals"
    __table_args__ = (
        Index("ix_hours_totals_dimension_key", "dimension", "key", postgresql_include=["individuals", "minutes"]),
    )

    # BIGINT on PostgreSQL: an append-only log spends ids fast; SQLite's rowid is 64-bit anyway.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dimension: Mapped[TallyDimension] = mapped_column(enum_type(TallyDimension, "tally_dimension"))
    key: Mapped[int]
    individuals: Mapped[int]  # deltas: either may be negative
    # BIGINT: programme-wide sums near 2^31 at the generator's largest scale (202 M minutes in all at scale 1)
    minutes: Mapped[int] = mapped_column(BigInteger)
