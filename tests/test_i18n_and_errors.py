"""Swedish by default, English on request; error pages in the same layout."""
from datetime import date, datetime, timezone

import pytest

from portal import create_app
from portal.extensions import db
from portal.i18n import day, hours, moment
from tests.conftest import config_for_tests, csrf_token, sign_in


def test_the_portal_speaks_swedish_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert "<h1>Logga in</h1>" in page


def test_the_language_switch_turns_the_portal_english_and_back(client):
    token = csrf_token(client)
    response = client.post("/language", data={"locale": "en", "next": "/login", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "<h1>Sign in</h1>" in page
    client.post("/language", data={"locale": "sv", "csrf_token": token})
    assert "<h1>Logga in</h1>" in client.get("/login").get_data(as_text=True)


def test_the_language_choice_survives_signing_in(client, make):
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client)})
    sign_in(client, make.user().email)
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_an_unknown_language_is_refused(client):
    response = client.post("/language", data={"locale": "xx", "csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert '<html lang="sv">' in client.get("/login").get_data(as_text=True)


def test_the_language_switch_never_redirects_off_the_site(client):
    response = client.post("/language", data={"locale": "en", "next": "https://evil.example", "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/"


def test_dates_times_and_hours_are_shown_the_swedish_way(app):
    with app.test_request_context():
        assert day(date(2026, 3, 3)) == "3 mars 2026"
        # Stored in UTC, shown in Swedish time: 07:30 UTC is 08:30 in winter, 09:30 in summer.
        assert moment(datetime(2026, 1, 12, 7, 30, tzinfo=timezone.utc)) == "12 jan. 2026 08:30"
        assert moment(datetime(2026, 6, 12, 7, 30, tzinfo=timezone.utc)) == "12 juni 2026 09:30"
        assert hours(90) == "1,5"
        assert hours(600 * 60).replace("\xa0", " ") == "600"
        assert hours(1234 * 60).replace("\xa0", " ") == "1 234"


def test_not_found_page_is_in_the_layout(client):
    response = client.get("/no/such/page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<h1>Sidan finns inte</h1>" in page and 'class="site-header"' in page


def test_wrong_method_gets_a_clear_page(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert "Det går inte att göra så här" in response.get_data(as_text=True)


@pytest.fixture
def failing_app(database_url):
    app = create_app({**config_for_tests(database_url), "TESTING": False})

    @app.route("/boom")
    def boom():
        raise RuntimeError("a bug")

    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_crash_shows_the_500_page_in_the_layout(failing_app):
    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Något gick fel hos oss" in page and "Inget sparades" in page
