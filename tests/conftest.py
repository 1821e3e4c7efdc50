"""Test set-up: one database per run (SQLite file, or PostgreSQL from TEST_DATABASE_URL),
tables emptied after every test, factories for data, helpers for signing in and CSRF."""
import contextvars
import os
import re
import uuid
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from portal import create_app
from portal.extensions import db
from portal.models import CompetenceArea, Municipality, Region

REFERENCE_TABLES = {Region.__tablename__, Municipality.__tablename__, CompetenceArea.__tablename__}
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
PASSWORD = "correct horse battery staple"


def ensure_postgres_database(url: str) -> None:
    """Create the test database when it does not exist yet (the server must be running)."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    try:
        admin = psycopg.connect(
            host=parsed.host, port=parsed.port or 5432, user=parsed.username, password=parsed.password,
            dbname="postgres", autocommit=True, connect_timeout=5,
        )
    except psycopg.OperationalError as error:
        pytest.exit(f"TEST_DATABASE_URL names PostgreSQL, but it cannot be reached: {error}", returncode=3)
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{parsed.database}"')


def pytest_collection_modifyitems(config, items):
    require_postgres = os.environ.get("PORTAL_REQUIRE_POSTGRES") == "1"
    if require_postgres and not ON_POSTGRES:
        raise pytest.UsageError("PORTAL_REQUIRE_POSTGRES=1 needs TEST_DATABASE_URL=postgresql+psycopg://...")
    skip_postgres = pytest.mark.skip(
        reason="needs PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal_test"
    )
    for item in items:
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(skip_postgres)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if ON_POSTGRES:
        ensure_postgres_database(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "portal-test.sqlite")


def config_for_tests(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-" + uuid.uuid4().hex,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; production uses scrypt
        "SERVER_NAME": None,
    }


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, as a real server would, even while the test
    holds one open for its factories: no `g`, no database session shared with the test."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app(config_for_tests(database_url))
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        db.create_all()
        from portal.services.reference import load_reference_data

        load_reference_data()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Every test starts from the reference data alone."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in REFERENCE_TABLES:
                    connection.execute(table.delete())


@pytest.fixture
def ctx(app):
    """An application context for tests that call services or factories directly."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(ctx):
    from tests import factories

    return factories


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path, follow_redirects=True)
    found = CSRF_META.search(page.get_data(as_text=True))
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sign_in(client, email: str, password: str = PASSWORD, **extra):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token, **extra})


@contextmanager
def count_queries():
    """Count the SQL statements run inside the block: `with count_queries() as queries: ...; len(queries)`."""
    statements: list[str] = []

    def before_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before_execute)
