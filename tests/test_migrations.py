"""The Alembic migrations build exactly the schema the models describe, on this run's database."""
import sqlite3
from datetime import date

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, config_for_tests


@pytest.fixture
def empty_database_url(tmp_path):
    """A database of the run's kind that nothing has touched yet."""
    if not ON_POSTGRES:
        yield "sqlite:///" + str(tmp_path / "migrations.sqlite")
        return
    url = make_url(TEST_DATABASE_URL)
    name = f"{url.database}_migrations"
    with psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_from_empty_matches_the_models_exactly(empty_database_url):
    app = create_app(config_for_tests(empty_database_url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []


def test_downgrade_to_empty_and_upgrade_again(empty_database_url):
    app = create_app(config_for_tests(empty_database_url))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "bookings" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_every_index_is_defined_as_the_models_define_it(empty_database_url):
    """What the comparison above cannot see: an index's included columns and its condition, in the
    database's own words, from the migrations and from the models."""
    app = create_app(config_for_tests(empty_database_url))
    with app.app_context():
        upgrade()
        migrated = _index_definitions()
        db.session.execute(text("DROP TABLE alembic_version"))
        db.session.commit()
        db.drop_all()
        db.create_all()
        modelled = _index_definitions()
        db.session.remove()
        db.engine.dispose()
    migrated.pop("alembic_version_pkc", None)
    assert {n: d for n, d in migrated.items() if modelled.get(n) != d} == {n: d for n, d in modelled.items() if migrated.get(n) != d}
    if ON_POSTGRES:
        assert "INCLUDE (minutes)" in migrated["ix_hours_entries_pending"]


def _index_definitions() -> dict[str, str]:
    if ON_POSTGRES:
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
    else:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    return {name: " ".join(definition.split()) for name, definition in db.session.execute(text(query))}


def test_sessions_get_their_dates_from_their_meetings_on_upgrade(empty_database_url):
    """0012 gives the sessions already there the dates their meetings have (later ones keep them in step)."""
    from portal.models import Session
    from portal.services.reference import load_reference_data
    from tests import factories

    app = create_app(config_for_tests(empty_database_url))
    with app.app_context():
        upgrade()
        load_reference_data()
        session = factories.session(meetings=3)
        first, last = session.meetings[0].starts_at, session.meetings[-1].ends_at
        session_id = session.id
        db.session.remove()
        downgrade(revision="0011")
        upgrade()
        assert db.session.execute(text(f"SELECT starts_at IS NOT NULL FROM sessions WHERE id = {session_id}")).scalar()
        assert (db.session.get(Session, session_id).starts_at, db.session.get(Session, session_id).ends_at) == (first, last)
        db.session.remove()
        db.engine.dispose()


def test_hours_entries_get_their_employees_company_on_upgrade(empty_database_url):
    """0014 gives the hours entries already there their employee's company (later ones are written with it)."""
    from portal.models import Delivery, HoursEntry, HoursSource
    from portal.services.reference import load_reference_data
    from tests import factories

    app = create_app(config_for_tests(empty_database_url))
    with app.app_context():
        upgrade()
        load_reference_data()
        employee = factories.employee()
        db.session.add(HoursEntry(employee=employee, company=employee.company, entry_date=date(2026, 3, 2), minutes=60,
                                  source=HoursSource.MANUAL, delivery=Delivery.DIGITAL))
        db.session.commit()
        company_id = employee.company_id
        db.session.remove()
        downgrade(revision="0013")
        upgrade()
        assert db.session.execute(text("SELECT company_id FROM hours_entries")).scalars().all() == [company_id]
        db.session.remove()
        db.engine.dispose()


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's foreign keys are a setting of each connection")
def test_sqlite_connections_keep_their_foreign_keys_after_a_migration_fails(tmp_path):
    """Migrations run with foreign keys off on SQLite; a failed one must not hand the pool a connection
    that has them off."""
    path = tmp_path / "clashing.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE meetings (x INTEGER)")  # the first migration's table, already there
    app = create_app(config_for_tests(f"sqlite:///{path}"))
    with app.app_context():
        with pytest.raises(Exception, match="meetings"):
            upgrade()
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()
