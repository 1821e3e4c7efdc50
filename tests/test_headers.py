"""Every response carries the browser protections; production refuses unsafe settings."""
from contextlib import contextmanager

import pytest

from portal import create_app
from portal.config import DEVELOPMENT_SECRET_KEY
from portal.extensions import db
from portal.headers import CONTENT_SECURITY_POLICY
from portal.models import Role
from tests.conftest import config_for_tests, sign_in


def policy(response) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in response.headers["Content-Security-Policy"].split("; ")}


@pytest.mark.parametrize("path", ["/login", "/no/such/page", "/static/portal.css", "/notifications/unread"])
def test_every_response_carries_the_protections(client, path):
    response = client.get(path, headers={"HX-Request": "true"} if "unread" in path else {})
    response.close()
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # only in production, over HTTPS


def test_the_policy_allows_no_inline_script_no_eval_no_framing(client):
    rules = policy(client.get("/login"))
    assert rules["script-src"] == "'self'" and "unsafe" not in CONTENT_SECURITY_POLICY
    assert rules["object-src"] == "'none'" and rules["frame-ancestors"] == "'none'" and rules["base-uri"] == "'self'"


def test_pages_have_no_inline_script_and_tell_htmx_not_to_eval(client, make, ctx):
    sign_in(client, make.user(Role.PM).email)
    page = client.get("/").get_data(as_text=True)
    scripts = page.count("<script")
    assert scripts == page.count("<script src=") == 1
    assert '"allowEval": false' in page and '"includeIndicatorStyles": false' in page
    assert " style=" not in page  # no inline style either


def test_error_pages_carry_the_protections_too(client):
    response = client.post("/login", data={})  # no CSRF token
    assert response.status_code == 400 and "Content-Security-Policy" in response.headers


def production(**overrides) -> dict:
    return config_for_tests("sqlite://") | {"PRODUCTION": True, "SECRET_KEY": "x" * 40} | overrides


@contextmanager
def another_app(config: dict):
    """A second app on the test database; its connections are closed afterwards."""
    other = create_app(config)
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_production_sends_hsts(app):
    with another_app(production(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])) as live:
        response = live.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize("unsafe", [{"SECRET_KEY": DEVELOPMENT_SECRET_KEY}, {"SECRET_KEY": ""}, {"SECRET_KEY": "short"},
                                    {"DEBUG": True}])
def test_production_refuses_to_start_with_unsafe_settings(unsafe):
    with pytest.raises(RuntimeError):
        create_app(production(**unsafe))


def test_a_crash_answers_the_500_page_without_a_traceback(app):
    def boom():
        raise ZeroDivisionError("secret detail")

    with another_app(config_for_tests(app.config["SQLALCHEMY_DATABASE_URI"]) | {"PROPAGATE_EXCEPTIONS": False}) as crashing:
        crashing.add_url_rule("/boom", "boom", boom)
        response = crashing.test_client().get("/boom")
        page = response.get_data(as_text=True)
    assert response.status_code == 500 and "Content-Security-Policy" in response.headers
    assert "secret detail" not in page and "Traceback" not in page and "ZeroDivisionError" not in page


HOSTILE = '<div hx-get="/logout" hx-trigger="load">x</div><script>alert(1)</script>" hx-post="/x'


def test_user_text_that_looks_like_markup_or_htmx_renders_inert(client, make, ctx):
    hr = make.user(Role.HR)
    course = make.course(title="Svetsning " + HOSTILE, description=HOSTILE)
    make.session(course)
    sign_in(client, hr.email)
    page = client.get(f"/catalogue/courses/{course.id}").get_data(as_text=True)
    assert "&lt;div hx-get=&#34;/logout&#34;" in page or "&lt;div hx-get=&quot;/logout&quot;" in page
    assert 'hx-get="/logout"' not in page and "<script>alert" not in page and 'hx-post="/x' not in page


@pytest.mark.parametrize("proxies, recorded", [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_sign_in_attempts_are_counted_per_client_behind_the_declared_proxies(app, proxies, recorded):
    """Behind a reverse proxy (PORTAL_PROXIES=1) the client's own address is throttled; with no
    proxy declared a forged X-Forwarded-For is ignored, so no one can dodge the limit with it."""
    from sqlalchemy import select

    from portal.models import SignInAttempt
    from tests.conftest import csrf_token

    config = config_for_tests(app.config["SQLALCHEMY_DATABASE_URI"]) | {"PORTAL_PROXIES": proxies}
    with another_app(config) as served:
        client = served.test_client()
        token = csrf_token(client)
        client.post("/login", data={"email": "nobody@example.se", "password": "wrong password here",
                                    "csrf_token": token},
                    headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        with served.app_context():
            assert db.session.scalars(select(SignInAttempt.address)).all() == [recorded]
