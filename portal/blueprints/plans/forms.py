"""The plan item form: one competence need."""
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DecimalField, IntegerField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.blueprints.fields import SelectField, SelectMultipleField
from portal.blueprints.validators import optional_int, clean_text, finite
from portal.extensions import db
from portal.models import CompetenceArea, Course, Employee, PlanItem, Priority, TrainingPlan
from portal.services.plans import ItemData

PRIORITY_LABELS = {Priority.HIGH: _l("High"), Priority.MEDIUM: _l("Medium"), Priority.LOW: _l("Low")}


class ItemForm(FlaskForm):
    competence_area_id = SelectField(_l("Competence area"), coerce=optional_int)
    course_id = SelectField(_l("Course (optional)"), coerce=optional_int, validate_choice=False)
    employee_ids = SelectMultipleField(_l("Named employees"), coerce=int, validate_choice=False,
                                       widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    head_count = IntegerField(_l("Or how many people"), validators=[Optional(), NumberRange(1, 10000)])
    planned_hours = DecimalField(_l("Planned hours in all"), places=1,
                                 validators=[InputRequired(), finite, NumberRange(1, 10000)])
    target = SelectField(_l("Target quarter"))
    priority = SelectField(_l("Priority"), choices=[SelectChoice(p.value, label) for p, label in PRIORITY_LABELS.items()])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)], filters=[clean_text])

    def prepare(self, plan: TrainingPlan) -> "ItemForm":
        areas = db.session.scalars(select(CompetenceArea).order_by(CompetenceArea.name_sv))
        self.competence_area_id.choices = [SelectChoice(a.id, a.name_sv) for a in areas]
        courses = db.session.scalars(select(Course).where(Course.retired_at.is_(None)).order_by(Course.title))
        self.course_id.choices = [SelectChoice("", _l("Any course in the area"))] + [
            SelectChoice(c.id, c.title) for c in courses
        ]
        people = db.session.execute(
            select(Employee.id, Employee.first_name, Employee.last_name, Employee.job_role)
            .where(Employee.company_id == plan.company_id, Employee.is_active)
            .order_by(Employee.last_name, Employee.first_name)
        )
        self.employee_ids.choices = [SelectChoice(i, f"{first} {last} ({role})" if role else f"{first} {last}")
                                     for i, first, last, role in people]
        self.target.choices = [SelectChoice(f"{y}-{q}", f"{y} K{q}") for y, q in quarters(plan.period_start, plan.period_end)]
        return self

    @classmethod
    def for_item(cls, item: PlanItem) -> "ItemForm":
        return cls(data={
            "competence_area_id": item.competence_area_id, "course_id": item.course_id,
            "employee_ids": [e.id for e in item.employees], "head_count": item.head_count,
            "planned_hours": item.planned_minutes / 60, "target": f"{item.target_year}-{item.target_quarter}",
            "priority": item.priority.value, "note": item.note,
        })

    def item_data(self) -> ItemData:
        year, _, quarter = (self.target.data or "0-0").partition("-")
        return ItemData(
            competence_area_id=self.competence_area_id.data or 0, course_id=self.course_id.data or None,
            employee_ids=list(self.employee_ids.data or []), head_count=self.head_count.data,
            planned_minutes=round(float(self.planned_hours.data) * 60), target_year=int(year), target_quarter=int(quarter),
            priority=Priority(self.priority.data), note=self.note.data or "",
        )


def quarters(start: date, end: date) -> list[tuple[int, int]]:
    found, year, quarter = [], start.year, (start.month - 1) // 3 + 1
    while (year, quarter) <= (end.year, (end.month - 1) // 3 + 1):
        found.append((year, quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return found
