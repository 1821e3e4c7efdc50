"""Factories: each builds one valid object with sensible defaults, commits it, and returns it."""
import itertools
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Booking, BookingStatus, CompetenceArea, Company, Course, CourseFormat, CourseLevel, Employee,
    Meeting, Municipality, Provider, ProviderKind, Role, Session, SessionStatus, SizeBand, User,
)
from portal.models.organisations import org_number as with_check_digit
from portal.services.accounts import hash_password
from tests.conftest import PASSWORD

_counter = itertools.count(1)


def _save(obj):
    db.session.add(obj)
    db.session.commit()
    return obj


def municipality(name: str = "Västerås") -> Municipality:
    return db.session.scalars(select(Municipality).where(Municipality.name == name)).one()


def competence_area(code: str = "cnc") -> CompetenceArea:
    return db.session.scalars(select(CompetenceArea).where(CompetenceArea.code == code)).one()


def org_number(serial: int) -> str:
    """A valid Swedish organisation number, unique per serial."""
    return with_check_digit(f"55{serial:07d}")


def company(**fields) -> Company:
    n = next(_counter)
    fields.setdefault("name", f"Verkstad {n} AB")
    fields.setdefault("org_number", org_number(n))
    fields.setdefault("municipality", municipality())
    fields.setdefault("size_band", SizeBand.MEDIUM)
    return _save(Company(**fields))


def provider(**fields) -> Provider:
    n = next(_counter)
    fields.setdefault("name", f"Yrkeshögskola {n}")
    fields.setdefault("kind", ProviderKind.HIGHER_VOCATIONAL)
    fields.setdefault("municipality", municipality())
    return _save(Provider(**fields))


def user(role: Role | str = Role.HR, password: str = PASSWORD, **fields) -> User:
    role = Role(role)
    n = next(_counter)
    fields.setdefault("email", f"user{n}@example.se")
    fields.setdefault("name", f"Användare {n}")
    if role == Role.HR and "company" not in fields and "company_id" not in fields:
        fields["company"] = company()
    if role == Role.PROVIDER and "provider" not in fields and "provider_id" not in fields:
        fields["provider"] = provider()
    return _save(User(role=role, password_hash=hash_password(password), **fields))


def employee(company: Company | None = None, **fields) -> Employee:
    n = next(_counter)
    fields.setdefault("first_name", "Anna")
    fields.setdefault("last_name", f"Andersson {n}")
    return _save(Employee(company=company or globals()["company"](), **fields))


def course(provider: Provider | None = None, **fields) -> Course:
    fields.setdefault("title", f"CNC-programmering {next(_counter)}")
    fields.setdefault("format", CourseFormat.IN_PERSON)
    fields.setdefault("nominal_minutes", 8 * 60)
    fields.setdefault("level", CourseLevel.INTRODUCTORY)
    fields.setdefault("competence_areas", [competence_area()])
    return _save(Course(provider=provider or globals()["provider"](), **fields))


def session(course: Course | None = None, starts_at: datetime | None = None, meetings: int = 1, **fields) -> Session:
    """A session with `meetings` day-long meetings on consecutive days, two weeks ahead by default."""
    starts_at = starts_at or datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=14)
    fields.setdefault("status", SessionStatus.OPEN)
    fields.setdefault("capacity", 12)
    fields.setdefault("booking_deadline", starts_at - timedelta(days=7))
    fields.setdefault("cancellation_deadline", starts_at - timedelta(days=3))
    place = municipality()
    created = Session(course=course or globals()["course"](), **fields)
    for day in range(meetings):
        start = starts_at + timedelta(days=day)
        created.meetings.append(
            Meeting(starts_at=start, ends_at=start + timedelta(hours=6), venue="Sal 1", municipality=place)
        )
    return _save(created)


def booking(session: Session, employee: Employee, status: BookingStatus = BookingStatus.BOOKED, **fields) -> Booking:
    if status == BookingStatus.BOOKED:
        session.seats_taken += 1  # as the booking service keeps it
    return _save(Booking(session=session, employee=employee, company=employee.company, status=status, **fields))
