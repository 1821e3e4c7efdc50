"""Benchmark instrumentation, on only with PORTAL_BENCH=1 (bench/run.py sets it; never in production):
every response tells how many SQL statements it ran (`X-Queries`), and `/_bench/floor` is the floor
the other pages are measured against: the base layout for a signed-in user and one trivial query."""
from flask import Blueprint, Flask, g, has_request_context, render_template
from flask_login import login_required
from sqlalchemy import event, text

from portal.extensions import db

bp = Blueprint("bench", __name__)


@bp.route("/_bench/floor")
@login_required
def floor():
    db.session.execute(text("SELECT 1"))
    return render_template("base.html")


def init_bench(app: Flask) -> None:
    if not app.config["PORTAL_BENCH"]:
        return
    app.register_blueprint(bp)
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        if has_request_context():
            g.queries = g.get("queries", 0) + 1

    @app.after_request
    def _tell(response):
        response.headers["X-Queries"] = str(g.get("queries", 0))
        return response
