"""WCAG 2.1 AA, checked by axe-core in Chromium on every page a role reaches."""
from pathlib import Path

import pytest

from tests.e2e.test_journeys import sign_in

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe-4.14.1.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    return [
        f"{v['id']}: {v['help']} at {[node['target'] for node in v['nodes']]}" for v in result["violations"]
    ]


def test_sign_in_and_error_pages_meet_wcag_aa(page, demo_programme):
    for path in ("/login", "/no/such/page"):
        page.goto(path)
        assert violations(page) == [], path
    sign_in(page, "hr@demo.example", "wrong password")
    assert violations(page) == [], "sign-in with an error message"


@pytest.mark.parametrize("email", ["hr@demo.example", "provider@demo.example", "pm@demo.example"])
def test_start_pages_meet_wcag_aa(page, demo_programme, email):
    sign_in(page, email)
    page.wait_for_url("**/")
    assert violations(page) == []
    page.get_by_role("button", name="English").click()
    assert violations(page) == [], "in English"
