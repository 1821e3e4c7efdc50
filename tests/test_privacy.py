"""Data minimisation: a provider sees of a booked employee only the name, the company and attendance."""
from datetime import datetime, timedelta, timezone

from portal.models import EmploymentStatus, Gender, Role
from tests.conftest import sign_in


def test_a_provider_sees_name_company_and_attendance_only(client, make, ctx):
    provider_user = make.user(Role.PROVIDER)
    started = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    session = make.session(make.course(provider_user.provider), starts_at=started)
    company = make.company(name="Verkstaden i Köping AB")
    person = make.employee(company, first_name="Greta", last_name="Lindqvist", email="greta.private@example.se",
                           gender=Gender.WOMAN, birth_year=1971, employment_status=EmploymentStatus.FURLOUGHED)
    make.booking(session, person)
    sign_in(client, provider_user.email)

    pages = [client.get(f"/provider/sessions/{session.id}"),
             client.get(f"/provider/sessions/{session.id}/meetings/{session.meetings[0].id}/register")]
    for response in pages:
        assert response.status_code == 200, response.request.path
        page = response.get_data(as_text=True)
        assert "Greta Lindqvist" in page and "Verkstaden i Köping AB" in page
        for private in ("greta.private@example.se", "1971", "Kvinna", "Permitterad", "woman", "furloughed"):
            assert private not in page, (response.request.path, private)
