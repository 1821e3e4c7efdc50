"""HR imports its roster from a CSV file, sees a bad row explained, fixes the file and imports it.
The pages are in English here: their Swedish texts arrive with the next translation merge."""
import re

from playwright.sync_api import expect

from tests.e2e.test_accessibility import violations
from tests.e2e.test_journeys import sign_in

HEADER = "Förnamn;Efternamn;E-post;Befattning;Anställningsstatus;Kön;Födelseår"
GOOD_ROWS = [
    "Åsa;Importsson;asa.importsson@example.se;Svetsare;anställd;kvinna;1979",
    "Örjan;Ängsimport;;CNC-operatör;permitterad;man;1985",
]
BAD_ROW = "Märta;Importberg;marta(at)example.se;Montör;varslad;kvinna;1990"
FIXED_ROW = BAD_ROW.replace("(at)", "@")


def write_roster(path, *rows: str) -> str:
    """As Swedish Excel saves "CSV (semicolon separated)": Windows-1252 with CRLF line ends."""
    path.write_bytes("\r\n".join([HEADER, *rows]).encode("cp1252"))
    return str(path)


def choose_file_and_preview(page, path: str) -> None:
    page.get_by_label("CSV file").set_input_files(path)
    page.get_by_role("button", name="Show what would change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the import")


def test_hr_imports_a_roster_fixes_a_bad_row_and_finds_the_new_employees(page, demo_programme, tmp_path):
    sign_in(page, "hr@demo.example")
    page.wait_for_url("**/")
    page.get_by_role("button", name="English").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Employees").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Employees")
    expect(page.locator(".roster-table tbody tr").first).to_be_visible()
    assert violations(page) == [], "the roster list"

    page.get_by_role("link", name="Import from a CSV file").click()
    assert violations(page) == [], "the import form"
    choose_file_and_preview(page, write_roster(tmp_path / "personal.csv", *GOOD_ROWS, BAD_ROW))
    expect(page.locator("#count-new")).to_have_text("2")
    expect(page.locator("#count-error")).to_have_text("1")
    bad = page.locator("#line-4")
    expect(bad).to_have_class(re.compile("import-error"))
    expect(bad).to_contain_text("Give a valid email address")
    expect(page.locator("#import-errors")).to_contain_text("Line 4")
    assert violations(page) == [], "the preview with an error"

    page.get_by_role("link", name="Choose another file").click()
    choose_file_and_preview(page, write_roster(tmp_path / "personal-rattad.csv", *GOOD_ROWS, FIXED_ROW))
    expect(page.locator("#count-new")).to_have_text("3")
    expect(page.locator("#count-error")).to_have_text("0")
    page.get_by_role("button", name="Confirm import").click()

    expect(page.get_by_text("Import done: 3 added, 0 updated.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Employees")
    page.get_by_label("Search by name, job role or email").fill("import")
    rows = page.locator(".roster-table tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#result-count")).to_have_text("Employees found: 3")
    for name in ("Importsson, Åsa", "Ängsimport, Örjan", "Importberg, Märta"):
        expect(rows.filter(has_text=name)).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/employees\?q=import"))

    rows.get_by_role("link", name="Importberg, Märta").click()
    expect(page.get_by_label("Email")).to_have_value("marta@example.se")
    expect(page.get_by_label("Birth year")).to_have_value("1990")
    assert violations(page) == [], "the employee form"
    page.get_by_label("First name").fill("")
    page.get_by_role("button", name="Save the employee").click()
    expect(page.locator("#first_name-error")).to_be_visible()
    assert violations(page) == [], "the employee form with an error"
