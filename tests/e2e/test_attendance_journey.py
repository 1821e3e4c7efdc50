"""A provider takes attendance at a meeting under way: one came, one did not; the hours follow."""
import re
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Attendance, AttendanceStatus, Booking, Employee, HoursEntry, HoursSource, User
from tests import factories
from tests.e2e.test_accessibility import violations
from tests.e2e.test_journeys import sign_in

TITLE = "Robotsvetsning på distans"


def _row(page, name: str):
    return page.locator("#register tbody tr").filter(has=page.get_by_role("rowheader", name=name, exact=True))


def _press(page, name: str, pressed: str, status: str) -> None:
    """Press the person's Attended toggle and wait for htmx to swap in the row it answers."""
    _row(page, name).get_by_role("button").click()
    expect(_row(page, name).get_by_role("button")).to_have_attribute("aria-pressed", pressed)
    expect(_row(page, name)).to_have_class(f"attendance-{status}")


def mark_attendance(page, session_id: int, meeting_id: int, names, absent=()) -> None:
    """As the signed-in provider: open the session, then the meeting's register, and mark each of
    `names` attended (and each of `absent` absent) with the toggle, all without loading a page."""
    page.goto(f"/provider/sessions/{session_id}")
    page.locator(f'a[href="/provider/sessions/{session_id}/meetings/{meeting_id}/register"]').click()
    expect(page).to_have_url(re.compile(rf"/meetings/{meeting_id}/register$"))
    page.evaluate("window.stillTheSamePage = true")
    for name in names:
        if _row(page, name).get_by_role("button").get_attribute("aria-pressed") != "true":
            _press(page, name, "true", "attended")
    for name in absent:
        if _row(page, name).get_by_role("button").get_attribute("aria-pressed") != "true":
            _press(page, name, "true", "attended")  # not yet recorded: the first press says attended
        _press(page, name, "false", "absent")
    assert page.evaluate("window.stillTheSamePage") is True, "the toggles swapped rows without loading a page"


def a_meeting_under_way(app) -> tuple[int, int, list[str], list[int]]:
    """A session of provider@demo.example's, its one meeting begun an hour ago, with two of the demo
    company's employees booked: the session, the meeting, their names and their employee ids."""
    with app.app_context():
        provider = db.session.scalars(select(User).where(User.email == "provider@demo.example")).one().provider
        hr = db.session.scalars(select(User).where(User.email == "hr@demo.example")).one()
        people = db.session.scalars(
            select(Employee).where(Employee.company_id == hr.company_id, Employee.is_active)
            .order_by(Employee.last_name, Employee.first_name).limit(2)
        ).all()
        course = factories.course(provider=provider, title=TITLE)
        session = factories.session(course, starts_at=datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1))
        for person in people:
            factories.booking(session, person)
        return session.id, session.meetings[0].id, [p.name for p in people], [p.id for p in people]


def test_provider_marks_one_attended_and_one_absent_and_the_hours_follow(page, app, demo_programme):
    session_id, meeting_id, (came, stayed_away), (came_id, stayed_away_id) = a_meeting_under_way(app)

    sign_in(page, "provider@demo.example")
    page.wait_for_url("**/")
    mark_attendance(page, session_id, meeting_id, [came], absent=[stayed_away])
    expect(page.locator("#meeting-hours")).to_have_text("6")
    assert violations(page) == [], "the register"

    with app.app_context():
        recorded = dict(db.session.execute(
            select(Booking.employee_id, Attendance.status).join(Attendance, Attendance.booking_id == Booking.id)
            .where(Attendance.meeting_id == meeting_id)
        ).all())
        assert recorded == {came_id: AttendanceStatus.ATTENDED, stayed_away_id: AttendanceStatus.ABSENT}
        hours = db.session.execute(
            select(HoursEntry.employee_id, HoursEntry.minutes)
            .join(Attendance, Attendance.id == HoursEntry.attendance_id)
            .where(Attendance.meeting_id == meeting_id, HoursEntry.source == HoursSource.ATTENDANCE)
        ).all()
        assert hours == [(came_id, 360)]

    # The register reads the same after a reload: the toggles were saved, not only drawn.
    page.reload()
    expect(_row(page, came).get_by_role("button")).to_have_attribute("aria-pressed", "true")
    expect(_row(page, stayed_away)).to_have_class("attendance-absent")


def test_the_hours_pages_meet_wcag_aa(page, demo_programme):
    sign_in(page, "hr@demo.example")
    page.wait_for_url("**/")
    page.goto("/hours")
    expect(page.locator("#pending-hours, #decided-hours").first).to_be_visible()
    assert violations(page) == [], "HR's hours"
    page.locator('form[action="/hours"] button[type="submit"]').click()  # an empty form: errors by the fields
    expect(page.locator("#employee_id-error")).to_be_visible()
    assert violations(page) == [], "HR's hours with errors"

    page.context.clear_cookies()
    sign_in(page, "pm@demo.example")
    page.wait_for_url("**/")
    page.goto("/hours/review")
    page.locator("#hours-to-review details summary").first.click()  # a rejection form, opened
    expect(page.locator("#hours-to-review textarea").first).to_be_visible()
    assert violations(page) == [], "the programme office's review"
