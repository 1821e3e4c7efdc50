"""The report's filter form. It reads the query string, so every filtered report is a link."""
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from portal.blueprints.fields import SelectField
from portal.blueprints.validators import optional_int, within_years
from portal.i18n import swedish_order
from portal.services.reports import ReportFilters


class ReportFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    period_from = DateField(_l("From"), name="from", validators=[Optional(), within_years],
                            invalid_value_message=_l("Enter a date as YYYY-MM-DD."))
    period_to = DateField(_l("To"), name="to", validators=[Optional(), within_years],
                          invalid_value_message=_l("Enter a date as YYYY-MM-DD."))
    region = SelectField(_l("Region"), coerce=optional_int, default=None,
                         invalid_choice_message=_l("Choose a region from the list."))
    company = SelectField(_l("Company"), coerce=optional_int, default=None,
                          invalid_choice_message=_l("Choose a company from the list."))

    def fill_choices(self, regions: list[tuple[int, str]], companies: list[tuple[int, str]] | None) -> None:
        """Regions and companies to pick from; without companies (HR) the company field is not used."""
        self.region.choices = [SelectChoice("", _l("All regions"))] + [
            SelectChoice(i, name) for i, name in sorted(regions, key=lambda r: swedish_order(r[1]))
        ]
        self.company.choices = [SelectChoice("", _l("All companies"))] + [
            SelectChoice(i, name) for i, name in sorted(companies or [], key=lambda c: swedish_order(c[1]))
        ]
        if companies is None:
            del self.company
            del self.region

    def validate_period_to(self, field) -> None:
        if field.data and self.period_from.data and not self.period_from.errors and field.data < self.period_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def filters(self) -> ReportFilters:
        """What the valid fields ask for: a value with an error is left out and the rest still apply."""
        return ReportFilters(
            period_from=self._valid("period_from"), period_to=self._valid("period_to"),
            region_id=self._valid("region"), company_id=self._valid("company"),
        )

    def query_args(self) -> dict[str, str]:
        """The valid filters as URL arguments, for the download links."""
        filters = self.filters()
        args = {"from": filters.period_from, "to": filters.period_to,
                "region": filters.region_id, "company": filters.company_id}
        return {name: value.isoformat() if isinstance(value, date) else str(value)
                for name, value in args.items() if value is not None}

    def applied(self, own_company: str | None = None) -> list[tuple[str, str]]:
        """What the report covers, in words, for the top of an export; HR's report is its own company's."""
        filters = self.filters()
        covered = [
            (str(_l("From")), filters.period_from.isoformat() if filters.period_from else ""),
            (str(_l("To")), filters.period_to.isoformat() if filters.period_to else ""),
        ]
        if own_company is not None:
            return covered + [(str(_l("Company")), own_company)]
        regions, companies = dict(self._names("region")), dict(self._names("company"))
        return covered + [
            (str(_l("Region")), regions.get(filters.region_id, str(_l("All regions")))),
            (str(_l("Company")), companies.get(filters.company_id, str(_l("All companies")))),
        ]

    def _names(self, name: str) -> list[tuple[int, str]]:
        field = getattr(self, name, None)
        return [(choice.value, str(choice.label)) for choice in field.choices] if field is not None else []

    def _valid(self, name: str):
        field = getattr(self, name, None)
        if field is None or field.errors or field.data in (None, ""):
            return None
        return field.data
