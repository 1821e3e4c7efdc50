"""Pages of query results: one query for the rows and the total together."""
from dataclasses import dataclass
from math import ceil
from typing import Any, Callable, Generic, TypeVar

from sqlalchemy import Select, func, select

from portal.extensions import db
from portal.models.types import MAX_ID

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


def paginate_rows(
    statement: Select, page: int, per_page: int, row: Callable[..., T] = lambda *values: values,
) -> Page[T]:
    """Rows of an ordered select for one page; a page past the end gives the last page. The total
    comes with the rows (a window count, so the filters run once, not again for a count); only a
    page past the end, or a SELECT DISTINCT (whose window count would count the rows before they
    are made distinct), asks for it apart."""
    page = max(page, 1)
    if statement._distinct:  # noqa: SLF001 (SQLAlchemy tells it no other way)
        return _counted_apart(statement, page, per_page, row)
    rows = _page_of(statement, page, per_page) if (page - 1) * per_page <= MAX_ID else []
    if not rows and page > 1:
        return _counted_apart(statement, page, per_page, row)
    total = rows[0][-1] if rows else 0
    return Page(items=[row(*r[:-1]) for r in rows], page=page, per_page=per_page, total=total)


def _counted_apart(statement: Select, page: int, per_page: int, row: Callable[..., T]) -> Page[T]:
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    page = min(page, max(ceil(total / per_page), 1))
    rows = _page_of(statement, page, per_page)
    return Page(items=[row(*r[:-1]) for r in rows], page=page, per_page=per_page, total=total)


def _page_of(statement: Select, page: int, per_page: int) -> list[Any]:
    counted = statement.add_columns(func.count().over())
    return list(db.session.execute(counted.limit(per_page).offset((page - 1) * per_page)).all())
