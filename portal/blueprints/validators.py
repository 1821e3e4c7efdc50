"""Checks and clean-ups every form shares, so typed nonsense gets a message instead of a crash."""
from flask_babel import lazy_gettext as _l
from wtforms.validators import StopValidation, ValidationError

from portal.i18n import exists_locally
from portal.models.types import MAX_ID

# Dates outside these years are typing mistakes, and far outside they cannot be turned into times.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def within_years(form, field) -> None:
    if field.data and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise StopValidation(
            _l("Enter a date between the years %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)
        )


def finite(form, field) -> None:
    """Refuse NaN and infinity before a range check tries to compare them."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation(_l("Enter a number."))


def clean_text(value: str | None) -> str | None:
    # A NUL character is never meant, and PostgreSQL refuses it in a query.
    return value.replace("\x00", "").strip() if value else value


def existing_local_time(day_field_name: str):
    """The clock time must exist on that day in Sweden (not in the hour skipped when summer time begins)."""

    def check(form, field) -> None:
        day = form[day_field_name].data
        if day and field.data and not form[day_field_name].errors and not exists_locally(day, field.data):
            raise ValidationError(_l("That time does not exist on this day: the clocks move forward an hour."))

    return check


def optional_int(value):
    """A select's coerce for an optional id: empty is None, anything not an id matches no choice."""
    if value in (None, "", "None"):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return -1
    return number if 0 < number <= MAX_ID else -1


def count_seen(value: str | None) -> int | None:
    """A count a page showed and a form sends back (plain ASCII digits, not too many); None otherwise."""
    value = value or ""
    return int(value) if value.isascii() and value.isdigit() and len(value) < 7 else None
