"""Public-health restrictions on in-person meetings, by scope and period."""
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import StrEnum, UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from portal.models.reference import Municipality, Region


class RestrictionScope(StrEnum):
    COUNTRY = "country"
    REGIONS = "regions"
    MUNICIPALITIES = "municipalities"


restriction_regions = Table(
    "restriction_regions",
    db.metadata,
    Column("restriction_id", ForeignKey("restrictions.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("regions.id"), primary_key=True, index=True),
)

restriction_municipalities = Table(
    "restriction_municipalities",
    db.metadata,
    Column("restriction_id", ForeignKey("restrictions.id", ondelete="CASCADE"), primary_key=True),
    Column("municipality_id", ForeignKey("municipalities.id"), primary_key=True, index=True),
)


class Restriction(db.Model):
    __tablename__ = "restrictions"
    __table_args__ = (
        CheckConstraint("lifted_on IS NULL OR lifted_on >= in_force_from", name="lifted_after_start"),
        CheckConstraint("max_group_size IS NULL OR max_group_size > 0", name="max_group_size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[RestrictionScope] = mapped_column(enum_type(RestrictionScope, "restriction_scope"))
    in_force_from: Mapped[date]
    lifted_on: Mapped[date | None]  # unknown at first
    # None: no in-person meetings at all.
    max_group_size: Mapped[int | None]
    description: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    regions: Mapped[list["Region"]] = relationship(secondary=restriction_regions, order_by="Region.name")
    municipalities: Mapped[list["Municipality"]] = relationship(
        secondary=restriction_municipalities, order_by="Municipality.name"
    )
    # Later group sizes, each from a date: easings (larger) and tightenings (smaller).
    changes: Mapped[list["RestrictionChange"]] = relationship(
        back_populates="restriction", order_by="RestrictionChange.effective_from", cascade="all, delete-orphan"
    )

    def in_force_on(self, day: date) -> bool:
        return self.in_force_from <= day and (self.lifted_on is None or day < self.lifted_on)

    def limits(self) -> list[tuple[date, int | None]]:
        """The group size from each date on: the first from in_force_from, then every change."""
        return [(self.in_force_from, self.max_group_size)] + [
            (change.effective_from, change.max_group_size) for change in self.changes
        ]

    def group_size_on(self, day: date) -> int | None:
        size = self.max_group_size
        for change in self.changes:
            if change.effective_from <= day:
                size = change.max_group_size
        return size

    def __repr__(self) -> str:
        return f"<Restriction {self.id} {self.scope} from {self.in_force_from}>"


class RestrictionChange(db.Model):
    """A new maximum group size from a date on, for a restriction already recorded."""

    __tablename__ = "restriction_changes"
    __table_args__ = (
        CheckConstraint("max_group_size IS NULL OR max_group_size > 0", name="max_group_size_positive"),
        UniqueConstraint("restriction_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    restriction_id: Mapped[int] = mapped_column(ForeignKey("restrictions.id", ondelete="CASCADE"))
    effective_from: Mapped[date]
    max_group_size: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    restriction: Mapped[Restriction] = relationship(back_populates="changes")

    def __repr__(self) -> str:
        return f"<RestrictionChange {self.restriction_id} from {self.effective_from}: {self.max_group_size}>"
