"""Forms for restrictions: recording one, a new group size from a date, lifting it; the programme's rescheduling settings."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, DateField, HiddenField, IntegerField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.blueprints.fields import SelectMultipleField
from portal.blueprints.provider.forms import MultiCheckboxField
from portal.blueprints.validators import clean_text, count_seen, optional_int, within_years
from portal.extensions import db
from portal.i18n import swedish_order
from portal.models import Municipality, Region, RestrictionScope
from portal.services.restrictions import RestrictionData

SCOPE_LABELS = {
    RestrictionScope.COUNTRY: _l("The whole country"),
    RestrictionScope.REGIONS: _l("Regions"),
    RestrictionScope.MUNICIPALITIES: _l("Municipalities"),
}
GROUP_SIZE_HINT = _l("Leave empty if no in-person meetings are allowed at all.")


class ConfirmedImpact:
    """The number of sessions the preview showed; saving goes ahead only if it still holds."""

    confirmed_sessions = HiddenField()

    def confirmed(self) -> int | None:
        return count_seen(self.confirmed_sessions.data)


class RestrictionForm(ConfirmedImpact, FlaskForm):
    scope = RadioField(_l("Where it applies"), default=RestrictionScope.COUNTRY.value, validators=[InputRequired()],
                       choices=[SelectChoice(s.value, label) for s, label in SCOPE_LABELS.items()])
    region_ids = MultiCheckboxField(_l("Regions"), coerce=optional_int, validate_choice=False)
    municipality_ids = SelectMultipleField(_l("Municipalities"), coerce=optional_int, validate_choice=False,
                                           render_kw={"size": 12})
    in_force_from = DateField(_l("In force from"), validators=[InputRequired(_l("Give the day it comes into force.")),
                                                                within_years])
    max_group_size = IntegerField(_l("Largest group in person"), validators=[Optional()],
                                  render_kw={"inputmode": "numeric"})
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)], filters=[clean_text])

    def prepare(self) -> "RestrictionForm":
        regions = db.session.execute(select(Region.id, Region.name)).all()
        self.region_ids.choices = [SelectChoice(i, name) for i, name in sorted(regions, key=lambda r: swedish_order(r[1]))]
        rows = db.session.execute(select(Municipality.id, Municipality.name, Region.name).join(Region)).all()
        grouped: dict[str, list[SelectChoice]] = {}
        for municipality_id, name, region in sorted(rows, key=lambda r: (swedish_order(r[2]), swedish_order(r[1]))):
            grouped.setdefault(region, []).append(SelectChoice(municipality_id, name))
        self.municipality_ids.choices = grouped
        return self

    def data_for_service(self) -> RestrictionData:
        return RestrictionData(
            scope=RestrictionScope(self.scope.data), region_ids=[i for i in self.region_ids.data or [] if i is not None],
            municipality_ids=[i for i in self.municipality_ids.data or [] if i is not None],
            in_force_from=self.in_force_from.data, max_group_size=self.max_group_size.data,
            description=self.description.data or "",
        )


class GroupSizeForm(ConfirmedImpact, FlaskForm):
    effective_from = DateField(_l("From"), validators=[InputRequired(_l("Give the day the new size applies from.")),
                                                       within_years])
    max_group_size = IntegerField(_l("Largest group in person"), validators=[Optional()],
                                  render_kw={"inputmode": "numeric"})


class LiftForm(FlaskForm):
    lifted_on = DateField(_l("Lifted from"), validators=[InputRequired(_l("Give the day it no longer applies.")),
                                                         within_years])


class SettingsForm(FlaskForm):
    notice_days = IntegerField(_l("Notice before new dates (days)"),
                               validators=[InputRequired(_l("Give a number of days.")),
                                           NumberRange(0, 365, _l("Between 0 and 365 days."))],
                               render_kw={"inputmode": "numeric"})
    auto_confirm_reschedule = BooleanField(_l("Confirm proposed dates at once, without the provider"))
