"""The benchmark's instrumentation is there only when asked for, and counts what a request runs; the
server settings it measures with (gunicorn.conf.py)."""
import gc
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from portal.models import Role
from tests.conftest import config_for_tests, sign_in
from tests.test_headers import another_app, production


def test_off_by_default(client, make, ctx):
    sign_in(client, make.user(Role.HR).email)
    response = client.get("/_bench/floor")
    assert response.status_code == 404 and "X-Queries" not in response.headers


def test_the_floor_renders_the_layout_and_every_response_counts_its_queries(app, make, ctx):
    user = make.user(Role.HR)
    with another_app(config_for_tests(app.config["SQLALCHEMY_DATABASE_URI"]) | {"PORTAL_BENCH": True}) as bench:
        client = bench.test_client()
        sign_in(client, user.email)
        floor = client.get("/_bench/floor")
        page = client.get("/notifications/")
    assert floor.status_code == 200 and "<nav" in floor.get_data(as_text=True)
    # The signed-in user, what the layout shows (unread count, programme) and the trivial query.
    assert 2 <= int(floor.headers["X-Queries"]) <= int(page.headers["X-Queries"])


def test_production_refuses_it():
    with pytest.raises(RuntimeError, match="PORTAL_BENCH"):
        with another_app(production(PORTAL_BENCH=True)):
            pass


def test_gunicorn_reads_the_settings_and_a_worker_leaves_what_it_loaded_out_of_collections():
    root = Path(__file__).resolve().parent.parent
    printed = subprocess.run([sys.executable, "-m", "gunicorn", "--print-config", "wsgi:app"], cwd=root,
                             capture_output=True, text=True, timeout=60, check=True).stdout
    assert re.search(r"^post_worker_init\s+= <post_worker_init\(\)>", printed, re.MULTILINE)
    settings = runpy.run_path(str(root / "gunicorn.conf.py"))
    before = gc.get_threshold()
    try:
        settings["post_worker_init"](None)
        assert gc.get_freeze_count() > 10_000 and gc.get_threshold() == settings["COLLECT_AFTER"]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
