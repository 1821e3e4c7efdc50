"""HR books three employees into two seats, cancels one, and the waitlist moves up at once."""
import re
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Employee, User
from tests import factories
from tests.e2e.test_catalogue_journey import open_catalogue, search_catalogue
from tests.e2e.test_journeys import sign_in

TITLE = "Pneumatik i praktiken"


def test_hr_books_three_into_two_seats_then_a_cancellation_promotes_the_waitlisted(page, app, demo_programme):
    with app.app_context():
        hr = db.session.scalars(select(User).where(User.email == "hr@demo.example")).one()
        course = factories.course(title=TITLE, provider=factories.provider(name="Pneumatikskolan"))
        factories.session(course, starts_at=datetime.now(timezone.utc) + timedelta(days=30), capacity=2)
        names = [e.name for e in db.session.scalars(
            select(Employee).where(Employee.company_id == hr.company_id, Employee.is_active)
            .order_by(Employee.last_name, Employee.first_name).limit(3)
        )]

    sign_in(page, "hr@demo.example")
    page.wait_for_url("**/")
    unread_before = int(page.locator("#notification-badge .count").text_content() or 0) \
        if page.locator("#notification-badge .count").count() else 0
    open_catalogue(page)
    search_catalogue(page, "pneumatik i")
    page.locator("#results tbody").get_by_role("link", name=TITLE).click()
    page.get_by_role("link", name="Boka anställda").click()
    for name in names:
        page.get_by_label(re.compile(re.escape(name))).check()
    page.get_by_role("button", name="Boka de valda").click()

    outcomes = page.locator("#outcomes tbody tr")
    expect(outcomes).to_have_count(3)
    expect(page.locator("#outcomes .outcome-booked")).to_have_count(2)
    expect(page.locator("#outcomes .outcome-waitlisted")).to_contain_text("plats 1")
    waitlisted = names[2]
    expect(page.locator("#outcomes .outcome-waitlisted")).to_contain_text(waitlisted)

    page.get_by_role("link", name="Alla våra bokningar").click()
    row = page.locator("tbody tr").filter(has_text=TITLE).filter(has_text=names[0])
    row.get_by_role("button", name=f"Avboka {names[0]}").click()
    expect(page.get_by_text(f"{waitlisted} fick den lediga platsen från väntelistan.")).to_be_visible()
    expect(page.locator("#notification-badge .count")).to_have_text(str(unread_before + 1))
    page.locator("#notification-badge").click()
    expect(page.locator(".notification").first).to_contain_text(TITLE)
    expect(page.locator(".notification").first).to_contain_text(waitlisted)
