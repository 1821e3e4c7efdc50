"""HR imports its roster, puts two of the new employees in a plan need, and a provider sees the
need pooled with other companies' needs: companies and head counts, never names."""
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import CompetenceArea, User
from portal.services import demand
from tests.e2e.test_journeys import sign_in, sign_out
from tests.e2e.test_roster_journey import BAD_ROW, FIXED_ROW, GOOD_ROWS, choose_file_and_preview, write_roster


def a_provider_with_an_unmet_area(app) -> tuple[str, str, str, int]:
    """A demo provider teaching an area that no open session offers in the HR company's region."""
    with app.app_context():
        hr = db.session.scalars(select(User).where(User.email == "hr@demo.example")).one()
        region = hr.company.municipality.region
        offers = demand.open_offers(None)
        for user in db.session.scalars(select(User).where(User.role == "provider").order_by(User.id)):
            for area_id in sorted(demand.provider_areas(user.provider_id)):
                if (area_id, region.id) not in offers["areas"] and area_id not in offers["digital_areas"]:
                    area = db.session.get(CompetenceArea, area_id)
                    before = next((p.people for p in demand.pooled() if (p.area, p.region) == (area.name_sv, region.name)), 0)
                    return user.email, area.name_en, region.name, before
    raise AssertionError("the demo programme should leave some area unmet")


def test_imported_employees_in_a_plan_need_show_up_as_pooled_demand_without_names(page, app, demo_programme, tmp_path):
    provider_email, area, region, people_before = a_provider_with_an_unmet_area(app)

    sign_in(page, "hr@demo.example")
    page.wait_for_url("**/")
    page.get_by_role("button", name="English").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Employees").click()
    page.get_by_role("link", name="Import from a CSV file").click()
    choose_file_and_preview(page, write_roster(tmp_path / "roster.csv", *GOOD_ROWS, BAD_ROW))
    expect(page.locator("#line-4")).to_contain_text("Give a valid email address")
    page.get_by_role("link", name="Choose another file").click()
    choose_file_and_preview(page, write_roster(tmp_path / "roster-fixed.csv", *GOOD_ROWS, FIXED_ROW))
    page.get_by_role("button", name="Confirm import").click()
    expect(page.get_by_text("Import done: 3 added, 0 updated.")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Training plan").click()
    page.get_by_role("link", name="Add a need").click()
    page.get_by_label("Competence area").select_option(label=_swedish(app, area))
    page.get_by_label("Åsa Importsson", exact=False).check()
    page.get_by_label("Märta Importberg", exact=False).check()
    page.get_by_label("Planned hours in all").fill("16")
    page.get_by_label("Target quarter").select_option(index=page.locator("#target option").count() - 1)
    page.get_by_role("button", name="Save the need").click()
    expect(page.get_by_text("The need is added to the plan.")).to_be_visible()
    expect(page.locator(".plan-item").last).to_contain_text("Not booked yet: Märta Importberg, Åsa Importsson")
    sign_out_english(page)

    sign_in(page, provider_email)
    page.wait_for_url("**/")
    page.get_by_role("link", name="Samlad efterfrågan").click()
    row = page.locator("tbody tr").filter(has_text=_swedish(app, area)).filter(has_text=region)
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(3)).to_have_text(str(people_before + 2))
    body = page.locator("main").inner_text()
    for name in ("Åsa", "Märta", "Importsson", "Importberg", "Mälarverken"):
        assert name not in body
    sign_out(page)


def sign_out_english(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Svenska").click()


def _swedish(app, name_en: str) -> str:
    with app.app_context():
        return db.session.scalars(select(CompetenceArea.name_sv).where(CompetenceArea.name_en == name_en)).one()
