"""The funder's figures: individuals reached and hours delivered, with their breakdowns, aggregated in SQL.

Every figure is over counted hours (figures.counted_hours) dated within the period. An individual counts
once in a row however many entries they have there; one person can appear in several rows of a
breakdown (two months, two courses), so rows need not add up to the headline figures.

The whole programme's figures (no period, region or company) read the programme's totals, a few rows per
key (models.hours.HoursTotal). A region's or a company's read the hours tallies (services/tallies.py), one
row per person and key; with a period they sum the entries of its days the same way. Either way the SQL
is the same shape.
"""
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import Select, Subquery, distinct, func, select, true

from portal.extensions import db
from portal.i18n import swedish_order
from portal.models import (
    Company, CompetenceArea, Course, Delivery, Employee, EmploymentStatus,
    Gender, HoursEntry, HoursTally, Municipality, PlanItem, Provider, Region, TallyDimension, TrainingPlan,
)
from portal.services import tallies
from portal.services.figures import counted_hours, pending_hours
from portal.services.overview import current_programme


@dataclass(frozen=True)
class ReportFilters:
    period_from: date | None = None
    period_to: date | None = None
    region_id: int | None = None
    company_id: int | None = None


@dataclass(frozen=True)
class Row:
    """One row of a breakdown. `key` identifies it (an id, a category or a month); None is "no course"."""

    key: object
    label: str
    individuals: int
    minutes: int


SHOWN_ROWS = 25


@dataclass(frozen=True)
class Breakdown:
    name: str  # a stable identifier: company, provider, course, area, delivery, gender, status, age, month
    title: str  # "By company"
    column: str  # "Company": the heading of the rows' labels, and the sheet's name in an export
    rows: list[Row]
    note: str = ""

    def __post_init__(self) -> None:
        # Labels are read in the language of the moment the report is made, not of whenever they are shown.
        for name in ("title", "column", "note"):
            object.__setattr__(self, name, str(getattr(self, name)))

    def shown(self) -> list[Row]:
        """The rows a page shows: all of them, or, when there are more, the SHOWN_ROWS with the most
        hours (a national programme has thousands of courses; the downloads hold every row)."""
        limit = SHOWN_ROWS
        if len(self.rows) <= limit:
            return self.rows
        return sorted(self.rows, key=lambda row: (-row.minutes, -row.individuals))[:limit]

    @property
    def max_minutes(self) -> int:
        return max((row.minutes for row in self.rows), default=0)

    @property
    def max_individuals(self) -> int:
        return max((row.individuals for row in self.rows), default=0)


@dataclass(frozen=True)
class Report:
    filters: ReportFilters
    individuals: int
    minutes: int
    sessions: int
    pending_minutes: int  # manual entries not yet verified: reported apart, never counted
    pending_entries: int
    breakdowns: list[Breakdown]
    target_individuals: int | None = None  # the programme's, for the whole programme
    target_hours: int | None = None
    planned_minutes: int | None = None  # the company's plan, when the report is one company's
    by_name: dict[str, Breakdown] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {b.name: b for b in self.breakdowns})

    @property
    def minutes_per_individual(self) -> float:
        return self.minutes / self.individuals if self.individuals else 0.0

    def breakdown(self, name: str) -> Breakdown:
        return self.by_name[name]

    def progress(self, programme_targets: bool = True) -> list["Progress"]:
        """Bars toward the targets that are set: the programme's (for the whole programme), the plan's hours."""
        bars = []
        if programme_targets and self.target_individuals:
            bars.append(Progress("individuals", _l("Individuals reached"), self.individuals, self.target_individuals))
        if programme_targets and self.target_hours:
            bars.append(Progress("hours", _l("Training hours"), self.minutes / 60, self.target_hours))
        if self.planned_minutes:
            bars.append(Progress("plan", _l("All training hours against the plan's hours"), self.minutes / 60,
                                 self.planned_minutes / 60))
        return bars


@dataclass(frozen=True)
class Progress:
    name: str
    label: str
    value: float
    target: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", str(self.label))

    @property
    def share(self) -> float:
        return self.value / self.target if self.target else 0.0


GENDER_LABELS = {
    Gender.WOMAN: lazy_pgettext("gender", "Woman"), Gender.MAN: lazy_pgettext("gender", "Man"),
    Gender.OTHER: lazy_pgettext("gender", "Other"), Gender.NOT_STATED: lazy_pgettext("gender", "Not stated"),
}
STATUS_LABELS = {
    EmploymentStatus.EMPLOYED: lazy_pgettext("status", "Employed"),
    EmploymentStatus.FURLOUGHED: lazy_pgettext("status", "Furloughed"),
    EmploymentStatus.NOTICE: lazy_pgettext("status", "Given notice"),
}
DELIVERY_LABELS = {Delivery.IN_PERSON: _l("In person"), Delivery.DIGITAL: _l("Digital")}
AGE_NOT_STATED = "not_stated"


def _age_band(first: int, following: int | None) -> tuple[str, str]:
    """A band's key in the breakdown and its label, from its first age and the next band's."""
    if following is None:
        return f"{first}_over", _l("%(age)s and over", age=first)
    if first == 0:
        return f"under_{following}", _l("Under %(age)s", age=following)
    return f"{first}_{following - 1}", f"{first}–{following - 1}"


# Age in the year of the entry, by the bands the tallies keep: {the tally key: (key, label)}
AGE_BANDS = {first: _age_band(first, following) for first, following in pairwise([*tallies.AGE_BANDS, None])}
NO_COURSE = _l("No course")
NO_AREA = _l("None")


def region_choices() -> list[tuple[int, str]]:
    return [tuple(row) for row in db.session.execute(select(Region.id, Region.name))]


def company_choices() -> list[tuple[int, str]]:
    return [tuple(row) for row in db.session.execute(select(Company.id, Company.name))]


def _has_period(filters: ReportFilters) -> bool:
    return filters.period_from is not None or filters.period_to is not None


def _whole_programme(filters: ReportFilters) -> bool:
    return not _has_period(filters) and filters.region_id is None and filters.company_id is None


def _in_period(filters: ReportFilters) -> list:
    where = []
    if filters.period_from is not None:
        where.append(HoursEntry.entry_date >= filters.period_from)
    if filters.period_to is not None:
        where.append(HoursEntry.entry_date <= filters.period_to)
    return where


def _in_companies(filters: ReportFilters, company_id) -> list:
    """The company and region filters, both where both are given: a company outside the region has no
    figures in it."""
    conditions = []
    if filters.company_id is not None:
        conditions.append(company_id == filters.company_id)
    if filters.region_id is not None:
        conditions.append(company_id.in_(
            select(Company.id).join(Municipality, Municipality.id == Company.municipality_id)
            .where(Municipality.region_id == filters.region_id)
        ))
    return conditions


def _counted_entries(filters: ReportFilters):
    """Counted hours entries in the filters (person, minutes, session), as a subquery."""
    return (
        select(HoursEntry.employee_id, HoursEntry.minutes, HoursEntry.session_id)
        .join(Employee, Employee.id == HoursEntry.employee_id)
        .where(counted_hours(), *_in_period(filters), *_in_companies(filters, Employee.company_id))
        .subquery("entries")
    )


def _per_person(filters: ReportFilters, dimension: TallyDimension) -> Subquery:
    """(employee_id, company_id, key, minutes): each person's counted minutes per key in the filters.

    Without a period, that is what the tallies hold; a period needs the entries of its days, summed here.
    """
    if _has_period(filters):
        statement = tallies.summed(dimension, *_in_period(filters), *_in_companies(filters, Employee.company_id))
    else:
        statement = select(
            HoursTally.employee_id, HoursTally.company_id, HoursTally.key, HoursTally.minutes,
        ).where(HoursTally.dimension == dimension, *_in_companies(filters, HoursTally.company_id))
    return statement.subquery(str(dimension))


def _per_key(filters: ReportFilters, dimension: TallyDimension) -> Subquery:
    """(key, individuals, minutes) of each key of the dimension in the filters; the person dimension's keys
    are the companies. A person has one row per key, so the rows of a key are its people: counted from the
    rows in the filters, or, for the whole programme, summed from its totals."""
    if _whole_programme(filters):
        return tallies.totals(dimension)
    per_person = _per_person(filters, dimension)
    key = per_person.c.company_id if dimension == TallyDimension.PERSON else per_person.c.key
    return (
        select(key.label("key"), func.count().label("individuals"), func.sum(per_person.c.minutes).label("minutes"))
        .group_by(key).subquery(f"{dimension}_per_key")
    )


def _figures(per_key: Subquery) -> tuple:
    return per_key.c.individuals, per_key.c.minutes


def _rows(statement: Select) -> list[tuple]:
    """(key..., individuals, minutes) rows of a grouped statement, sums as plain ints."""
    return [(*row[:-2], int(row[-2]), int(row[-1] or 0)) for row in db.session.execute(statement)]


def programme_report(filters: ReportFilters) -> Report:
    """Headline figures, every breakdown, and progress to the targets: about a dozen queries, whatever the data."""
    companies = _per_key(filters, TallyDimension.PERSON)
    people_total = select(
        func.coalesce(func.sum(companies.c.individuals), 0).label("individuals"),
        func.coalesce(func.sum(companies.c.minutes), 0).label("minutes"),
    ).subquery("people_total")
    # Pending entries are few and indexed; the roster is read only to filter by company.
    in_companies = _in_companies(filters, Employee.company_id)
    pending_total = select(
        func.coalesce(func.sum(HoursEntry.minutes), 0).label("minutes"), func.count().label("entries"),
    ).where(pending_hours(), *_in_period(filters))
    if in_companies:
        pending_total = pending_total.join(Employee, Employee.id == HoursEntry.employee_id).where(*in_companies)
    pending_total = pending_total.subquery("pending_total")
    session_count = select(func.count()).select_from(_per_key(filters, TallyDimension.SESSION))
    individuals, minutes, pending_minutes, pending_entries, sessions_run = db.session.execute(
        select(people_total.c.individuals, people_total.c.minutes, pending_total.c.minutes, pending_total.c.entries,
               session_count.scalar_subquery())
        .select_from(people_total.join(pending_total, true()))
    ).one()

    programme = current_programme()
    return Report(
        filters=filters, individuals=int(individuals), minutes=int(minutes), sessions=sessions_run,
        pending_minutes=int(pending_minutes), pending_entries=pending_entries,
        breakdowns=[
            _by_company(companies),
            _by_provider(_per_key(filters, TallyDimension.PROVIDER)),
            _by_course(_per_key(filters, TallyDimension.COURSE)),
            _by_area(_per_key(filters, TallyDimension.AREA)),
            _by_delivery(_per_key(filters, TallyDimension.DELIVERY)),
            *_by_gender_and_status(_per_person(filters, TallyDimension.PERSON)),
            _by_age(_per_key(filters, TallyDimension.AGE)),
            _by_month(_per_key(filters, TallyDimension.MONTH)),
        ],
        target_individuals=programme.target_individuals if programme else None,
        target_hours=programme.target_hours if programme else None,
        planned_minutes=_planned_minutes(filters.company_id) if filters.company_id is not None else None,
    )


def _by_company(companies: Subquery) -> Breakdown:
    rows = _rows(
        select(Company.id, Company.name, *_figures(companies)).join(companies, companies.c.key == Company.id)
    )
    return Breakdown("company", _l("By company"), _l("Company"), _sorted_rows(rows))


def _by_provider(providers: Subquery) -> Breakdown:
    # Key 0 (hours without a course) finds no provider: the row without one.
    rows = _rows(
        select(Provider.id, Provider.name, *_figures(providers))
        .select_from(providers).outerjoin(Provider, Provider.id == providers.c.key)
    )
    return Breakdown("provider", _l("By provider"), _l("Provider"), _sorted_rows(rows, none_label=NO_COURSE))


def _by_course(courses: Subquery) -> Breakdown:
    rows = _rows(
        select(Course.id, Course.title, Provider.name, *_figures(courses))
        .select_from(courses)
        .outerjoin(Course, Course.id == courses.c.key)
        .outerjoin(Provider, Provider.id == Course.provider_id)
    )
    # Two providers may give courses the same title: the provider tells them apart.
    named = [(key, f"{title} ({provider})" if key is not None else None, n, m) for key, title, provider, n, m in rows]
    return Breakdown("course", _l("By course"), _l("Course"), _sorted_rows(named, none_label=NO_COURSE))


def _by_area(areas: Subquery) -> Breakdown:
    rows = _rows(
        select(CompetenceArea.id, CompetenceArea.name_sv, CompetenceArea.name_en, *_figures(areas))
        .select_from(areas).outerjoin(CompetenceArea, CompetenceArea.id == areas.c.key)
    )
    english = str(get_locale()) == "en"
    named = [(key, (en if english else sv) if key is not None else None, n, m) for key, sv, en, n, m in rows]
    return Breakdown(
        "area", _l("By competence area"), _l("Competence area"), _sorted_rows(named, none_label=NO_AREA),
        note=_l("Hours of a course with several competence areas count in each of its areas."),
    )


def _by_delivery(deliveries: Subquery) -> Breakdown:
    by_key = {key: delivery for delivery, key in tallies.DELIVERY_KEYS.items()}
    found = {str(by_key[key]): (n, m) for key, n, m in _rows(select(deliveries))}
    return Breakdown("delivery", _l("By format"), _l("Format"), _fixed_rows(found, DELIVERY_LABELS))


def _by_gender_and_status(people: Subquery) -> tuple[Breakdown, Breakdown]:
    """Both from one pass over the people: each has one gender and one status, so the groups of the
    pairs add up exactly to each."""
    genders: dict[str, tuple[int, int]] = {}
    statuses: dict[str, tuple[int, int]] = {}
    roster = _with_employee(people)
    pairs = (
        select(roster.c.gender, roster.c.employment_status, func.count(), func.sum(roster.c.minutes))
        .group_by(roster.c.gender, roster.c.employment_status)
    )
    for gender, status, n, m in _rows(pairs):
        for found, key in ((genders, str(gender)), (statuses, str(status))):
            before = found.get(key, (0, 0))
            found[key] = (before[0] + n, before[1] + m)
    return (
        Breakdown("gender", _l("By gender"), _l("Gender"), _fixed_rows(genders, GENDER_LABELS)),
        Breakdown("status", _l("By employment status"), _l("Employment status"), _fixed_rows(statuses, STATUS_LABELS),
                  note=_l("Employment status as the roster has it now.")),
    )


def _by_age(ages: Subquery) -> Breakdown:
    # A tally's key is its band's first age: someone whose training spans a birthday within a band is one row.
    bands = {first: key for first, (key, _) in AGE_BANDS.items()} | {tallies.AGE_NOT_STATED_KEY: AGE_NOT_STATED}
    found = {bands[key]: (n, m) for key, n, m in _rows(select(ages))}
    labels = dict(AGE_BANDS.values()) | {AGE_NOT_STATED: lazy_pgettext("gender", "Not stated")}
    return Breakdown("age", _l("By age band"), _l("Age band"), _fixed_rows(found, labels),
                     note=_l("Age in the year of the training."))


def _by_month(months: Subquery) -> Breakdown:
    found = {divmod(key, 100): (n, m) for key, n, m in _rows(select(months))}
    rows = [
        Row(f"{year:04d}-{month:02d}", f"{year:04d}-{month:02d}", *found.get((year, month), (0, 0)))
        for year, month in _months(min(found, default=None), max(found, default=None))
    ]
    return Breakdown("month", _l("By month"), _l("Month"), rows)


def _with_employee(people: Subquery) -> Subquery:
    """The people's rows with their roster data, for breakdowns by what the roster says of them."""
    return (
        select(people.c.employee_id, people.c.minutes, Employee.gender, Employee.employment_status)
        .join(Employee, Employee.id == people.c.employee_id).subquery("with_employee")
    )


def _months(first: tuple[int, int] | None, last: tuple[int, int] | None) -> Iterator[tuple[int, int]]:
    """Every month from the first to the last, so months without hours show as empty."""
    if first is None or last is None:
        return
    year, month = first
    while (year, month) <= last:
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _fixed_rows(found: dict[str, tuple[int, int]], labels: dict) -> list[Row]:
    """Every category in its set order, with zeros where no one is, so tables keep their shape."""
    return [Row(str(key), str(label), *found.get(str(key), (0, 0))) for key, label in labels.items()]


def _sorted_rows(rows: list[tuple], none_label=None) -> list[Row]:
    """Rows by name in Swedish order; the row without a value (no course) last."""
    named = sorted((r for r in rows if r[0] is not None), key=lambda r: (swedish_order(r[1]), r[0]))
    result = [Row(key, label, n, m) for key, label, n, m in named]
    result += [Row(None, str(none_label), n, m) for key, _, n, m in rows if key is None]
    return result


def _planned_minutes(company_id: int) -> int | None:
    """Hours the company's latest plan plans, or None without a plan."""
    latest = (
        select(TrainingPlan.id).where(TrainingPlan.company_id == company_id)
        .order_by(TrainingPlan.period_start.desc()).limit(1).scalar_subquery()
    )
    plan_id, planned = db.session.execute(
        select(TrainingPlan.id, func.coalesce(func.sum(PlanItem.planned_minutes), 0))
        .outerjoin(PlanItem, PlanItem.plan_id == TrainingPlan.id)
        .where(TrainingPlan.id == latest)
        .group_by(TrainingPlan.id)
    ).first() or (None, None)
    return int(planned) if plan_id is not None else None


@dataclass(frozen=True)
class Participant:
    employee_id: int
    name: str
    company: str
    minutes: int
    sessions: int
    employment_status: EmploymentStatus
    erased: bool


def participants(filters: ReportFilters, batch: int = 500) -> Iterator[Participant]:
    """One row per employee with counted hours in the filters, by company and name, fetched in batches.
    Gender and birth year are not among them: they serve the breakdowns, as totals only."""
    entries = _counted_entries(filters)
    statement = (
        select(
            Employee.id, Employee.first_name, Employee.last_name, Company.name,
            func.sum(entries.c.minutes), func.count(distinct(entries.c.session_id)),
            Employee.employment_status, Employee.erased_at,
        )
        .join(Employee, Employee.id == entries.c.employee_id)
        .join(Company, Company.id == Employee.company_id)
        .group_by(
            Employee.id, Employee.first_name, Employee.last_name, Company.name,
            Employee.employment_status, Employee.erased_at,
        )
        .order_by(Company.name, Employee.last_name, Employee.first_name, Employee.id)
        .execution_options(yield_per=batch)
    )
    for employee_id, first, last, company, minutes, sessions, status, erased_at in db.session.execute(statement):
        yield Participant(employee_id, f"{first} {last}", company, int(minutes), sessions, status, erased_at is not None)
