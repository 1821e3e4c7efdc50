"""Public-health restrictions on in-person meetings, by scope and period."""
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, Table, Text
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

    regions: Mapped[list["Region"]] = relationship(secondary=restriction_regions)
    municipalities: Mapped[list["Municipality"]] = relationship(secondary=restriction_municipalities)

    def in_force_on(self, day: date) -> bool:
        return self.in_force_from <= day and (self.lifted_on is None or day < self.lifted_on)

    def __repr__(self) -> str:
        return f"<Restriction {self.id} {self.scope} from {self.in_force_from}>"
