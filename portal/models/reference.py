"""Reference data every tenant shares: regions, municipalities, competence areas, the programme."""
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db


class Region(db.Model):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)

    municipalities: Mapped[list["Municipality"]] = relationship(
        back_populates="region", order_by="Municipality.name"
    )

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


class Municipality(db.Model):
    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)

    region: Mapped[Region] = relationship(back_populates="municipalities")

    def __repr__(self) -> str:
        return f"<Municipality {self.code} {self.name}>"


class CompetenceArea(db.Model):
    """The shared vocabulary that plans, courses and pooled demand use."""

    __tablename__ = "competence_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_sv: Mapped[str] = mapped_column(String(120), unique=True)
    name_en: Mapped[str] = mapped_column(String(120), unique=True)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_sv

    def __repr__(self) -> str:
        return f"<CompetenceArea {self.code}>"


class Programme(db.Model):
    """The upskilling programme this portal runs: its name, period, targets and settings."""

    __tablename__ = "programmes"
    __table_args__ = (
        CheckConstraint("period_end > period_start", name="period_order"),
        CheckConstraint("target_individuals >= 0", name="target_individuals_not_negative"),
        CheckConstraint("target_hours >= 0", name="target_hours_not_negative"),
        CheckConstraint("notice_days BETWEEN 0 AND 365", name="notice_days_range"),
        CheckConstraint("retention_years IS NULL OR retention_years BETWEEN 1 AND 50", name="retention_years_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    funder: Mapped[str] = mapped_column(String(200), default="")
    period_start: Mapped[date]
    period_end: Mapped[date]
    target_individuals: Mapped[int] = mapped_column(default=0)
    target_hours: Mapped[int] = mapped_column(default=0)
    notice_days: Mapped[int] = mapped_column(default=14)
    auto_confirm_reschedule: Mapped[bool] = mapped_column(default=False)
    # Attendance registers of sessions that ended longer ago are purged; None keeps them.
    retention_years: Mapped[int | None]

    def __repr__(self) -> str:
        return f"<Programme {self.name!r}>"
