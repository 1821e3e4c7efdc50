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


def _luminance(rgb: str) -> float:
    """WCAG relative luminance of a computed CSS colour, 'rgb(r, g, b)'."""
    channels = [int(c) / 255 for c in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("email", ["hr@demo.example", "provider@demo.example", "pm@demo.example"])
def test_the_header_names_who_is_signed_in_readably(page, demo_programme, email):
    """axe let the name pass in the header's own blue (contrast 1:1): measured here, at least 4.5:1."""
    sign_in(page, email)
    page.wait_for_url("**/")
    who = page.locator("header a.who")
    name = page.evaluate("() => document.querySelector('header a.who').firstChild.textContent.trim()")
    assert name  # the account's name, not only its role
    text = who.evaluate("e => getComputedStyle(e).color")
    ground = page.locator("header.site-header").evaluate("e => getComputedStyle(e).backgroundColor")
    lighter, darker = sorted([_luminance(text), _luminance(ground)], reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5, (text, ground)


@pytest.mark.parametrize("email", ["hr@demo.example", "provider@demo.example", "pm@demo.example"])
def test_every_page_in_the_navigation_meets_wcag_aa(page, demo_programme, email):
    sign_in(page, email)
    page.wait_for_url("**/")
    links = page.eval_on_selector_all("header nav a", "links => links.map(a => a.getAttribute('href'))")
    assert len(links) >= 4
    for path in dict.fromkeys(links):
        page.goto(path)
        assert violations(page) == [], path
