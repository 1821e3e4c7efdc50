"""Binding a list of ids to a statement built once."""
from sqlalchemy import ColumnElement, Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def one_of(column, name: str, dialect: str) -> ColumnElement[bool]:
    """`column` is one of the ids bound as `name`. On PostgreSQL the list is one array parameter: the
    statement's text is the same for any number of ids, so neither SQLAlchemy nor psycopg renders and
    parses it again per call (an expanded IN of 100 ids is 4 KB, past psycopg's cache of parsed
    statements). SQLite has no arrays: there the list is expanded into IN (...)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))
