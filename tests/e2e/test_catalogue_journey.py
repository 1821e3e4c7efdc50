"""Finding a course in the browser: search as you type, filter, open the course, take its calendar file."""
import re
from urllib.parse import quote
from pathlib import Path

from icalendar import Calendar
from playwright.sync_api import expect

from portal.demo import COURSES
from tests.e2e.test_accessibility import violations
from tests.e2e.test_journeys import sign_in

RESULT_TITLES = "#results tbody th a"


def open_catalogue(page) -> None:
    page.locator('.main-nav a[href="/catalogue/"]').click()
    expect(page).to_have_url(re.compile(r"/catalogue/$"))
    expect(page.locator(RESULT_TITLES).first).to_be_visible()


def search_catalogue(page, text: str) -> None:
    """Type into the search box as a person does, and wait for the list (and the address) to follow."""
    page.locator("#q").press_sequentially(text, delay=40)
    expect(page).to_have_url(re.compile(r"[?&]q=" + re.escape(quote(text))))


def filter_by_municipality(page, name: str) -> None:
    page.locator("#municipality").select_option(label=name)
    expect(page).to_have_url(re.compile(r"[?&]municipality=\d{4}"))


def download_calendar(page, link) -> Calendar:
    with page.expect_download() as info:
        link.click()
    return Calendar.from_ical(Path(info.value.path()).read_bytes())


def _courses_about(text: str) -> set[str]:
    """The demo courses whose title or description has the text."""
    return {course[1] for course in COURSES if text in f"{course[1]} {course[10]}".lower()}


def test_hr_finds_a_course_by_typing_and_filtering_and_takes_its_calendar_file(page, demo_programme):
    sign_in(page, "hr@demo.example")
    page.wait_for_url("**/")
    open_catalogue(page)
    everything = page.locator(RESULT_TITLES).count()
    page.evaluate("window.stillTheSamePage = true")

    search_catalogue(page, "svets")
    titles = page.locator(RESULT_TITLES)
    expect(titles).not_to_have_count(everything)
    assert set(titles.all_text_contents()) <= _courses_about("svets")

    filter_by_municipality(page, "Kristinehamn")
    expect(page.locator("#results tbody tr").first).to_contain_text("Kristinehamn")
    for row in page.locator("#results tbody tr").all_text_contents():
        assert "Kristinehamn" in row
    assert set(titles.all_text_contents()) <= _courses_about("svets")
    assert page.evaluate("window.stillTheSamePage") is True, "the list was updated without loading a new page"

    chosen = page.locator(RESULT_TITLES).first.text_content()
    page.locator(RESULT_TITLES).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(chosen)

    calendar = download_calendar(page, page.locator(".ics-link").first)
    events = calendar.walk("VEVENT")
    assert events and all(str(event["SUMMARY"]) == chosen for event in events)
    assert all(re.fullmatch(r"meeting-\d+@portal", str(event["UID"])) for event in events)

    page.go_back()
    expect(page).to_have_url(re.compile(r"q=svets.*municipality=1781|municipality=1781.*q=svets"))
    expect(page.locator("#q")).to_have_value("svets")


def test_pages_and_searches_swap_in_place_and_the_back_button_undoes_them(page, demo_programme):
    sign_in(page, "hr@demo.example")
    page.wait_for_url("**/")
    open_catalogue(page)
    first_page = page.locator(RESULT_TITLES).all_text_contents()
    first_row = page.locator("#results tbody tr").first
    first_id = first_row.get_attribute("id")
    page.evaluate("window.stillTheSamePage = true")
    page.locator('#results a[rel="next"]').click()
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect(first_row).not_to_have_attribute("id", first_id)
    search_catalogue(page, "cnc")
    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/catalogue/$"))
    expect(page.locator(RESULT_TITLES)).to_have_text(first_page)
    assert page.evaluate("window.stillTheSamePage") is True


def test_an_end_date_before_the_start_date_is_pointed_out_as_the_user_picks(page, demo_programme):
    sign_in(page, "hr@demo.example")
    page.wait_for_url("**/")
    open_catalogue(page)
    page.evaluate("window.stillTheSamePage = true")
    page.locator("#date_from").fill("2030-05-01")
    page.locator("#date_to").fill("2030-04-01")
    expect(page.locator('#filter-problems a[href="#date_to"]')).to_be_visible()
    expect(page.locator("#date_to")).to_have_value("2030-04-01")  # what the user picked stays
    page.locator("#date_to").fill("2030-05-31")
    expect(page.locator("#filter-problems")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"date_from=2030-05-01&date_to=2030-05-31"))
    assert page.evaluate("window.stillTheSamePage") is True


def test_catalogue_and_course_pages_meet_wcag_aa(page, demo_programme):
    sign_in(page, "hr@demo.example")
    page.wait_for_url("**/")
    open_catalogue(page)
    assert violations(page) == [], "the catalogue"
    search_catalogue(page, "cnc")
    assert violations(page) == [], "the catalogue after a search"
    page.goto("/catalogue/?date_from=2030-05-01&date_to=2030-04-01&area=nope")
    assert violations(page) == [], "the catalogue with errors in the filters"
    page.goto("/catalogue/")
    page.locator(RESULT_TITLES).first.click()
    expect(page.locator(".ics-link").first).to_be_visible()
    assert violations(page) == [], "a course page"
    page.goto("/calendar")
    assert violations(page) == [], "the calendar feed page, feed off"
    page.locator('form[action="/calendar/token"] button').click()
    expect(page.locator("#feed-url")).to_have_value(re.compile(r"/calendar/[\w-]{43}\.ics$"))
    assert violations(page) == [], "the calendar feed page, with its address"
