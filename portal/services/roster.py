"""The company's employee roster: HR adds, changes, deactivates and reactivates its people.

No one is ever deleted here: bookings, attendance and hours stay with the person."""
from dataclasses import dataclass, replace
from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Employee, EmploymentStatus, Gender, Role, User
from portal.services import DomainError, InvalidInput, audit

FIRST_BIRTH_YEAR = 1930
YOUNGEST_AGE = 15
MAX_LENGTHS = {"first_name": 100, "last_name": 100, "email": 254, "job_role": 120}
FIELDS = ("first_name", "last_name", "email", "job_role", "employment_status", "gender", "birth_year")
FIELD_LABELS = {
    "first_name": _l("First name"), "last_name": _l("Last name"), "email": _l("Email"), "job_role": _l("Job role"),
    "employment_status": _l("Employment status"), "gender": _l("Gender"), "birth_year": _l("Birth year"),
}


@dataclass(frozen=True)
class EmployeeData:
    first_name: str
    last_name: str
    email: str | None = None
    job_role: str = ""
    employment_status: EmploymentStatus = EmploymentStatus.EMPLOYED
    gender: Gender = Gender.NOT_STATED
    birth_year: int | None = None

    @classmethod
    def of(cls, employee: Employee) -> "EmployeeData":
        return cls(**{name: getattr(employee, name) for name in FIELDS})


def last_birth_year() -> int:
    return date.today().year - YOUNGEST_AGE


def tidy(data: EmployeeData) -> EmployeeData:
    """Surrounding spaces off, an empty email as none, the email lower-cased, choices as enums."""
    email = (data.email or "").strip().lower() or None
    return replace(
        data, first_name=(data.first_name or "").strip(), last_name=(data.last_name or "").strip(),
        email=email, job_role=(data.job_role or "").strip(),
        employment_status=_member(EmploymentStatus, data.employment_status), gender=_member(Gender, data.gender),
    )


def _member(enum_cls, value):
    try:
        return enum_cls(value)
    except ValueError:
        return value  # left for problems() to name


def problems(data: EmployeeData) -> dict[str, str]:
    """What is wrong with tidied data on its own, by field; the roster is not consulted."""
    errors: dict[str, str] = {}
    if not data.first_name:
        errors["first_name"] = _("Give a first name.")
    if not data.last_name:
        errors["last_name"] = _("Give a last name.")
    for name, limit in MAX_LENGTHS.items():
        value = getattr(data, name) or ""
        if name not in errors and len(value) > limit:
            errors[name] = _("%(field)s can be at most %(limit)s characters.", field=FIELD_LABELS[name], limit=limit)
    if data.email and "email" not in errors and not _valid_email(data.email):
        errors["email"] = _("Give a valid email address, such as anna@example.se.")
    if not isinstance(data.employment_status, EmploymentStatus):
        errors["employment_status"] = _("Choose an employment status.")
    if not isinstance(data.gender, Gender):
        errors["gender"] = _("Choose a gender, or not stated.")
    if data.birth_year is not None and not FIRST_BIRTH_YEAR <= data.birth_year <= last_birth_year():
        errors["birth_year"] = _(
            "Give a birth year from %(first)s to %(last)s.", first=FIRST_BIRTH_YEAR, last=last_birth_year()
        )
    return errors


def _valid_email(email: str) -> bool:
    if any(char.isspace() or char in ",;<>\"" for char in email):
        return False
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def email_in_use(company_id: int, email: str, except_id: int | None = None) -> bool:
    """Whether another active employee of the company already has the email."""
    statement = select(Employee.id).where(
        Employee.company_id == company_id, Employee.is_active, func.lower(Employee.email) == email.lower(),
    )
    if except_id is not None:
        statement = statement.where(Employee.id != except_id)
    return db.session.scalar(statement.limit(1)) is not None


def add_employee(actor: User, data: EmployeeData) -> Employee:
    company_id = actor_company(actor)
    data = _checked(company_id, data)
    employee = Employee(company_id=company_id)
    apply(employee, data)
    db.session.add(employee)
    db.session.flush()
    audit.record(actor, "employee.created", "employee", employee.id, company_id=company_id)
    return employee


def update_employee(employee: Employee, actor: User, data: EmployeeData) -> Employee:
    _check_company(employee, actor)
    data = _checked(employee.company_id, data, employee.id)
    changed = [name for name in FIELDS if getattr(employee, name) != getattr(data, name)]
    apply(employee, data)
    db.session.flush()
    if changed:
        # The names of the fields, not their values: the audit trail keeps no personal data.
        audit.record(actor, "employee.updated", "employee", employee.id, company_id=employee.company_id, fields=changed)
    return employee


def deactivate_employee(employee: Employee, actor: User) -> Employee:
    """The person leaves the roster for new bookings; their bookings and hours stay as they are."""
    _check_company(employee, actor)
    if employee.is_active:
        employee.is_active = False
        db.session.flush()
        audit.record(actor, "employee.deactivated", "employee", employee.id, company_id=employee.company_id)
    return employee


def reactivate_employee(employee: Employee, actor: User) -> Employee:
    _check_company(employee, actor)
    if not employee.is_active:
        if employee.email and email_in_use(employee.company_id, employee.email, employee.id):
            raise DomainError(_(
                "%(name)s cannot be reactivated: another active employee has the same email address.",
                name=employee.name,
            ))
        employee.is_active = True
        db.session.flush()
        audit.record(actor, "employee.reactivated", "employee", employee.id, company_id=employee.company_id)
    return employee


def apply(employee: Employee, data: EmployeeData) -> None:
    for name in FIELDS:
        setattr(employee, name, getattr(data, name))


def _checked(company_id: int, data: EmployeeData, except_id: int | None = None) -> EmployeeData:
    data = tidy(data)
    errors = problems(data)
    if data.email and "email" not in errors and email_in_use(company_id, data.email, except_id):
        errors["email"] = _("Another active employee already has this email address.")
    if errors:
        raise InvalidInput(errors)
    return data


def actor_company(actor: User) -> int:
    if actor.role != Role.HR or actor.company_id is None:
        raise DomainError(_("Only the company's HR can change its roster."))
    return actor.company_id


def _check_company(employee: Employee, actor: User) -> None:
    if actor_company(actor) != employee.company_id:
        raise DomainError(_("Only the company's HR can change its roster."))
    if employee.erased_at is not None:
        raise DomainError(_("This person's data has been erased and can no longer be changed."))
