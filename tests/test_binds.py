"""A list of ids bound to a statement built once: the right rows for any number of ids, and on
PostgreSQL one statement text for any number (an array), so nothing is rendered or parsed per call."""
from sqlalchemy import select

from portal.extensions import db
from portal.models import Employee
from portal.services.binds import one_of
from portal.services.booking import clash_details
from tests.conftest import ON_POSTGRES, count_queries


def test_the_rows_named_and_no_other_for_none_one_or_many_ids(make):
    company = make.company()
    people = [make.employee(company) for _ in range(4)]
    make.employee(company)  # not asked for
    statement = select(Employee.id).where(one_of(Employee.id, "ids", db.engine.dialect.name)).order_by(Employee.id)
    for ids in ([], [people[0].id], [p.id for p in people]):
        assert db.session.scalars(statement, {"ids": ids}).all() == sorted(ids)


def test_a_clash_look_up_runs_one_statement_text_whatever_the_number_of_people(make):
    company = make.company()
    session = make.session(meetings=2)
    few, many = [make.employee(company).id for _ in range(2)], [make.employee(company).id for _ in range(30)]
    assert len(session.meetings) == 2  # read before counting
    with count_queries() as statements:
        clash_details(few, session)
        clash_details(many, session)
    assert len(statements) == 2 and all(s.startswith("WITH booked_elsewhere") for s in statements)
    if ON_POSTGRES:
        assert statements[0] == statements[1]
    else:  # SQLite has no arrays: the list is spelt out, one parameter per id
        assert statements[1].count("?") - statements[0].count("?") == len(many) - len(few)
