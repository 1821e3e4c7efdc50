"""A restriction caps groups at 8: a demo session with 12 booked is postponed, HR is told; when it is
lifted the provider confirms the proposed dates, and HR sees them and downloads the updated calendar file."""
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Booking, BookingStatus, Course, Meeting, Municipality, ProposalStatus, Region, RescheduleProposal, Role, Session,
    SessionStatus, User,
)
from tests.e2e.test_accessibility import violations
from tests.e2e.test_journeys import sign_in, sign_out

ZONE = ZoneInfo("Europe/Stockholm")


def a_crowded_session(app) -> dict:
    """An open session ahead with in-person meetings and 12 booked (the closest to 12 above 8 if none has
    exactly 12), with its region, provider user and the HR of a company booked on it."""
    with app.app_context():
        first = select(func.min(Meeting.starts_at)).where(Meeting.session_id == Session.id).scalar_subquery()
        in_person = select(Meeting.id).where(Meeting.session_id == Session.id, Meeting.municipality_id.is_not(None)).exists()
        candidates = db.session.execute(
            select(Session.id, Session.seats_taken, Session.course_id)
            .where(Session.status == SessionStatus.OPEN, Session.seats_taken > 8, in_person, first > datetime.now(ZONE))
            .order_by(func.abs(Session.seats_taken - 12), Session.id)
        ).all()
        assert candidates, "the demo has an open in-person session booked beyond eight"
        session_id, booked, course_id = candidates[0]
        region = db.session.scalar(
            select(Region.name).join(Municipality, Municipality.region_id == Region.id)
            .join(Meeting, Meeting.municipality_id == Municipality.id).where(Meeting.session_id == session_id).limit(1)
        )
        provider_email = db.session.scalar(
            select(User.email).join(Course, Course.provider_id == User.provider_id)
            .where(Course.id == course_id, User.role == Role.PROVIDER).order_by(User.id).limit(1)
        )
        hr_email = db.session.scalar(
            select(User.email).join(Booking, Booking.company_id == User.company_id)
            .where(Booking.session_id == session_id, Booking.status == BookingStatus.BOOKED, User.role == Role.HR)
            .order_by(User.id).limit(1)
        )
        title = db.session.get(Course, course_id).title
    return {"id": session_id, "booked": booked, "course_id": course_id, "region": region, "title": title,
            "provider": provider_email, "hr": hr_email}


def test_a_restriction_postpones_a_crowded_session_and_lifting_it_brings_new_dates(page, app, demo_programme):
    target = a_crowded_session(app)
    today = date.today().isoformat()

    # The programme office records the restriction, seeing first what it postpones.
    sign_in(page, "pm@demo.example")
    page.wait_for_url("**/")
    page.locator("nav.main-nav a[href='/restrictions']").click()
    page.get_by_role("link", name="Registrera en restriktion").click()
    page.get_by_label("Regioner", exact=True).check()
    page.get_by_text("Välj regioner").click()
    page.get_by_label(target["region"], exact=True).check()
    page.get_by_label("Gäller från").fill(today)
    page.get_by_label("Största grupp på plats").fill("8")
    page.get_by_label("Beskrivning").fill("Regionalt beslut: högst 8 deltagare vid fysiska sammankomster.")
    page.get_by_role("button", name="Förhandsvisa vad den skjuter upp").click()
    impact = page.locator("#impact")
    expect(impact).to_contain_text(target["title"])
    assert violations(page) == []
    page.get_by_role("button", name="Registrera restriktionen").click()
    expect(page.locator(".flash-success")).to_contain_text("Restriktionen är registrerad")
    restriction_url = page.url
    with app.app_context():
        assert db.session.get(Session, target["id"]).status == SessionStatus.POSTPONED
    sign_out(page)

    # HR of a company booked on it is told.
    sign_in(page, target["hr"])
    page.wait_for_url("**/")
    page.goto("/notifications")
    expect(page.locator(".notification", has_text=f"Uppskjuten: {target['title']}").first).to_be_visible()
    sign_out(page)

    # The programme office lifts it today: new dates are proposed at once.
    sign_in(page, "pm@demo.example")
    page.wait_for_url("**/")
    page.goto(restriction_url)
    page.get_by_label("Hävs från").fill(today)
    page.get_by_role("button", name="Häv restriktionen").click()
    expect(page.locator(".flash-success")).to_contain_text("Restriktionen är hävd")
    sign_out(page)
    with app.app_context():
        proposal = db.session.scalars(
            select(RescheduleProposal).where(RescheduleProposal.session_id == target["id"],
                                             RescheduleProposal.status == ProposalStatus.PROPOSED)
        ).one()
        proposed = [m.starts_at for m in proposal.meetings]

    # The provider sees the proposal on its start page and confirms it.
    sign_in(page, target["provider"])
    page.wait_for_url("**/")
    needing = page.locator("#needing-dates")
    expect(needing).to_contain_text(target["title"])
    needing.get_by_role("link", name=target["title"]).first.click()
    expect(page.locator("#proposed-dates li")).to_have_count(len(proposed))
    assert violations(page) == []
    page.get_by_role("button", name="Bekräfta de föreslagna datumen").click()
    expect(page.locator(".flash-success")).to_contain_text("De nya datumen är bekräftade")
    with app.app_context():
        session = db.session.get(Session, target["id"])
        assert session.status == SessionStatus.OPEN and session.seats_taken == target["booked"]
        moved = [m.starts_at for m in session.meetings]
        sequence = session.ical_sequence
    assert sorted(proposed) == sorted(moved)[-len(proposed):]
    sign_out(page)

    # HR sees the new dates and downloads the updated calendar file.
    sign_in(page, target["hr"])
    page.wait_for_url("**/")
    page.goto("/notifications")
    expect(page.locator(".notification", has_text=f"Nya datum: {target['title']}").first).to_be_visible()
    page.goto(f"/catalogue/courses/{target['course_id']}")
    article = page.locator(f"#session-{target['id']}")
    first_day = proposed[0].astimezone(ZONE)
    expect(article.locator("table.meetings")).to_contain_text(first_day.strftime("%H:%M"))
    with page.expect_download() as event:
        article.locator("a.ics-link").click()
    calendar = Path(event.value.path()).read_text()
    assert f"SEQUENCE:{sequence}" in calendar
    assert f"DTSTART:{proposed[0].strftime('%Y%m%dT%H%M%SZ')}" in calendar
