"""The demo programme: realistic, deterministic, and never poured over real data."""
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from portal.extensions import db
from portal.models import (
    Booking, BookingStatus, Company, Course, Employee, EmploymentStatus, Gender, HoursEntry, Meeting, PlanItem,
    Programme, Provider, Restriction, Role, Session, SessionStatus, User,
)
from portal.models.plans import plan_item_employees
from portal.services.accounts import authenticate

ANCHOR = "2026-11-16"


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def _dump() -> dict[str, list[tuple]]:
    dump = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name != "password_hash"]
        rows = db.session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
        dump[table.name] = [tuple(row) for row in rows]
    return dump


def test_demo_fills_an_empty_database_with_the_programme(cli, ctx):
    result = cli.invoke(args=["portal", "demo", "--anchor", ANCHOR])
    assert result.exit_code == 0, result.output
    assert "hr@demo.example" in result.output
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    assert db.session.scalars(select(Programme.name)).one() == "Ett kompetenslyft för Sverige"
    assert 10 <= count(Company) <= 14
    assert 4 <= count(Provider) <= 6
    assert count(Course) >= 20
    statuses = set(db.session.scalars(select(Session.status)))
    assert {SessionStatus.COMPLETED, SessionStatus.OPEN, SessionStatus.POSTPONED} <= statuses
    assert set(db.session.scalars(select(Employee.gender))) == set(Gender)
    assert set(db.session.scalars(select(Employee.employment_status))) == set(EmploymentStatus)
    assert count(HoursEntry) > 0 and count(Meeting) > count(Session)
    restriction = db.session.scalars(select(Restriction)).one()
    postponed = db.session.scalars(select(Session).where(Session.status == SessionStatus.POSTPONED)).all()
    assert postponed and all(s.postponed_by_id == restriction.id for s in postponed)


def test_demo_never_overbooks_a_session(cli, ctx):
    cli.invoke(args=["portal", "demo", "--anchor", ANCHOR])
    booked = (
        select(Booking.session_id, func.count().label("booked"))
        .where(Booking.status == BookingStatus.BOOKED)
        .group_by(Booking.session_id)
        .subquery()
    )
    overbooked = db.session.scalar(
        select(func.count()).select_from(Session).join(booked, booked.c.session_id == Session.id)
        .where(booked.c.booked > Session.capacity)
    )
    assert overbooked == 0


def test_demo_plan_items_are_served_by_no_more_people_than_they_plan_for(cli, ctx):
    """A need for three people is met by three people, each once: the start page never shows a need with
    several times its planned hours done."""
    cli.invoke(args=["portal", "demo", "--anchor", ANCHOR])
    live = Booking.status != BookingStatus.CANCELLED
    people = db.session.execute(
        select(PlanItem.id, PlanItem.head_count, func.count(func.distinct(Booking.employee_id)), func.count(Booking.id))
        .join(Booking, Booking.plan_item_id == PlanItem.id).where(live).group_by(PlanItem.id, PlanItem.head_count)
    ).all()
    named = dict(db.session.execute(
        select(plan_item_employees.c.plan_item_id, func.count()).group_by(plan_item_employees.c.plan_item_id)).all())
    assert people  # the demo's bookings do serve its plans
    for item_id, head_count, served, bookings in people:
        assert served == bookings  # each person once per need
        assert served <= (named.get(item_id) or head_count)
    naming = select(plan_item_employees.c.plan_item_id).distinct()  # the needs that name people
    pairs = set(db.session.execute(select(plan_item_employees.c.plan_item_id, plan_item_employees.c.employee_id)).all())
    serving = db.session.execute(select(Booking.plan_item_id, Booking.employee_id).where(live, Booking.plan_item_id.in_(naming)))
    strays = [tuple(row) for row in serving if tuple(row) not in pairs]
    assert strays == []  # a need that names people is served only by them


def test_every_demo_account_signs_in_with_the_documented_password(cli, ctx):
    cli.invoke(args=["portal", "demo", "--anchor", ANCHOR])
    roles = {}
    for email, _ in DEMO_ACCOUNTS:
        user = authenticate(email, DEMO_PASSWORD)
        assert user is not None, email
        roles[email] = user.role
    assert roles == {"hr@demo.example": Role.HR, "provider@demo.example": Role.PROVIDER, "pm@demo.example": Role.PM}
    provider = db.session.scalars(select(User).where(User.email == "provider@demo.example")).one().provider
    assert provider.name == "Mälardalens universitet"


def test_the_same_anchor_gives_the_same_programme(cli, ctx):
    cli.invoke(args=["portal", "demo", "--anchor", ANCHOR])
    cli.invoke(args=["portal", "demo", "--anchor", ANCHOR, "--reset"])  # ids start over after a reset
    db.session.expire_all()
    first = _dump()
    result = cli.invoke(args=["portal", "demo", "--anchor", ANCHOR, "--reset"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert _dump() == first


def test_demo_refuses_a_database_that_holds_data(cli, ctx):
    cli.invoke(args=["portal", "demo", "--anchor", ANCHOR])
    companies = db.session.scalar(select(func.count(Company.id)))
    result = cli.invoke(args=["portal", "demo"])
    assert result.exit_code != 0 and "--reset" in result.output
    assert db.session.scalar(select(func.count(Company.id))) == companies


def test_demo_if_empty_leaves_existing_data_alone_and_succeeds(cli, ctx):
    cli.invoke(args=["portal", "demo", "--anchor", ANCHOR])
    first_programme = db.session.scalars(select(Programme.id)).one()
    result = cli.invoke(args=["portal", "demo", "--if-empty"])
    assert result.exit_code == 0
    assert db.session.scalars(select(Programme.id)).one() == first_programme


def test_demo_dates_lie_around_the_anchor(cli, ctx):
    cli.invoke(args=["portal", "demo", "--anchor", ANCHOR])
    programme = db.session.scalars(select(Programme)).one()
    assert programme.period_start < date(2026, 11, 16) < programme.period_end
    first = db.session.scalar(select(func.min(Meeting.starts_at)))
    last = db.session.scalar(select(func.max(Meeting.starts_at)))
    assert first.date() < date(2026, 11, 16) < last.date()


def test_reference_command_is_safe_to_run_twice(cli, ctx):
    from portal.models import Municipality

    before = db.session.scalar(select(func.count(Municipality.id)))
    assert cli.invoke(args=["portal", "reference"]).exit_code == 0
    assert db.session.scalar(select(func.count(Municipality.id))) == before == 290
