"""The booking form: which employees to book."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import DataRequired

from portal.blueprints.fields import SelectMultipleField


class BookForm(FlaskForm):
    # Any id may come back; the booking service refuses each one that is not the company's own.
    employee_ids = SelectMultipleField(
        _l("Employees"), coerce=int, validate_choice=False,
        validators=[DataRequired(message=_l("Choose one or more employees."))],
    )
