"""Company training plans (utbildningsplaner) and their items: the competence needs."""
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import StrEnum, UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from portal.models.catalogue import Course
    from portal.models.organisations import Company, Employee
    from portal.models.reference import CompetenceArea


class Priority(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


plan_item_employees = Table(
    "plan_item_employees",
    db.metadata,
    Column("plan_item_id", ForeignKey("plan_items.id", ondelete="CASCADE"), primary_key=True),
    Column("employee_id", ForeignKey("employees.id"), primary_key=True, index=True),
)


class TrainingPlan(db.Model):
    __tablename__ = "training_plans"
    __table_args__ = (
        UniqueConstraint("company_id", "period_start"),
        CheckConstraint("period_end > period_start", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date]
    period_end: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    company: Mapped["Company"] = relationship()
    items: Mapped[list["PlanItem"]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanItem.id"
    )

    def __repr__(self) -> str:
        return f"<TrainingPlan {self.id} company {self.company_id}>"


class PlanItem(db.Model):
    """One competence need: an area, maybe a course, named employees or a head count."""

    __tablename__ = "plan_items"
    __table_args__ = (
        CheckConstraint("head_count IS NULL OR head_count > 0", name="head_count_positive"),
        CheckConstraint("planned_minutes >= 0", name="planned_minutes_not_negative"),
        CheckConstraint("target_quarter BETWEEN 1 AND 4", name="target_quarter_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("training_plans.id", ondelete="CASCADE"), index=True)
    competence_area_id: Mapped[int] = mapped_column(ForeignKey("competence_areas.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    # Used when the need names no employees yet; named employees count otherwise.
    head_count: Mapped[int | None]
    planned_minutes: Mapped[int] = mapped_column(default=0)
    target_year: Mapped[int]
    target_quarter: Mapped[int]
    priority: Mapped[Priority] = mapped_column(enum_type(Priority, "priority"), default=Priority.MEDIUM)
    note: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[TrainingPlan] = relationship(back_populates="items")
    competence_area: Mapped["CompetenceArea"] = relationship()
    course: Mapped["Course | None"] = relationship()
    employees: Mapped[list["Employee"]] = relationship(secondary=plan_item_employees)

    @property
    def people(self) -> int:
        return len(self.employees) or (self.head_count or 0)

    def __repr__(self) -> str:
        return f"<PlanItem {self.id} of plan {self.plan_id}>"


class NeedNotice(db.Model):
    """That a plan item's company was told of a published session meeting the need: told once."""

    __tablename__ = "need_notices"
    __table_args__ = (UniqueConstraint("plan_item_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_item_id: Mapped[int] = mapped_column(ForeignKey("plan_items.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
