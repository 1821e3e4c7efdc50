"""The programme office's view of every plan side by side: who is behind, and by how much."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select

from portal.extensions import db
from portal.models import Attendance, Booking, BookingStatus, Company, HoursEntry, PlanItem, TrainingPlan
from portal.services.pagination import Page


@dataclass(frozen=True)
class CompanyPlanRow:
    company_id: int
    company: str
    plan_id: int | None
    planned_minutes: int
    due_minutes: int  # planned for quarters that have ended
    completed_minutes: int
    completed_due_minutes: int

    @property
    def behind_minutes(self) -> int:
        """Hours planned for past quarters and not yet done."""
        return max(self.due_minutes - self.completed_due_minutes, 0)


def quarter_number(day: date) -> int:
    return day.year * 4 + (day.month - 1) // 3


def plans_side_by_side(page: int, today: date, per_page: int = 25) -> Page[CompanyPlanRow]:
    """Every company with its plan's figures, the furthest behind first: three grouped queries."""
    ended = PlanItem.target_year * 4 + PlanItem.target_quarter - 1 < quarter_number(today)
    planned = dict((row[0], row[1:]) for row in db.session.execute(
        select(TrainingPlan.company_id, TrainingPlan.id, func.sum(PlanItem.planned_minutes),
               func.sum(case((ended, PlanItem.planned_minutes), else_=0)))
        .outerjoin(PlanItem, PlanItem.plan_id == TrainingPlan.id)
        .group_by(TrainingPlan.company_id, TrainingPlan.id)
    ))
    completed = dict((row[0], row[1:]) for row in db.session.execute(
        select(TrainingPlan.company_id, func.sum(HoursEntry.minutes), func.sum(case((ended, HoursEntry.minutes), else_=0)))
        .join(PlanItem, PlanItem.plan_id == TrainingPlan.id)
        .join(Booking, Booking.plan_item_id == PlanItem.id)
        .join(Attendance, Attendance.booking_id == Booking.id)
        .join(HoursEntry, HoursEntry.attendance_id == Attendance.id)
        .where(Booking.status != BookingStatus.WAITLISTED)
        .group_by(TrainingPlan.company_id)
    ))
    rows = [
        CompanyPlanRow(
            company_id, name, planned.get(company_id, (None,))[0],
            int(planned.get(company_id, (None, 0, 0))[1] or 0), int(planned.get(company_id, (None, 0, 0))[2] or 0),
            int(completed.get(company_id, (0, 0))[0] or 0), int(completed.get(company_id, (0, 0))[1] or 0),
        )
        for company_id, name in db.session.execute(select(Company.id, Company.name).order_by(Company.name))
    ]
    rows.sort(key=lambda row: (-row.behind_minutes, row.company))
    total = len(rows)
    page = min(max(page, 1), max((total + per_page - 1) // per_page, 1))
    return Page(items=rows[(page - 1) * per_page:page * per_page], page=page, per_page=per_page, total=total)
