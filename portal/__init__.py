"""The portal: training plans, shared course booking and funder reporting for upskilling programmes."""
import logging
from pathlib import Path

from flask import Flask

from portal.config import Config, sqlite_uri
from portal.extensions import babel, csrf, db, htmx, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = sqlite_uri(app.instance_path)
    _normalise_database_url(app)
    logging.basicConfig(level=logging.INFO)

    from portal.headers import init_headers, refuse_unsafe_production

    refuse_unsafe_production(app)
    init_headers(app)
    _trust_proxies(app)

    from portal import models  # noqa: F401  (registers the tables)
    from portal.services import session_times, tallies

    session_times.keep_in_step()
    tallies.keep_in_step()

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    _init_sqlite(app)

    from portal.i18n import init_i18n
    from portal.security import init_login

    init_i18n(app, babel)
    init_login(app, login_manager)

    from portal.blueprints import register_blueprints

    register_blueprints(app)

    from portal.bench import init_bench

    init_bench(app)

    from portal.cli import register_cli

    register_cli(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind PORTAL_PROXIES reverse proxies, read the client's address and scheme from their
    X-Forwarded-For/-Proto/-Host headers; a header set by anyone further out is ignored."""
    proxies = app.config["PORTAL_PROXIES"]
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]


def _normalise_database_url(app: Flask) -> None:
    """Accept the postgres:// URLs hosting platforms hand out and use psycopg 3 for them."""
    url: str = app.config["SQLALCHEMY_DATABASE_URI"]
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url[len(prefix):]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # psycopg prepares a statement run five times, and PostgreSQL then may plan it once for any
        # parameters: on skewed data (one session's 40 bookings, another's none) such a generic plan
        # was measured 20 times slower in the rescheduling job. Plan every statement for its values.
        # No statement waits for a row lock longer than LOCK_WAIT (services/locking.py): set once per
        # connection rather than by a statement of its own in every transaction that locks.
        from portal.services.locking import LOCK_WAIT

        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})  # never the shared default's dict
        options["connect_args"] = {"prepare_threshold": None, "options": f"-c lock_timeout={LOCK_WAIT}",
                                   **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _init_sqlite(app: Flask) -> None:
    """SQLite: foreign keys on, WAL so readers never wait, a short wait for the write lock, and a
    Unicode-aware lower(). (Bookings take the write lock up front: see services/locking.py.)"""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    from portal.services.folding import sqlite_fold

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")  # a waiting request answers within seconds
            cursor.close()
            # SQLite's own lower() folds ASCII only; searches must match "Ä" to "ä" as PostgreSQL does.
            dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
            dbapi_connection.create_function("portal_fold", 1, sqlite_fold, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value
