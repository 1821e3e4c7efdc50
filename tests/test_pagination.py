"""Pages of results: rows and total together, and the total right however the statement is built."""
from sqlalchemy import select

from portal.models import Employee
from portal.services.pagination import paginate_rows
from tests.conftest import count_queries


def test_a_distinct_statement_counts_its_distinct_rows(make):
    companies = [make.company() for _ in range(3)]
    for company in companies:
        for _ in range(4):
            make.employee(company)
    statement = select(Employee.company_id).distinct().order_by(Employee.company_id)

    first = paginate_rows(statement, 1, 2)
    past = paginate_rows(statement, 9, 2)

    assert (first.total, first.pages, first.items) == (3, 2, [(companies[0].id,), (companies[1].id,)])
    assert (past.total, past.page, past.items) == (3, 2, [(companies[2].id,)])


def test_an_ordinary_page_is_one_statement_with_its_total(make):
    company = make.company()
    people = [make.employee(company) for _ in range(5)]
    statement = select(Employee.id).order_by(Employee.id)
    with count_queries() as queries:
        second = paginate_rows(statement, 2, 2, row=lambda employee_id: employee_id)
    assert (second.total, second.items, len(queries)) == (5, [people[2].id, people[3].id], 1)
