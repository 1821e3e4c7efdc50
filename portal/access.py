"""Tenant-scoped loading: every object a URL names is looked up within what the user may see.

HR sees its own company, a provider its own catalogue, the programme office everything.
Anything outside answers 404, so an id never tells whether it exists elsewhere.
"""
from typing import Any, Callable, TypeVar

from flask import abort
from sqlalchemy import ColumnElement, exists, false, select, true

from portal.extensions import db
from portal.models.types import MAX_ID
from portal.models import (
    Booking, Company, Course, Employee, HoursEntry, Meeting, Notification, PlanItem, Restriction, Role, Session, TrainingPlan,
    User,
)

M = TypeVar("M")


def _company_scope(column) -> Callable[[User, bool], ColumnElement[bool]]:
    def clause(user: User, manage: bool) -> ColumnElement[bool]:
        if user.role == Role.PM:
            return true()
        if user.role == Role.HR:
            return column == user.company_id
        return false()

    return clause


def _catalogue_scope(provider_column) -> Callable[[User, bool], ColumnElement[bool]]:
    def clause(user: User, manage: bool) -> ColumnElement[bool]:
        if not manage:
            return true()  # everyone may read the catalogue
        return provider_column == user.provider_id if user.role == Role.PROVIDER else false()

    return clause


def _employee_scope(user: User, manage: bool) -> ColumnElement[bool]:
    if user.role == Role.PROVIDER and not manage:
        # A provider sees the employees booked on its own sessions, and no one else.
        return exists(
            select(Booking.id)
            .join(Session, Session.id == Booking.session_id)
            .join(Course, Course.id == Session.course_id)
            .where(Booking.employee_id == Employee.id, Course.provider_id == user.provider_id)
        )
    return _company_scope(Employee.company_id)(user, manage)


def _booking_scope(user: User, manage: bool) -> ColumnElement[bool]:
    if user.role == Role.PROVIDER and not manage:
        return Booking.session_id.in_(
            select(Session.id).join(Course).where(Course.provider_id == user.provider_id)
        )
    return _company_scope(Booking.company_id)(user, manage)


def _own(column) -> Callable[[User, bool], ColumnElement[bool]]:
    return lambda user, manage: column == user.id


SCOPES: dict[type, Callable[[User, bool], ColumnElement[bool]]] = {
    Notification: _own(Notification.user_id),
    Company: _company_scope(Company.id),
    Employee: _employee_scope,
    TrainingPlan: _company_scope(TrainingPlan.company_id),
    PlanItem: _company_scope(
        select(TrainingPlan.company_id).where(TrainingPlan.id == PlanItem.plan_id).scalar_subquery()
    ),
    Booking: _booking_scope,
    Course: _catalogue_scope(Course.provider_id),
    Session: _catalogue_scope(
        select(Course.provider_id).where(Course.id == Session.course_id).scalar_subquery()
    ),
    Meeting: _catalogue_scope(
        select(Course.provider_id).join(Session, Session.course_id == Course.id)
        .where(Session.id == Meeting.session_id).scalar_subquery()
    ),
    # Hours are the company's (HR) and the programme's (pm); a provider sees attendance, not hours.
    HoursEntry: _company_scope(
        select(Employee.company_id).where(Employee.id == HoursEntry.employee_id).scalar_subquery()
    ),
    # Restrictions and accounts are the programme office's to record and change.
    Restriction: lambda user, manage: true() if user.role == Role.PM else false(),
    User: lambda user, manage: true() if user.role == Role.PM else false(),
}


def scope(model: type, user: User, *, manage: bool = False) -> ColumnElement[bool]:
    """The where-clause that limits `model` to the rows `user` may read (or change)."""
    return SCOPES[model](user, manage)


def load_or_404(model: type[M], object_id: Any, user: User, *, manage: bool = False, options=()) -> M:
    """Load one object the user may read (or, with manage, change), or answer 404."""
    if not isinstance(object_id, int) or not 0 < object_id <= MAX_ID:
        abort(404)
    primary_key = model.__mapper__.primary_key[0]  # type: ignore[attr-defined]
    statement = select(model).where(primary_key == object_id, scope(model, user, manage=manage))
    # unique(): asked for when a collection is loaded by a join (one row per member, one object).
    found = db.session.scalars(statement.options(*options)).unique().one_or_none()
    if found is None:
        abort(404)
    return found
