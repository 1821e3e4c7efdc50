"""The register's one form: a person's attendance at a meeting."""
from flask_wtf import FlaskForm

from portal.blueprints.fields import SelectField
from portal.models import AttendanceStatus


class MarkForm(FlaskForm):
    status = SelectField(choices=[status.value for status in AttendanceStatus])
