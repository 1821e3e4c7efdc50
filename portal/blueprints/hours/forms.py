"""Forms for hours: HR's log of one training, the programme office's filter and its reason to reject."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from wtforms import DateField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.blueprints.fields import SelectField
from portal.blueprints.layout import FORMAT_LABELS
from portal.blueprints.validators import clean_text, optional_int, within_years
from portal.extensions import db
from portal.models import Company, Course, Delivery, Employee, HoursEntry
from portal.services.hours import MAX_DESCRIPTION, MAX_NOTE, MAX_REASON, HoursData

# The service names the time in minutes; the form asks for hours and minutes, and shows the
# service's message next to the hours.
SERVICE_FIELDS = {"minutes": "duration_hours"}


class HoursForm(FlaskForm):
    employee_id = SelectField(_l("Employee"), coerce=optional_int, validate_choice=False)
    # Only the form of each value is checked here; what is missing or breaks a rule the service names,
    # all at once.
    day = DateField(_l("Date"), validators=[Optional(), within_years])
    duration_hours = IntegerField(_l("Hours"), validators=[Optional(), NumberRange(0, 24)],
                                  render_kw={"inputmode": "numeric"})
    duration_minutes = IntegerField(_l("Minutes"), validators=[Optional(), NumberRange(0, 59)],
                                    render_kw={"inputmode": "numeric"})
    course_id = SelectField(_l("Course (optional)"), coerce=optional_int, validate_choice=False)
    description = StringField(_l("Training"), validators=[Length(max=MAX_DESCRIPTION)], filters=[clean_text])
    note = TextAreaField(_l("Note (optional)"), validators=[Length(max=MAX_NOTE)], filters=[clean_text])
    delivery = RadioField(_l("How it was delivered"), default=Delivery.DIGITAL.value, validators=[InputRequired()],
                          choices=[SelectChoice(d.value, FORMAT_LABELS[d.value]) for d in Delivery])

    def prepare(self, company_id: int, entry: HoursEntry | None = None) -> "HoursForm":
        """The company's active employees and the catalogue's courses (and the entry's own, if gone since)."""
        people = db.session.execute(
            select(Employee.id, Employee.first_name, Employee.last_name)
            .where(Employee.company_id == company_id, Employee.erased_at.is_(None),
                   or_(Employee.is_active, Employee.id == (entry.employee_id if entry else None)))
            .order_by(Employee.last_name, Employee.first_name)
        )
        self.employee_id.choices = [SelectChoice("", _l("Choose an employee"))] + [
            SelectChoice(i, f"{last}, {first}") for i, first, last in people
        ]
        courses = db.session.execute(
            select(Course.id, Course.title)
            .where(or_(Course.retired_at.is_(None), Course.id == (entry.course_id if entry else None)))
            .order_by(Course.title, Course.id)
        )
        self.course_id.choices = [SelectChoice("", _l("No course: described below"))] + [
            SelectChoice(i, title) for i, title in courses
        ]
        return self

    @classmethod
    def for_entry(cls, entry: HoursEntry) -> "HoursForm":
        return cls(data={
            "employee_id": entry.employee_id, "day": entry.entry_date, "duration_hours": entry.minutes // 60,
            "duration_minutes": entry.minutes % 60, "course_id": entry.course_id, "description": entry.description,
            "note": entry.note, "delivery": entry.delivery.value,
        })

    def data_for_service(self) -> HoursData:
        return HoursData(
            employee_id=self.employee_id.data, day=self.day.data,
            minutes=(self.duration_hours.data or 0) * 60 + (self.duration_minutes.data or 0),
            course_id=self.course_id.data, description=self.description.data or "", note=self.note.data or "",
            delivery=Delivery(self.delivery.data),
        )


class ReviewFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    company = SelectField(_l("Company"), coerce=optional_int, validate_choice=False)

    def prepare(self) -> "ReviewFilterForm":
        companies = db.session.execute(select(Company.id, Company.name).order_by(Company.name))
        self.company.choices = [SelectChoice("", _l("All companies"))] + [
            SelectChoice(i, name) for i, name in companies
        ]
        return self


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason (HR is told it)"), validators=[Length(max=MAX_REASON)], filters=[clean_text])
