"""Training hours HR logs for self-paced and internal training, and the programme office's verdict.

Logged hours wait for the programme office: verified they count, rejected they do not. Hours from
attended meetings are the provider's record and count at once (services/attendance.py)."""
from dataclasses import dataclass
from datetime import date

from flask_babel import force_locale, gettext as _
from sqlalchemy import func, or_, select

from portal.extensions import db
from portal.i18n import day as format_day
from portal.i18n import hours as format_hours
from portal.i18n import to_local
from portal.models import (
    Company, Course, Delivery, Employee, HoursEntry, HoursSource, Role, User, Verification,
)
from portal.models.types import MAX_ID, utcnow
from portal.services import DomainError, InvalidInput, audit, notifications
from portal.services.figures import counted_hours, pending_hours
from portal.services.locking import lock_employees_alone
from portal.services.overview import current_programme
from portal.services.pagination import Page, paginate_rows
from portal.urls import external_url

MAX_DAY_MINUTES = 24 * 60
MAX_DESCRIPTION, MAX_NOTE, MAX_REASON = 200, 2000, 500


def minutes_on_day(employee_ids: list[int], day: date, except_entry_id: int | None = None) -> dict[int, int]:
    """Each person's minutes on one day that count or wait for a decision (rejected ones do not)."""
    statement = (
        select(HoursEntry.employee_id, func.sum(HoursEntry.minutes))
        .where(
            HoursEntry.employee_id.in_(employee_ids), HoursEntry.entry_date == day,
            or_(counted_hours(), pending_hours()),
        )
        .group_by(HoursEntry.employee_id)
    )
    if except_entry_id is not None:
        statement = statement.where(HoursEntry.id != except_entry_id)
    return {employee_id: int(total or 0) for employee_id, total in db.session.execute(statement)}


def today() -> date:
    """Today in Sweden."""
    return to_local(utcnow()).date()


@dataclass(frozen=True)
class HoursData:
    employee_id: int | None
    day: date | None
    minutes: int | None
    course_id: int | None
    description: str
    note: str
    delivery: Delivery


def log_hours(
    actor: User, employee_id: int | None, day: date | None, minutes: int | None, course_id: int | None,
    description: str, note: str, delivery: Delivery,
) -> HoursEntry:
    """HR logs hours of self-paced or internal training for one of its active employees; they wait
    for the programme office's verification."""
    company_id = _hr_company(actor)
    data = _checked(company_id, HoursData(employee_id, day, minutes, course_id, description, note, delivery))
    entry = HoursEntry(
        employee_id=data.employee_id, company_id=company_id, entry_date=data.day, minutes=data.minutes,
        source=HoursSource.MANUAL,
        course_id=data.course_id, description=data.description, note=data.note, delivery=data.delivery,
        verification=Verification.PENDING, created_by_id=actor.id, created_at=utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    _audit(actor, "hours.logged", entry, company_id, None, Verification.PENDING)
    return entry


def edit_hours(
    entry: HoursEntry, actor: User, employee_id: int | None, day: date | None, minutes: int | None,
    course_id: int | None, description: str, note: str, delivery: Delivery,
) -> HoursEntry:
    """HR changes its own logged hours while they wait for verification."""
    company_id = _hr_company(actor)
    entry = _waiting(entry, company_id, employee_id)
    data = _checked(company_id, HoursData(employee_id, day, minutes, course_id, description, note, delivery), entry)
    changed = [name for name, value in (
        ("employee_id", data.employee_id), ("entry_date", data.day), ("minutes", data.minutes),
        ("course_id", data.course_id), ("description", data.description), ("note", data.note),
        ("delivery", data.delivery),
    ) if getattr(entry, name) != value]
    entry.employee_id, entry.entry_date, entry.minutes = data.employee_id, data.day, data.minutes
    entry.course_id, entry.description, entry.note, entry.delivery = (
        data.course_id, data.description, data.note, data.delivery)
    db.session.flush()
    if changed:
        _audit(actor, "hours.edited", entry, company_id, Verification.PENDING, Verification.PENDING, fields=changed)
    return entry


def delete_hours(entry: HoursEntry, actor: User) -> HoursEntry:
    """HR takes back its own logged hours while they wait for verification; returns what was deleted."""
    company_id = _hr_company(actor)
    entry = _waiting(entry, company_id)
    _audit(actor, "hours.deleted", entry, company_id, Verification.PENDING, None)
    db.session.delete(entry)
    db.session.flush()
    return entry


def changeable(entry: HoursEntry) -> bool:
    """Whether HR may still change or delete the entry: hours it logged, not yet decided."""
    return entry.source == HoursSource.MANUAL and entry.verification == Verification.PENDING


def verify_hours(entry: HoursEntry, actor: User) -> HoursEntry:
    """The programme office accepts logged hours: from now on they count."""
    entry = _to_decide(entry, actor)
    entry.verification, entry.verified_by_id, entry.verified_at = Verification.VERIFIED, actor.id, utcnow()
    db.session.flush()
    _audit(actor, "hours.verified", entry, _company_of(entry), Verification.PENDING, Verification.VERIFIED)
    return entry


def reject_hours(entry: HoursEntry, actor: User, reason: str) -> HoursEntry:
    """The programme office turns logged hours down, saying why; the company's HR is told."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({"reason": _("Give the reason; HR is told it.")})
    if len(reason) > MAX_REASON:
        raise InvalidInput({"reason": _("The reason can be at most %(limit)s characters.", limit=MAX_REASON)})
    entry = _to_decide(entry, actor)
    entry.verification, entry.verified_by_id, entry.verified_at = Verification.REJECTED, actor.id, utcnow()
    entry.rejection_reason = reason
    db.session.flush()
    company_id = _company_of(entry)
    _audit(actor, "hours.rejected", entry, company_id, Verification.PENDING, Verification.REJECTED)
    _tell_rejected(entry, company_id)
    return entry


def _tell_rejected(entry: HoursEntry, company_id: int) -> None:
    employee = db.session.get(Employee, entry.employee_id)
    what = entry.description or (entry.course.title if entry.course else "")
    link = external_url("hours.index")
    with force_locale("sv"):
        title = _("Hours not approved: %(what)s", what=what)
        body = _(
            "The programme office did not approve %(hours)s hours of %(name)s on %(day)s (%(what)s).",
            hours=format_hours(entry.minutes), name=employee.name, day=format_day(entry.entry_date), what=what,
        ) + "\n\n" + _("Reason: %(reason)s", reason=entry.rejection_reason)
    for hr in notifications.hr_users_of({company_id}):
        notifications.notify(hr, "hours.rejected", title, body, link)


def _hr_company(actor: User) -> int:
    if actor.role != Role.HR or actor.company_id is None:
        raise DomainError(_("Only the company's HR logs its hours."))
    return actor.company_id


def _company_of(entry: HoursEntry) -> int:
    return db.session.scalar(select(Employee.company_id).where(Employee.id == entry.employee_id))


def _fresh(entry: HoursEntry, *employee_ids: int | None) -> HoursEntry:
    """The entry read again under the lock of its people, so two decisions never cross."""
    lock_employees_alone(sorted({entry.employee_id, *(i for i in employee_ids if _possible_id(i))}))
    found = db.session.scalars(
        select(HoursEntry).where(HoursEntry.id == entry.id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise DomainError(_("These hours have been removed."))
    return found


def _waiting(entry: HoursEntry, company_id: int, *employee_ids: int | None) -> HoursEntry:
    entry = _fresh(entry, *employee_ids)
    if _company_of(entry) != company_id or entry.source != HoursSource.MANUAL:
        raise DomainError(_("Only the company's HR changes the hours it logged."))
    if not changeable(entry):
        raise DomainError(_("These hours are decided already and can no longer be changed."))
    return entry


def _to_decide(entry: HoursEntry, actor: User) -> HoursEntry:
    if actor.role != Role.PM:
        raise DomainError(_("Only the programme office verifies hours."))
    entry = _fresh(entry)
    if entry.source != HoursSource.MANUAL or entry.verification != Verification.PENDING:
        raise DomainError(_("These hours are decided already."))
    return entry


def _possible_id(value) -> bool:
    return isinstance(value, int) and 0 < value <= MAX_ID


def _checked(company_id: int, data: HoursData, entry: HoursEntry | None = None) -> HoursData:
    """The data tidied, or InvalidInput naming every field that breaks a rule."""
    data = HoursData(
        employee_id=data.employee_id, day=data.day, minutes=data.minutes,
        course_id=data.course_id if data.course_id not in (None, 0) else None,
        description=(data.description or "").strip(), note=(data.note or "").strip(), delivery=data.delivery,
    )
    errors: dict[str, str] = {}
    employee = db.session.get(Employee, data.employee_id) if _possible_id(data.employee_id) else None
    kept = entry is not None and employee is not None and employee.id == entry.employee_id
    if (employee is None or employee.company_id != company_id or employee.erased_at is not None
            or not (employee.is_active or kept)):
        # Another company's employee gets the same answer as one who does not exist.
        errors["employee_id"] = _("Choose one of your company's active employees.")
    if data.day is None:
        errors["day"] = _("Give the date of the training.")
    elif data.day > today():
        errors["day"] = _("Hours can be logged once the training has taken place, not for a future date.")
    else:
        programme = current_programme()
        if programme is not None and data.day < programme.period_start:
            errors["day"] = _("The date is before the programme began (%(day)s).", day=format_day(programme.period_start))
    if data.minutes is None or data.minutes <= 0:
        errors["minutes"] = _("Give the time spent, more than zero.")
    elif data.minutes > MAX_DAY_MINUTES:
        errors["minutes"] = _("At most 24 hours on one day.")
    if data.course_id is not None and (
        not _possible_id(data.course_id) or db.session.get(Course, data.course_id) is None
    ):
        errors["course_id"] = _("Choose a course from the list.")
    if len(data.description) > MAX_DESCRIPTION:
        errors["description"] = _("The description can be at most %(limit)s characters.", limit=MAX_DESCRIPTION)
    elif not data.description and data.course_id is None:
        errors["description"] = _("Describe the training, or choose its course.")
    if len(data.note) > MAX_NOTE:
        errors["note"] = _("The note can be at most %(limit)s characters.", limit=MAX_NOTE)
    if not isinstance(data.delivery, Delivery):
        errors["delivery"] = _("Choose digital or in person.")
    if not errors.keys() & {"employee_id", "day", "minutes"}:
        over = _over_a_day(employee, data, entry)
        if over:
            errors["minutes"] = over
    if errors:
        raise InvalidInput(errors)
    return data


def _over_a_day(employee: Employee, data: HoursData, entry: HoursEntry | None) -> str | None:
    """Why the hours would give the person more than 24 hours that day, or None. Decided under the
    person's lock, so two requests never both find room for the same hours."""
    lock_employees_alone([employee.id])
    already = minutes_on_day([employee.id], data.day, entry.id if entry else None).get(employee.id, 0)
    if already + data.minutes <= MAX_DAY_MINUTES:
        return None
    return _("%(name)s already has %(hours)s hours on %(day)s, and a day holds at most 24.",
             name=employee.name, hours=format_hours(already), day=format_day(data.day))


def _audit(actor: User, action: str, entry: HoursEntry, company_id: int, before, after, **data) -> None:
    audit.record(
        actor, action, "hours_entry", entry.id, company_id=company_id, employee_id=entry.employee_id,
        entry_date=entry.entry_date.isoformat(), minutes=entry.minutes,
        **{"from": str(before) if before else None, "to": str(after) if after else None}, **data,
    )


@dataclass(frozen=True)
class HoursRow:
    entry_id: int
    employee: str
    company: str
    entry_date: date
    minutes: int
    source: HoursSource
    course: str | None
    description: str
    note: str
    delivery: Delivery
    verification: Verification
    rejection_reason: str


def _rows():
    return (
        select(
            HoursEntry.id, Employee.first_name, Employee.last_name, Company.name, HoursEntry.entry_date,
            HoursEntry.minutes, HoursEntry.source, Course.title, HoursEntry.description, HoursEntry.note,
            HoursEntry.delivery, HoursEntry.verification, HoursEntry.rejection_reason,
        )
        .join(Employee, Employee.id == HoursEntry.employee_id)
        .join(Company, Company.id == Employee.company_id)
        .outerjoin(Course, Course.id == HoursEntry.course_id)
    )


def _row(entry_id, first, last, *rest) -> HoursRow:
    return HoursRow(entry_id, f"{first} {last}", *rest)


def company_hours(company_id: int, page: int, *, pending: bool, per_page: int = 25) -> Page[HoursRow]:
    """The company's hours, newest first: those waiting for verification, or all the others."""
    statement = (
        _rows().where(Employee.company_id == company_id, pending_hours() if pending else ~pending_hours())
        .order_by(HoursEntry.entry_date.desc(), HoursEntry.id.desc())
    )
    return paginate_rows(statement, page, per_page, _row)


def hours_to_review(page: int, company_id: int | None = None, per_page: int = 25) -> Page[HoursRow]:
    """Logged hours waiting for the programme office, oldest first, of one company or all."""
    statement = _rows().where(pending_hours())
    if company_id is not None:
        statement = statement.where(Employee.company_id == company_id)
    return paginate_rows(statement.order_by(HoursEntry.entry_date, HoursEntry.id), page, per_page, _row)
