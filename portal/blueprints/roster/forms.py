"""Forms for the roster: one employee, the list's filters, and a CSV file to import."""
import base64
import binascii

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, HiddenField, IntegerField, SearchField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from portal.blueprints.fields import SelectField
from portal.blueprints.layout import STATUS_LABELS
from portal.blueprints.validators import clean_text
from portal.models import EmploymentStatus, Gender
from portal.services.roster import FIELD_LABELS, EmployeeData
from portal.services.roster_import import MAX_BYTES
from portal.services.roster_views import Shown

GENDER_LABELS = {
    "woman": lazy_pgettext("gender", "Woman"),
    "man": lazy_pgettext("gender", "Man"),
    "other": lazy_pgettext("gender", "Other"),
    "not_stated": lazy_pgettext("gender", "Not stated"),
}


def gender_label(value) -> str:
    return str(GENDER_LABELS.get(str(value), str(value)))


class EmployeeForm(FlaskForm):
    # Lengths, the email's form and the birth year's range are the roster service's rules.
    first_name = StringField(FIELD_LABELS["first_name"], filters=[clean_text])
    last_name = StringField(FIELD_LABELS["last_name"], filters=[clean_text])
    email = EmailField(FIELD_LABELS["email"], filters=[clean_text], render_kw={"autocomplete": "off"})
    job_role = StringField(FIELD_LABELS["job_role"], filters=[clean_text])
    employment_status = SelectField(
        FIELD_LABELS["employment_status"], default=EmploymentStatus.EMPLOYED.value,
        choices=[SelectChoice(s.value, STATUS_LABELS[s.value]) for s in EmploymentStatus],
    )
    gender = SelectField(
        FIELD_LABELS["gender"], default=Gender.NOT_STATED.value,
        choices=[SelectChoice(g.value, GENDER_LABELS[g.value]) for g in Gender],
    )
    birth_year = IntegerField(
        FIELD_LABELS["birth_year"], validators=[Optional()], render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )

    @classmethod
    def for_employee(cls, employee):
        return cls(obj=employee, employment_status=employee.employment_status.value, gender=employee.gender.value)

    def data_for_service(self) -> EmployeeData:
        return EmployeeData(
            first_name=self.first_name.data or "", last_name=self.last_name.data or "", email=self.email.data,
            job_role=self.job_role.data or "", employment_status=EmploymentStatus(self.employment_status.data),
            gender=Gender(self.gender.data), birth_year=self.birth_year.data,
        )


class RosterFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    q = SearchField(_l("Search by name, job role or email"), validators=[Optional(), Length(max=100)], filters=[clean_text])
    shown = SelectField(_l("Show"), default=Shown.ACTIVE.value, choices=[
        SelectChoice(Shown.ACTIVE.value, _l("Active employees")),
        SelectChoice(Shown.DEACTIVATED.value, _l("Deactivated employees")),
        SelectChoice(Shown.ALL.value, _l("All employees")),
    ])

    def text(self) -> str:
        return (self.q.data or "") if not self.q.errors else ""

    def status(self) -> Shown:
        return Shown(self.shown.data) if not self.shown.errors else Shown.ACTIVE


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(message=_l("Choose a CSV file."))],
                     render_kw={"accept": ".csv,.txt,text/csv,text/plain"})

    def content(self) -> bytes:
        # One byte past the limit is enough for the import to say the file is too big. A large
        # upload waits in a temporary file; closing it at once frees that.
        with self.file.data.stream as stream:
            return stream.read(MAX_BYTES + 1)


class ConfirmImportForm(FlaskForm):
    """Carries the previewed file back, so the import saves the file that was previewed."""

    content = HiddenField()

    @classmethod
    def carrying(cls, raw: bytes) -> "ConfirmImportForm":
        return cls(formdata=None, content=base64.b64encode(raw).decode("ascii"))

    def raw(self) -> bytes | None:
        try:
            return base64.b64decode(self.content.data or "", validate=True)
        except (binascii.Error, ValueError):
            return None
