"""Language and formatting: Swedish by default, English on request; dates the Swedish way."""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, session
from flask_babel import Babel, format_date, format_datetime, format_decimal, format_time, get_locale


def select_locale() -> str:
    chosen = session.get("locale") if has_request_context() else None
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def hours(minutes: int | None) -> str:
    """Minutes as hours for people: 90 -> '1,5' in Swedish."""
    return format_decimal((minutes or 0) / 60, format="#,##0.#")


def number(value: int | float | None) -> str:
    return format_decimal(value or 0, format="#,##0.#")


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "d MMM yyyy")
    return format_date(value, "d MMM yyyy")


def moment(value: datetime | None) -> str:
    """A date and time the Swedish way: '3 mars 2026 08:30'."""
    return format_datetime(value, "d MMM yyyy HH:mm") if value else ""


def clock(value: datetime | None) -> str:
    return format_time(value, "HH:mm") if value else ""


# Swedish puts å, ä and ö after z; databases sort them by code point or by their own locale.
_SWEDISH = str.maketrans({"å": "z\u0001", "ä": "z\u0002", "ö": "z\u0003", "é": "e", "ü": "y"})


def swedish_order(text: str) -> str:
    """A sort key that puts names in Swedish alphabetical order (Åmål after Ystad)."""
    return text.casefold().translate(_SWEDISH)


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["PROGRAMME_TIMEZONE"])


def from_local(day: date, at: time) -> datetime:
    """A Swedish wall-clock time as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=local_zone()).astimezone(timezone.utc)


def exists_locally(day: date, at: time) -> bool:
    """False for a wall-clock time skipped when summer time begins (02:00–03:00 one night in March)."""
    local = datetime.combine(day, at, tzinfo=local_zone())
    return local.astimezone(timezone.utc).astimezone(local_zone()).replace(tzinfo=None) == local.replace(tzinfo=None)


def to_local(value: datetime) -> datetime:
    """An aware datetime as naive Swedish wall-clock time, for form inputs."""
    return value.astimezone(local_zone()).replace(tzinfo=None)


def init_i18n(app: Flask, babel: Babel) -> None:
    babel.init_app(app, locale_selector=select_locale)
    for name, function in {"hours": hours, "number": number, "day": day, "moment": moment, "clock": clock}.items():
        app.jinja_env.filters[name] = function

    @app.context_processor
    def _locale():
        return {"current_locale": str(get_locale())}
