"""Column types shared by the models: UTC timestamps and enums stored as checked strings."""
import enum
from datetime import datetime, timezone

from sqlalchemy import DateTime, Enum
from sqlalchemy.types import TypeDecorator


MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database; a larger one names nothing


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """An aware datetime, stored as naive UTC so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class StrEnum(str, enum.Enum):
    """An enum whose members are their stored values."""

    def __str__(self) -> str:
        return self.value


def enum_type(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR with a CHECK constraint, storing the values."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
