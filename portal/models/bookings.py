"""Seats in sessions: bookings, the waitlist and attendance per meeting."""
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import StrEnum, UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from portal.models.catalogue import Meeting, Session
    from portal.models.organisations import Company, Employee
    from portal.models.plans import PlanItem


class BookingStatus(StrEnum):
    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class AttendanceStatus(StrEnum):
    ATTENDED = "attended"
    ABSENT = "absent"


class Booking(db.Model):
    __tablename__ = "bookings"
    __table_args__ = (
        # An employee holds at most one live booking (booked or waitlisted) per session.
        Index(
            "uq_bookings_live_employee_session",
            "session_id",
            "employee_id",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
        Index("ix_bookings_session_id_status_requested_at", "session_id", "status", "requested_at"),
        Index("ix_bookings_company_id_status", "company_id", "status"),
        # With the session on PostgreSQL: a clash look-up reads people's bookings from the index alone.
        Index("ix_bookings_employee_id_status", "employee_id", "status", postgresql_include=["session_id"]),
        # A plan's progress reads its items' bookings from the index alone on PostgreSQL (a large
        # company's 2,000 bookings lie on as many pages of the table).
        Index("ix_bookings_plan_item_id", "plan_item_id", postgresql_include=["session_id", "employee_id", "status"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    # The employee's company, kept on the booking for seat caps and tenant scoping.
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    plan_item_id: Mapped[int | None] = mapped_column(ForeignKey("plan_items.id", ondelete="SET NULL"))
    status: Mapped[BookingStatus] = mapped_column(enum_type(BookingStatus, "booking_status"))
    # The waitlist is ordered by the time of the request.
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    session: Mapped["Session"] = relationship()
    employee: Mapped["Employee"] = relationship()
    company: Mapped["Company"] = relationship()
    plan_item: Mapped["PlanItem | None"] = relationship()

    def __repr__(self) -> str:
        return f"<Booking {self.id} employee {self.employee_id} session {self.session_id} {self.status}>"


class Attendance(db.Model):
    """Whether a booked employee attended one meeting, as the provider recorded it."""

    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("booking_id", "meeting_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    status: Mapped[AttendanceStatus] = mapped_column(enum_type(AttendanceStatus, "attendance_status"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    booking: Mapped[Booking] = relationship()
    meeting: Mapped["Meeting"] = relationship()

    def __repr__(self) -> str:
        return f"<Attendance booking {self.booking_id} meeting {self.meeting_id} {self.status}>"
