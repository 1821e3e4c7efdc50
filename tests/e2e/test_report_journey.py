"""The programme office opens the reports, reads the headline figures and downloads the funder's workbook."""
import io
from pathlib import Path

import openpyxl
from flask_babel import gettext as _
from playwright.sync_api import expect

from portal.i18n import hours, number
from portal.services import reports
from portal.services.report_export import headline_rows
from tests.e2e.test_accessibility import violations
from tests.e2e.test_journeys import sign_in


def open_reports(page) -> None:
    page.locator("nav.main-nav a[href='/reports']").click()
    page.wait_for_url("**/reports")


def download_xlsx(page) -> openpyxl.Workbook:
    """Click the figures' XLSX link on the report page and open the downloaded workbook."""
    with page.expect_download() as event:
        page.locator("a[href^='/reports/figures.xlsx']").click()
    download = event.value
    assert download.suggested_filename.endswith(".xlsx")
    # The browser saves it without a suffix, which openpyxl would refuse by name: read it as bytes.
    return openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))


def test_the_programme_office_reads_the_figures_and_downloads_them(page, app, demo_programme):
    with app.test_request_context():  # Swedish, as the page is
        report = reports.programme_report(reports.ReportFilters())
        shown = {"individuals": number(report.individuals), "hours": hours(report.minutes),
                 "hours-per-individual": hours(report.minutes_per_individual), "sessions": number(report.sessions)}
        applied = [(_("From"), ""), (_("To"), ""), (_("Region"), _("All regions")), (_("Company"), _("All companies"))]
        rows = headline_rows(report, applied)
        expected_sheet = [(_("Figure"), _("Value")), *((k, v if v != "" else None) for k, v in rows)]  # "" reads back None
    assert report.individuals and report.sessions, "the demo programme has counted hours"

    sign_in(page, "pm@demo.example")
    page.wait_for_url("**/")
    open_reports(page)
    for figure, text in shown.items():
        expect(page.locator(f"#figure-{figure} .stat-value")).to_have_text(text)
    expect(page.locator("svg[role=img]")).to_have_count(4)  # progress, month, gender, status
    assert violations(page) == []

    book = download_xlsx(page)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows == expected_sheet
    assert len(book.worksheets) == 1 + len(report.breakdowns)


def test_attendance_marked_by_a_provider_shows_in_the_programme_report_and_its_workbook(page, app, demo_programme):
    from tests.e2e.test_attendance_journey import a_meeting_under_way, mark_attendance
    from tests.e2e.test_journeys import sign_out

    with app.test_request_context():
        before = reports.programme_report(reports.ReportFilters())
    session_id, meeting_id, names, _ids = a_meeting_under_way(app)

    sign_in(page, "provider@demo.example")
    page.wait_for_url("**/")
    mark_attendance(page, session_id, meeting_id, names)
    sign_out(page)

    with app.test_request_context():
        after = reports.programme_report(reports.ReportFilters())
        expected = {"individuals": number(after.individuals), "hours": hours(after.minutes)}
    assert after.minutes == before.minutes + 2 * 6 * 60  # two people, one six-hour meeting
    assert after.individuals >= before.individuals

    sign_in(page, "pm@demo.example")
    page.wait_for_url("**/")
    open_reports(page)
    expect(page.locator("#figure-hours .stat-value")).to_have_text(expected["hours"])
    expect(page.locator("#figure-individuals .stat-value")).to_have_text(expected["individuals"])
    sheet = dict(download_xlsx(page).worksheets[0].iter_rows(values_only=True))
    with app.test_request_context():
        assert any(str(value) == expected["hours"] or value == after.minutes / 60 for value in sheet.values())
