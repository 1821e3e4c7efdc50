"""Search that forgives accents: 'kovacevic' finds 'Kovačević', 'jonsson' finds 'Jönsson' (and the other way).

`fold(column)` is the text lower-cased with each accented letter taken as its plain one, in SQL: PostgreSQL's own
translate(), and on SQLite a function the app registers on connect; `fold_text` is the same in Python, for the words
searched for. Both use one table, so the two sides always fold alike.
"""
from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

ACCENTED = "àáâãäåāăąçćčďđèéêëēėęěìíîïīįıłñńňòóôõöøōőřśšşťùúûüūůűųýÿźżž"
PLAIN = "aaaaaaaaacccddeeeeeeeeiiiiiiilnnnoooooooorssstuuuuuuuuyyzzz"
_TABLE = str.maketrans(ACCENTED, PLAIN)


def fold_text(text: str) -> str:
    return text.lower().translate(_TABLE)


class fold(FunctionElement):  # noqa: N801 - used like SQLAlchemy's func.* functions
    """A text column (or expression) lower-cased and without accents."""

    type = String()
    inherit_cache = True


@compiles(fold)
def _fold_on_sqlite(element, compiler, **kw) -> str:
    return f"portal_fold({compiler.process(element.clauses, **kw)})"


@compiles(fold, "postgresql")
def _fold_on_postgresql(element, compiler, **kw) -> str:
    return f"translate(lower({compiler.process(element.clauses, **kw)}), '{ACCENTED}', '{PLAIN}')"


def sqlite_fold(value):
    """The SQL function registered on SQLite connections as portal_fold."""
    return fold_text(value) if isinstance(value, str) else value
