"""What many routes share: running a service call and reporting its refusal next to the fields."""
from collections.abc import Callable
from typing import TypeVar

from flask import flash
from wtforms import Form

from portal.extensions import db
from portal.services import DomainError, InvalidInput

T = TypeVar("T")


def attempt(
    action: Callable[[], T], form: Form | None = None, key: Callable[[str], str] = str,
    passthrough: tuple[type[Exception], ...] = (), keep_loaded: bool = False,
) -> T | None:
    """Run one service call and commit it. If a rule refuses, roll everything back, put each
    message next to its field (`key` turns the service's field names into the form's) or flash
    it, and return None: nothing is half-saved. `passthrough` refusals are raised for the route.

    `keep_loaded` keeps the objects the call read as they were committed instead of reading them
    again on their next use: for a route that shows them right after a service that read them
    under its lock and wrote them through the ORM (not a bulk UPDATE it left unsynchronised)."""
    try:
        result = action()
    except passthrough:
        db.session.rollback()
        raise
    except InvalidInput as refusal:
        db.session.rollback()
        for name, message in refusal.errors.items():
            field = find_field(form, key(name)) if form is not None else None
            if field is None:
                flash(message, "error")
            else:
                field.errors = [*field.errors, message]
        return None
    except DomainError as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return None
    _commit(keep_loaded)
    return result


def _commit(keep_loaded: bool) -> None:
    session = db.session()
    session.expire_on_commit = not keep_loaded
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def find_field(form: Form, key: str):
    """The field named `meetings-1-ends_at` (a field of the second meeting) or `capacity`."""
    if key in form._fields:
        field = form._fields[key]
        return None if hasattr(field, "entries") else field  # a list's own message is flashed
    head, _, rest = key.partition("-")
    container = form._fields.get(head)
    if container is None or not rest:
        return None
    if hasattr(container, "form"):  # a FormField: one nested form
        return find_field(container.form, rest)
    index, _, name = rest.partition("-")
    entries = getattr(container, "entries", None)
    if entries is None or not index.isdigit() or int(index) >= len(entries):
        return None
    entry = entries[int(index)]
    return find_field(entry.form, name) if name else entry
