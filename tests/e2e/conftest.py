"""Browser journeys: Chromium driven by Playwright against a live portal on this run's database."""
import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
HOW_TO_ENABLE = (
    "browser tests need Chromium and Playwright: `apt-get install chromium` (or set PORTAL_CHROMIUM "
    "to a Chromium binary) and `pip install -e '.[dev]'`"
)


def chromium_path() -> str | None:
    return os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    required = os.environ.get("PORTAL_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("PORTAL_REQUIRE_BROWSER=1 but Playwright is not installed: " + HOW_TO_ENABLE)
        pytest.skip(HOW_TO_ENABLE)
    executable = chromium_path()
    if executable is None:
        if required:
            pytest.fail("PORTAL_REQUIRE_BROWSER=1 but Chromium was not found: " + HOW_TO_ENABLE)
        pytest.skip(HOW_TO_ENABLE)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The portal served over HTTP on a free local port for the length of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def page(browser, live_server):
    # axe-core is injected as an inline script, which the portal's Content-Security-Policy refuses;
    # test_security_headers walks the pages with the policy enforced.
    context = browser.new_context(base_url=live_server, locale="sv-SE", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def demo_programme(app):
    """The demo programme, as `make run` seeds it."""
    from datetime import date, timedelta

    from portal.demo import build_demo_programme
    from portal.extensions import db

    today = date.today()
    with app.app_context():
        build_demo_programme(today - timedelta(days=today.weekday()))
        db.session.commit()
