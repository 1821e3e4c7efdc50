"""The catalogue's filter form. It reads the query string, so every filtered list is a link."""
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SearchField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from portal.blueprints.fields import SelectField
from portal.blueprints.layout import FORMAT_LABELS
from portal.blueprints.validators import clean_text, within_years
from portal.models import CourseFormat
from portal.services.search import CatalogueFilters, FilterChoices

class CatalogueFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    q = SearchField(_l("Search courses"), validators=[Optional(), Length(max=100)], filters=[clean_text])
    area = SelectField(_l("Competence area"), default="")
    format = SelectField(_l("Format"), default="")
    region = SelectField(_l("Region"), default="")
    municipality = SelectField(_l("Municipality"), default="")
    date_from = DateField(_l("From"), validators=[Optional(), within_years])
    date_to = DateField(_l("To"), validators=[Optional(), within_years])
    certified = BooleanField(_l("Certified courses only"))
    seats_left = BooleanField(_l("Only sessions with seats left"))

    def fill_choices(self, choices: FilterChoices) -> None:
        for field, everything, pairs in (
            (self.area, _l("All areas"), choices.areas),
            (self.format, _l("All formats"), FORMAT_LABELS.items()),
            (self.region, _l("All regions"), choices.regions),
            (self.municipality, _l("All municipalities"), choices.municipalities),
        ):
            field.choices = [SelectChoice("", everything)] + [SelectChoice(code, name) for code, name in pairs]

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and not self.date_from.errors and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def filters(self) -> CatalogueFilters:
        """What the valid fields ask for: a value with an error is left out and the rest still apply."""
        return CatalogueFilters(
            text=self._valid(self.q) or "",
            area=self._valid(self.area),
            format=CourseFormat(self.format.data) if self._valid(self.format) else None,
            region=self._valid(self.region),
            municipality=self._valid(self.municipality),
            date_from=self._valid(self.date_from),
            date_to=self._valid(self.date_to),
            certified=bool(self._valid(self.certified)),
            seats_left=bool(self._valid(self.seats_left)),
        )

    @staticmethod
    def _valid(field) -> str | date | bool | None:
        return field.data if field.data and not field.errors else None
