"""What providers publish: courses, their sessions (kurstillfällen) and the sessions' meetings."""
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Column, CheckConstraint, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import StrEnum, UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from portal.models.organisations import Provider
    from portal.models.reference import CompetenceArea, Municipality
    from portal.models.restrictions import Restriction


class CourseFormat(StrEnum):
    IN_PERSON = "in_person"
    DIGITAL = "digital"
    HYBRID = "hybrid"


class CourseLevel(StrEnum):
    INTRODUCTORY = "introductory"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class SessionStatus(StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    POSTPONED = "postponed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


course_competence_areas = Table(
    "course_competence_areas",
    db.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("competence_area_id", ForeignKey("competence_areas.id"), primary_key=True, index=True),
)


class Course(db.Model):
    __tablename__ = "courses"
    __table_args__ = (CheckConstraint("nominal_minutes > 0", name="nominal_minutes_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[CourseFormat] = mapped_column(enum_type(CourseFormat, "course_format"))
    nominal_minutes: Mapped[int]
    level: Mapped[CourseLevel] = mapped_column(enum_type(CourseLevel, "course_level"))
    language: Mapped[str] = mapped_column(String(2), default="sv")  # ISO 639-1
    certified: Mapped[bool] = mapped_column(default=False)  # e.g. Teknikcollege-certified
    shared_niche: Mapped[bool] = mapped_column(default=False)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    provider: Mapped["Provider"] = relationship()
    competence_areas: Mapped[list["CompetenceArea"]] = relationship(
        secondary=course_competence_areas, order_by="CompetenceArea.name_sv"
    )
    sessions: Mapped[list["Session"]] = relationship(back_populates="course")

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.title!r}>"


class Session(db.Model):
    """One run of a course (kurstillfälle): one or more meetings sharing its seats."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        # The last word on overbooking: whatever the code does, the database refuses more.
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"),
        CheckConstraint("company_seat_cap IS NULL OR company_seat_cap > 0", name="seat_cap_positive"),
        CheckConstraint("min_participants >= 0", name="min_participants_not_negative"),
        Index("ix_sessions_status", "status"),
        Index("ix_sessions_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    status: Mapped[SessionStatus] = mapped_column(
        enum_type(SessionStatus, "session_status"), default=SessionStatus.PLANNED
    )
    capacity: Mapped[int]
    # Booked seats, kept by the booking service in the same transaction as the bookings.
    seats_taken: Mapped[int] = mapped_column(default=0, server_default="0")
    # Until seat_cap_released_at a company holds at most company_seat_cap booked seats.
    company_seat_cap: Mapped[int | None]
    seat_cap_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    min_participants: Mapped[int] = mapped_column(default=0)
    booking_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    cancellation_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    postponed_by_id: Mapped[int | None] = mapped_column(ForeignKey("restrictions.id"), index=True)
    # When it was postponed: meetings that started before then have happened and keep their dates.
    postponed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its attendance register was purged under the retention setting: hours stay, marks are gone.
    attendance_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    # When its first meeting starts and its last ends (None without meetings): derived from the meetings,
    # kept by services/session_times.py in every flush that changes them, so lists filter and order
    # sessions by their dates without reading every session's meetings.
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Raised whenever the meetings change, so calendar clients replace the old events.
    ical_sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship(back_populates="sessions")
    postponed_by: Mapped["Restriction | None"] = relationship()
    meetings: Mapped[list["Meeting"]] = relationship(
        back_populates="session", order_by="Meeting.starts_at", cascade="all, delete-orphan"
    )

    @property
    def minutes(self) -> int:
        return sum(meeting.minutes for meeting in self.meetings)

    def __repr__(self) -> str:
        return f"<Session {self.id} of course {self.course_id} {self.status}>"


LONGEST_MEETING = timedelta(hours=24)  # the catalogue refuses a longer one; clash look-ups rely on it


class Meeting(db.Model):
    """One sitting of a session: a time span, in a venue or online."""

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_meetings_session_id_starts_at", "session_id", "starts_at"),
        Index("ix_meetings_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    venue: Mapped[str] = mapped_column(String(200), default="")
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"), index=True)
    online_url: Mapped[str | None] = mapped_column(String(500))

    session: Mapped[Session] = relationship(back_populates="meetings")
    municipality: Mapped["Municipality | None"] = relationship()

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def in_person(self) -> bool:
        return self.municipality_id is not None

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.starts_at:%Y-%m-%d %H:%M}>"
