"""Company training plans: the plan for the programme period, its items, and their progress."""
from dataclasses import dataclass, field
from functools import cache

from flask_babel import force_locale, gettext as _
from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.orm import joinedload, selectinload

from portal.extensions import db
from portal.models import (
    Booking, BookingStatus, CompetenceArea, Course, Employee, HoursTally, Meeting,
    PlanItem, Priority, Programme, TallyDimension, TrainingPlan, User,
)
from portal.models.plans import plan_item_employees
from portal.models.types import utcnow
from portal.services import DomainError, InvalidInput, audit
from portal.services.figures import minutes_between

LIVE = (BookingStatus.BOOKED, BookingStatus.WAITLISTED)


@dataclass
class ItemData:
    competence_area_id: int
    planned_minutes: int
    target_year: int
    target_quarter: int
    priority: Priority = Priority.MEDIUM
    course_id: int | None = None
    employee_ids: list[int] = field(default_factory=list)
    head_count: int | None = None
    note: str = ""


def plan_of(company_id: int) -> TrainingPlan | None:
    return db.session.scalars(
        select(TrainingPlan).where(TrainingPlan.company_id == company_id).order_by(TrainingPlan.period_start.desc())
    ).first()


def create_plan(actor: User, programme: Programme) -> TrainingPlan:
    """The company's plan for the programme period; one per company and period."""
    if plan_of(actor.company_id) is not None:
        raise DomainError(_("Your company already has a training plan for the programme period."))
    with force_locale("sv"):  # a plan's title is data, kept in the programme's language
        title = _("Training plan %(start)s–%(end)s", start=programme.period_start.year, end=programme.period_end.year)
    plan = TrainingPlan(
        company_id=actor.company_id, period_start=programme.period_start, period_end=programme.period_end, title=title,
    )
    db.session.add(plan)
    db.session.flush()
    audit.record(actor, "plan.created", "plan", plan.id, company_id=plan.company_id)
    return plan


def add_item(plan: TrainingPlan, actor: User, data: ItemData) -> PlanItem:
    _check_own(plan, actor)
    item = PlanItem()
    _apply(item, plan, data)
    plan.items.append(item)
    db.session.flush()
    audit.record(actor, "plan.item_added", "plan", plan.id, company_id=plan.company_id, item_id=item.id)
    return item


def update_item(item: PlanItem, actor: User, data: ItemData) -> PlanItem:
    _check_own(item.plan, actor)
    _apply(item, item.plan, data)
    db.session.flush()
    audit.record(actor, "plan.item_updated", "plan", item.plan_id, company_id=item.plan.company_id, item_id=item.id)
    return item


def remove_item(item: PlanItem, actor: User) -> TrainingPlan:
    """Remove a need; bookings made for it stay, no longer counted toward it."""
    plan = item.plan
    _check_own(plan, actor)
    audit.record(actor, "plan.item_removed", "plan", plan.id, company_id=plan.company_id, item_id=item.id)
    db.session.delete(item)
    db.session.flush()
    return plan


def _check_own(plan: TrainingPlan, actor: User) -> None:
    if plan.company_id != actor.company_id:
        raise DomainError(_("Only the company's own HR can change its plan."))


def _apply(item: PlanItem, plan: TrainingPlan, data: ItemData) -> None:
    errors = {}
    area = db.session.get(CompetenceArea, data.competence_area_id)
    if area is None:
        errors["competence_area_id"] = _("Choose a competence area from the list.")
    course = db.session.get(Course, data.course_id) if data.course_id else None
    if data.course_id and (course is None or area is None or area not in course.competence_areas):
        errors["course_id"] = _("Choose a course in the competence area, or none.")
    ids = set(data.employee_ids)
    employees = list(db.session.scalars(
        select(Employee).where(Employee.id.in_(ids), Employee.company_id == plan.company_id, Employee.is_active)
    )) if ids else []
    if len(employees) != len(ids):
        errors["employee_ids"] = _("Choose active employees of your own company.")
    if not ids and not data.head_count:
        errors["head_count"] = _("Name the employees, or give how many people need it.")
    if not 1 <= data.planned_minutes <= 10000 * 60:
        errors["planned_hours"] = _("Planned hours must be between 1 and 10,000.")
    quarter_start = (data.target_year, data.target_quarter)
    first = (plan.period_start.year, (plan.period_start.month - 1) // 3 + 1)
    last = (plan.period_end.year, (plan.period_end.month - 1) // 3 + 1)
    if not 1 <= data.target_quarter <= 4 or not first <= quarter_start <= last:
        errors["target"] = _("Choose a quarter within the plan's period.")
    if errors:
        raise InvalidInput(errors)
    item.competence_area_id = data.competence_area_id
    item.course_id = course.id if course else None
    item.employees = sorted(employees, key=lambda e: e.id)
    item.head_count = None if employees else data.head_count
    item.planned_minutes = data.planned_minutes
    item.target_year, item.target_quarter = data.target_year, data.target_quarter
    item.priority = data.priority
    item.note = data.note.strip()


@dataclass(frozen=True)
class ItemProgress:
    item: PlanItem
    planned_minutes: int
    booked_minutes: int  # booked meetings still to come
    completed_minutes: int  # attended
    unbooked: list[str]  # named employees with no booking for the need yet

    @property
    def done_share(self) -> float:
        return min(self.completed_minutes / self.planned_minutes, 1.0) if self.planned_minutes else 0.0


@dataclass(frozen=True)
class PlanProgress:
    plan: TrainingPlan
    items: list[ItemProgress]

    @property
    def planned_minutes(self) -> int:
        return sum(i.planned_minutes for i in self.items)

    @property
    def booked_minutes(self) -> int:
        return sum(i.booked_minutes for i in self.items)

    @property
    def completed_minutes(self) -> int:
        return sum(i.completed_minutes for i in self.items)


def progress(plan: TrainingPlan, *, people: bool = True) -> PlanProgress:
    """Planned, booked (coming meetings) and completed (attended) hours per item: two queries; with
    `people`, as the plan page shows them, each item's named employees and those not booked yet: two more."""
    options = [joinedload(PlanItem.competence_area), joinedload(PlanItem.course)]
    items = list(db.session.scalars(
        select(PlanItem).where(PlanItem.plan_id == plan.id)
        .options(*options, *([selectinload(PlanItem.employees)] if people else []))
        .order_by(PlanItem.target_year, PlanItem.target_quarter, PlanItem.id)
    ))
    ids = [item.id for item in items]
    minutes, unbooked = _booked_and_completed(plan.company_id, ids), _unbooked_named(ids) if people else {}
    return PlanProgress(plan, [
        ItemProgress(item, item.planned_minutes, *minutes.get(item.id, (0, 0)), unbooked.get(item.id, []))
        for item in items
    ])


def _booked_and_completed(company_id: int, item_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Each item's minutes booked (its people per session times the minutes of that session's
    meetings still to come) and completed (their session tallies: the minutes their attended
    meetings of it gave), from one pass over the items' bookings. The company's session tallies are
    joined together (its index holds them), and the coming minutes read per session booked."""
    if not item_ids:
        return {}
    rows = db.session.execute(_minutes_statement(db.session.get_bind().dialect.name),
                              {"company_id": company_id, "item_ids": item_ids, "now": utcnow()})
    return {item_id: (round(minutes or 0), int(completed or 0)) for item_id, minutes, completed in rows}


@cache
def _minutes_statement(dialect: str) -> Select:
    """Built once (every HR start page runs it), with the company, the items and the time bound per call."""
    company_id, now = bindparam("company_id"), bindparam("now", type_=Meeting.starts_at.type)
    booked = (
        select(Booking.plan_item_id, Booking.session_id, func.count().label("people"),
               func.coalesce(func.sum(HoursTally.minutes), 0).label("completed"))
        .outerjoin(HoursTally, and_(
            HoursTally.employee_id == Booking.employee_id, HoursTally.dimension == TallyDimension.SESSION,
            HoursTally.key == Booking.session_id, HoursTally.company_id == company_id,
        ))
        .where(Booking.plan_item_id.in_(bindparam("item_ids", expanding=True)), Booking.status == BookingStatus.BOOKED)
        .group_by(Booking.plan_item_id, Booking.session_id)
        .subquery()
    )
    coming = (
        select(func.coalesce(func.sum(minutes_between(Meeting.starts_at, Meeting.ends_at, dialect)), 0))
        .where(Meeting.session_id == booked.c.session_id, Meeting.starts_at > now)
        .scalar_subquery()
    )
    return (
        select(booked.c.plan_item_id, func.sum(booked.c.people * coming), func.sum(booked.c.completed))
        .group_by(booked.c.plan_item_id)
    )


def _unbooked_named(item_ids: list[int]) -> dict[int, list[str]]:
    if not item_ids:
        return {}
    has_booking = (
        select(Booking.id)
        .where(Booking.plan_item_id == plan_item_employees.c.plan_item_id,
               Booking.employee_id == plan_item_employees.c.employee_id, Booking.status.in_(LIVE))
        .exists()
    )
    rows = db.session.execute(
        select(plan_item_employees.c.plan_item_id, Employee.first_name, Employee.last_name)
        .join(Employee, Employee.id == plan_item_employees.c.employee_id)
        .where(plan_item_employees.c.plan_item_id.in_(item_ids), ~has_booking)
        .order_by(Employee.last_name, Employee.first_name)
    )
    found: dict[int, list[str]] = {}
    for item_id, first, last in rows:
        found.setdefault(item_id, []).append(f"{first} {last}")
    return found
