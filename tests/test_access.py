"""Role gates and tenant scoping: a foreign id is a 404, a wrong role a 403, nothing changes."""
import pytest
from werkzeug.exceptions import NotFound

from portal.access import load_or_404
from portal.extensions import db
from portal.models import Booking, Company, Course, Employee, Role, Session, TrainingPlan
from tests.conftest import csrf_token, sign_in


@pytest.fixture
def two_companies(make):
    own, foreign = make.company(name="Eget AB"), make.company(name="Främmande AB")
    hr = make.user(Role.HR, company=own)
    return own, foreign, hr


def test_hr_sees_its_own_company_page(client, two_companies):
    own, _, hr = two_companies
    sign_in(client, hr.email)
    response = client.get(f"/companies/{own.id}")
    assert response.status_code == 200
    assert "Eget AB" in response.get_data(as_text=True)


def test_hr_gets_404_for_another_company_and_learns_nothing(client, two_companies):
    _, foreign, hr = two_companies
    sign_in(client, hr.email)
    foreign_answer = client.get(f"/companies/{foreign.id}")
    missing_answer = client.get("/companies/999999")
    assert foreign_answer.status_code == missing_answer.status_code == 404
    assert "Främmande AB" not in foreign_answer.get_data(as_text=True)
    assert "Sidan finns inte" in foreign_answer.get_data(as_text=True)


def test_pm_sees_every_company(client, make, two_companies):
    _, foreign, _ = two_companies
    sign_in(client, make.user(Role.PM).email)
    assert client.get(f"/companies/{foreign.id}").status_code == 200
    assert client.get("/companies/999999").status_code == 404


def test_provider_is_refused_company_pages(client, make, two_companies):
    own, _, _ = two_companies
    sign_in(client, make.user(Role.PROVIDER).email)
    response = client.get(f"/companies/{own.id}")
    assert response.status_code == 403
    assert "Du har inte behörighet" in response.get_data(as_text=True)


def test_signed_out_visitor_is_sent_to_sign_in(client, two_companies):
    own, _, _ = two_companies
    response = client.get(f"/companies/{own.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_post_without_csrf_token_changes_nothing(client, make):
    sign_in(client, make.user().email)
    response = client.post("/language", data={"locale": "en"})
    assert response.status_code == 400
    assert 'lang="sv"' in client.get("/").get_data(as_text=True)


def test_htmx_request_without_csrf_header_is_refused(client, make):
    sign_in(client, make.user().email)
    refused = client.post("/language", data={"locale": "en"}, headers={"HX-Request": "true"})
    assert refused.status_code == 400
    token = csrf_token(client, "/")
    accepted = client.post("/language", data={"locale": "en"}, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert accepted.status_code == 302


def test_layout_sends_the_csrf_token_with_every_htmx_request(client, make):
    sign_in(client, make.user().email)
    page = client.get("/").get_data(as_text=True)
    token = csrf_token(client, "/")
    assert f'hx-headers=\'{{"X-CSRFToken": "{token}"}}\'' in page


class TestScopedLoading:
    """load_or_404 answers within the user's tenant for every scoped model."""

    @pytest.fixture
    def world(self, make):
        company_a, company_b = make.company(), make.company()
        provider_a, provider_b = make.provider(), make.provider()
        employee_a, employee_b = make.employee(company_a), make.employee(company_b)
        session_a = make.session(make.course(provider_a))
        session_b = make.session(make.course(provider_b))
        booking_a = make.booking(session_a, employee_a)
        booking_b = make.booking(session_b, employee_b)
        plan_a = TrainingPlan(company=company_a, title="Plan A", period_start=_d(2026, 1, 1), period_end=_d(2026, 12, 31))
        db.session.add(plan_a)
        db.session.commit()
        return {
            "hr_a": make.user(Role.HR, company=company_a),
            "provider_a": make.user(Role.PROVIDER, provider=provider_a),
            "pm": make.user(Role.PM),
            "company_a": company_a, "company_b": company_b,
            "employee_a": employee_a, "employee_b": employee_b,
            "session_a": session_a, "session_b": session_b,
            "booking_a": booking_a, "booking_b": booking_b,
            "course_b": session_b.course, "plan_a": plan_a,
        }

    @pytest.mark.parametrize(
        ("user", "model", "target", "manage", "visible"),
        [
            ("hr_a", Company, "company_a", False, True),
            ("hr_a", Company, "company_b", False, False),
            ("hr_a", Employee, "employee_a", True, True),
            ("hr_a", Employee, "employee_b", False, False),
            ("hr_a", Booking, "booking_a", True, True),
            ("hr_a", Booking, "booking_b", False, False),
            ("hr_a", TrainingPlan, "plan_a", True, True),
            ("hr_a", Session, "session_b", False, True),  # the catalogue is for everyone to read
            ("hr_a", Session, "session_b", True, False),  # ...and for its provider alone to change
            ("provider_a", Session, "session_a", True, True),
            ("provider_a", Session, "session_b", True, False),
            ("provider_a", Course, "course_b", True, False),
            ("provider_a", Employee, "employee_a", False, True),  # booked on its own session
            ("provider_a", Employee, "employee_b", False, False),
            ("provider_a", Employee, "employee_a", True, False),  # may never change a roster
            ("provider_a", Booking, "booking_a", False, True),
            ("provider_a", Booking, "booking_b", False, False),
            ("provider_a", Company, "company_a", False, False),
            ("provider_a", TrainingPlan, "plan_a", False, False),
            ("pm", Company, "company_b", True, True),
            ("pm", Employee, "employee_b", False, True),
            ("pm", Booking, "booking_b", False, True),
        ],
    )
    def test_scope(self, app, world, user, model, target, manage, visible):
        with app.test_request_context():
            obj = world[target]
            if visible:
                assert load_or_404(model, obj.id, world[user], manage=manage).id == obj.id
            else:
                with pytest.raises(NotFound):
                    load_or_404(model, obj.id, world[user], manage=manage)

    def test_ids_that_are_not_integers_are_not_found(self, app, world):
        with app.test_request_context(), pytest.raises(NotFound):
            load_or_404(Company, "1 OR 1=1", world["pm"])


def _d(*parts):
    from datetime import date

    return date(*parts)


@pytest.fixture
def gated_app(database_url):
    """A throwaway app with one blueprint gated to providers, as later areas will be."""
    from flask import Blueprint

    from portal import create_app
    from portal.security import gate_blueprint
    from tests.conftest import IsolatedClient, config_for_tests

    app = create_app(config_for_tests(database_url))
    app.test_client_class = IsolatedClient
    area = Blueprint("area", __name__, url_prefix="/area")
    gate_blueprint(area, Role.PROVIDER)
    area.add_url_rule("/", "index", lambda: "provider area")
    app.register_blueprint(area)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_gated_blueprint_admits_only_its_roles(gated_app, make):
    anonymous = gated_app.test_client().get("/area/")
    assert anonymous.status_code == 302 and anonymous.headers["Location"] == "/login?next=/area/"
    for role, expected in ((Role.HR, 403), (Role.PM, 403), (Role.PROVIDER, 200)):
        client = gated_app.test_client()
        sign_in(client, make.user(role).email)
        assert client.get("/area/").status_code == expected, role
