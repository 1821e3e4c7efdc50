"""Pages of query results: one query for the rows, one for the total."""
from dataclasses import dataclass
from math import ceil
from typing import Any, Callable, Generic, TypeVar

from sqlalchemy import Select, func, select

from portal.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(ceil(self.total / self.per_page), 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate_rows(statement: Select, page: int, per_page: int, row: Callable[..., T] = tuple) -> Page[T]:
    """Rows of an ordered select for one page; a page past the end gives the last page."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    page = min(max(page, 1), max(ceil(total / per_page), 1))
    rows: list[Any] = db.session.execute(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=[row(*r) for r in rows], page=page, per_page=per_page, total=total)
