"""A provider publishes a course and a session with two meetings, then moves and postpones it."""
import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.e2e.test_journeys import sign_in, sign_out

TITLE = "Hydraulik för underhållstekniker"


def publish_course_with_two_meetings(page, first_day: date, municipality: str = "Arboga") -> None:
    """As provider@demo.example: a new in-person course and its first session, meeting twice."""
    sign_in(page, "provider@demo.example")
    page.get_by_role("link", name="Mina kurser").first.click()
    page.get_by_role("link", name="Ny kurs").click()
    page.get_by_label("Titel").fill(TITLE)
    page.get_by_label("Beskrivning").fill("Felsökning och underhåll av hydraulsystem i produktionen.")
    page.get_by_label("Underhåll", exact=True).check()
    page.get_by_label("På plats").check()
    page.get_by_label("Nominella timmar").fill("12")
    page.get_by_role("button", name="Spara kursen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)

    page.get_by_role("link", name="Nytt kurstillfälle").click()
    page.get_by_role("button", name="Lägg till ett tillfälle till").click()
    for number, day in ((1, first_day), (2, first_day + timedelta(days=7))):
        meeting = page.get_by_role("group", name=f"Träff {number}")
        meeting.get_by_label("Datum").fill(day.isoformat())
        meeting.get_by_label("Börjar").fill("09:00")
        meeting.get_by_label("Slutar").fill("15:00")
        meeting.get_by_label("Lokal").fill("Verkstadshallen")
        meeting.get_by_label("Kommun").select_option(label=municipality)
    page.get_by_label("Antal platser", exact=True).fill("10")
    page.get_by_label("Sista bokningsdag").fill(f"{(first_day - timedelta(days=7)).isoformat()}T12:00")
    page.get_by_label("Sista avbokningsdag").fill(f"{(first_day - timedelta(days=3)).isoformat()}T12:00")
    page.get_by_role("button", name="Publicera").click()
    expect(page.get_by_text("Kurstillfället är publicerat.")).to_be_visible()
    expect(page.locator("table").first.locator("tbody tr")).to_have_count(2)


def test_provider_publishes_moves_and_postpones_a_session(page, demo_programme):
    first_day = date.today() + timedelta(days=60)
    publish_course_with_two_meetings(page, first_day)
    expect(page.locator(".stat", has_text="Timmar")).to_contain_text("12")

    # A bad change is refused next to the field, and nothing moves.
    page.get_by_role("link", name="Ändra datum").click()
    page.get_by_role("group", name="Träff 2").get_by_label("Slutar").fill("08:00")
    page.get_by_role("button", name="Spara de nya datumen").click()
    expect(page.get_by_text("Träffen måste sluta efter att den börjar.")).to_be_visible()
    page.get_by_role("group", name="Träff 2").get_by_label("Slutar").fill("16:00")
    page.get_by_role("button", name="Spara de nya datumen").click()
    expect(page.get_by_text("De nya datumen är sparade")).to_be_visible()

    page.get_by_text("Skjut upp utan nya datum").click()
    page.get_by_role("button", name="Skjut upp kurstillfället").click()
    expect(page.get_by_text("Datum ännu inte känt")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/provider/sessions/\d+$"))
    sign_out(page)


def test_provider_publishes_and_hr_finds_it_by_typing_and_filtering_and_takes_its_calendar(page, demo_programme):
    from tests.e2e.test_catalogue_journey import download_calendar, filter_by_municipality, open_catalogue, search_catalogue

    first_day = date.today() + timedelta(days=45)
    publish_course_with_two_meetings(page, first_day, municipality="Arboga")
    sign_out(page)

    sign_in(page, "hr@demo.example")
    page.wait_for_url("**/")
    open_catalogue(page)
    search_catalogue(page, "hydraulik för")
    filter_by_municipality(page, "Arboga")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(TITLE)
    expect(rows.first).to_contain_text("Arboga")
    rows.first.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    calendar = download_calendar(page, page.locator(".ics-link").first)
    events = calendar.walk("VEVENT")
    assert len(events) == 2
    assert [e.decoded("DTSTART").date() for e in events] == [first_day, first_day + timedelta(days=7)]
    assert all(str(e["SUMMARY"]) == TITLE for e in events)
