"""What the roster pages show: one page of a company's employees, found by text and status."""
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import ColumnElement, and_, func, select

from portal.extensions import db
from portal.models import Booking, BookingStatus, Employee, EmploymentStatus, Gender, Session
from portal.services.folding import fold, fold_text
from portal.services.pagination import Page, paginate_rows
from portal.services.search import upcoming

PER_PAGE = 50
MAX_SEARCH_WORDS = 6


def every_word_in(haystack, text: str) -> ColumnElement[bool]:
    """Each word of `text` (the first few) somewhere in `haystack`, both folded (case and accents: 'kovacevic'
    finds 'Kovačević'); % and _ are literal."""
    words = fold_text(text).split()[:MAX_SEARCH_WORDS]
    return and_(True, *[fold(haystack).contains(word, autoescape=True) for word in words])


class Shown(str, Enum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    ALL = "all"


@dataclass(frozen=True)
class RosterRow:
    employee_id: int
    first_name: str
    last_name: str
    email: str | None
    job_role: str
    employment_status: EmploymentStatus
    gender: Gender
    birth_year: int | None
    is_active: bool

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def roster(company_id: int, text: str = "", shown: Shown = Shown.ACTIVE, page: int = 1) -> Page[RosterRow]:
    """Two queries whatever the size of the roster: the total, and the page's rows."""
    haystack = (
        Employee.first_name + " " + Employee.last_name + " " + Employee.job_role + " " + func.coalesce(Employee.email, "")
    )
    statement = (
        select(
            Employee.id, Employee.first_name, Employee.last_name, Employee.email, Employee.job_role,
            Employee.employment_status, Employee.gender, Employee.birth_year, Employee.is_active,
        )
        .where(Employee.company_id == company_id, Employee.erased_at.is_(None), every_word_in(haystack, text))
        .order_by(Employee.last_name, Employee.first_name, Employee.id)
    )
    if shown == Shown.ACTIVE:
        statement = statement.where(Employee.is_active)
    elif shown == Shown.DEACTIVATED:
        statement = statement.where(Employee.is_active.is_(False))
    return paginate_rows(statement, page, PER_PAGE, RosterRow)


def coming_bookings(employee_id: int) -> int:
    """Seats and waitlist places the person holds on coming sessions (kept when they are deactivated)."""
    return db.session.scalar(
        select(func.count(Booking.id))
        .join(Session, Session.id == Booking.session_id)
        .where(
            Booking.employee_id == employee_id, Booking.status.in_([BookingStatus.BOOKED, BookingStatus.WAITLISTED]),
            upcoming(),
        )
    ) or 0
