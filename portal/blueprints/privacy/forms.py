"""The programme office's privacy forms: the retention setting and the erasure confirmation."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField
from wtforms.validators import DataRequired, NumberRange, Optional

from portal.services.privacy import RETENTION_YEARS


class RetentionForm(FlaskForm):
    retention_years = IntegerField(
        _l("Keep attendance registers for (years)"),
        validators=[Optional(), NumberRange(*RETENTION_YEARS, _l("From %(min)s to %(max)s years, or empty to keep them."))],
        render_kw={"inputmode": "numeric"},
    )


class EraseForm(FlaskForm):
    confirmed = BooleanField(
        _l("I understand that the person's data is erased for good and cannot be brought back"),
        validators=[DataRequired(_l("Tick the box to confirm the erasure."))],
    )
