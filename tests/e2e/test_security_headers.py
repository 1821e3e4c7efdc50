"""The Content-Security-Policy enforced in a real browser: pages and htmx swaps work with no inline
script, no eval and no inline style, and the browser reports no violation."""
import re

from playwright.sync_api import expect

from tests.e2e.test_catalogue_journey import RESULT_TITLES, open_catalogue, search_catalogue
from tests.e2e.test_journeys import sign_in


def test_the_portal_works_under_its_content_security_policy(browser, live_server, demo_programme):
    context = browser.new_context(base_url=live_server, locale="sv-SE")  # the policy enforced
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if re.search(r"Content Security Policy|Refused to", message.text) else None)
    page.on("pageerror", lambda error: refused.append(str(error)))
    try:
        sign_in(page, "hr@demo.example")
        page.wait_for_url("**/")
        open_catalogue(page)
        everything = page.locator(RESULT_TITLES).count()
        page.evaluate("window.stillTheSamePage = true")
        search_catalogue(page, "svets")  # an htmx swap
        expect(page.locator(RESULT_TITLES)).not_to_have_count(everything)
        assert page.evaluate("window.stillTheSamePage") is True
        page.goto("/notifications/")
        page.goto("/restrictions")  # a 403 page renders under the policy too
        assert refused == []
    finally:
        context.close()
