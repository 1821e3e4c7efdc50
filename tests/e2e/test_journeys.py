"""What a person does in the browser, start to finish."""
import re

from playwright.sync_api import expect

from portal.demo import DEMO_PASSWORD


def sign_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()


def sign_out(page) -> None:
    page.get_by_role("button", name="Logga ut").click()
    expect(page.get_by_text("Du är utloggad.")).to_be_visible()


def test_each_demo_role_signs_in_and_sees_its_start_page(page, demo_programme):
    sign_in(page, "hr@demo.example")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Logga in")
    expect(page.get_by_text("Anställda i personallistan")).to_be_visible()
    expect(page.get_by_role("heading", name="Kommande kurstillfällen med våra anställda")).to_be_visible()
    expect(page.locator(".brand")).to_have_text("Ett kompetenslyft för Sverige")
    sign_out(page)

    sign_in(page, "provider@demo.example")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mälardalens universitet")
    expect(page.locator("table tbody tr").first).to_be_visible()
    sign_out(page)

    sign_in(page, "pm@demo.example")
    expect(page.get_by_role("heading", level=1)).to_have_text("Programöversikt")
    expect(page.get_by_text("Gällande restriktioner")).to_be_visible()
    page.locator("table a").first.click()
    expect(page).to_have_url(re.compile(r"/companies/\d+$"))
    expect(page.get_by_text("Anställda i personallistan")).to_be_visible()


def test_wrong_password_shows_the_message_and_keeps_the_user_out(page, demo_programme):
    sign_in(page, "hr@demo.example", "not the password")
    expect(page.get_by_text("Fel e-postadress eller lösenord.")).to_be_visible()
    expect(page.get_by_label("Lösenord")).to_have_attribute("aria-invalid", "true")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))


def test_the_language_switch_works_in_the_browser(page, demo_programme):
    sign_in(page, "pm@demo.example")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Programme overview")
    page.get_by_role("button", name="Svenska").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Programöversikt")
