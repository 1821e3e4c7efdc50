"""Participating companies with their employees, and the course providers."""
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import StrEnum, UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from portal.models.reference import Municipality


class SizeBand(StrEnum):
    SMALL = "20-49"
    MEDIUM = "50-249"
    LARGE = "250-999"
    VERY_LARGE = "1000+"


class ProviderKind(StrEnum):
    UNIVERSITY = "university"
    HIGHER_VOCATIONAL = "higher_vocational"  # Yrkeshögskolan
    TEKNIKCOLLEGE = "teknikcollege"
    VOCATIONAL_CENTRE = "vocational_centre"
    OTHER = "other"


class EmploymentStatus(StrEnum):
    EMPLOYED = "employed"
    FURLOUGHED = "furloughed"  # permitterad
    NOTICE = "notice"  # varslad


class Gender(StrEnum):
    WOMAN = "woman"
    MAN = "man"
    OTHER = "other"
    NOT_STATED = "not_stated"


def org_number(nine_digits: str) -> str:
    """The organisation number NNNNNN-NNNN of nine digits and their Luhn check digit."""
    total = sum(sum(divmod(int(d) * (2 - i % 2), 10)) for i, d in enumerate(nine_digits))
    return f"{nine_digits[:6]}-{nine_digits[6:]}{(10 - total % 10) % 10}"


class Company(db.Model):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    org_number: Mapped[str] = mapped_column(String(11), unique=True)  # NNNNNN-NNNN
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    size_band: Mapped[SizeBand] = mapped_column(enum_type(SizeBand, "size_band"))
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    municipality: Mapped["Municipality"] = relationship()
    employees: Mapped[list["Employee"]] = relationship(back_populates="company")

    def __repr__(self) -> str:
        return f"<Company {self.org_number} {self.name!r}>"


class Provider(db.Model):
    """A university, Yrkeshögskola, Teknikcollege node or other course provider."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[ProviderKind] = mapped_column(enum_type(ProviderKind, "provider_kind"))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    municipality: Mapped["Municipality"] = relationship()

    def __repr__(self) -> str:
        return f"<Provider {self.name!r}>"


class Employee(db.Model):
    """A person on a company's roster. Gender and birth year feed only aggregate reports."""

    __tablename__ = "employees"
    __table_args__ = (
        CheckConstraint("birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100", name="birth_year_range"),
        Index("ix_employees_company_id_last_name", "company_id", "last_name", "first_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    job_role: Mapped[str] = mapped_column(String(120), default="")
    employment_status: Mapped[EmploymentStatus] = mapped_column(
        enum_type(EmploymentStatus, "employment_status"), default=EmploymentStatus.EMPLOYED
    )
    gender: Mapped[Gender] = mapped_column(enum_type(Gender, "gender"), default=Gender.NOT_STATED)
    birth_year: Mapped[int | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    company: Mapped[Company] = relationship(back_populates="employees")

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def __repr__(self) -> str:
        return f"<Employee {self.id} of company {self.company_id}>"
