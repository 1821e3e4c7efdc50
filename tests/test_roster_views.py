"""The roster pages: HR lists, searches, adds, edits, deactivates and imports its own employees;
another company's employee is a 404, other roles a 403, and every change needs its CSRF token."""
import base64
import io
import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.extensions import db
from portal.models import Employee, EmploymentStatus, Gender, Role
from tests.conftest import count_queries, csrf_token, sign_in


@pytest.fixture
def hr(make):
    return make.user(Role.HR)


@pytest.fixture
def signed_in(client, hr):
    sign_in(client, hr.email)
    return client


def english(client) -> None:
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})


def post(client, path, data=None, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/"), **(data or {})}, **kwargs)


def upload(client, raw: bytes, filename: str = "personal.csv"):
    # Encoded here, in memory: the test client would spool a large body to a file it never closes.
    file = FileStorage(io.BytesIO(raw), filename=filename, content_type="text/csv")
    boundary, body = encode_multipart({"csrf_token": csrf_token(client, "/"), "file": file})
    return client.post("/employees/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def employee_fields(**overrides) -> dict:
    return {"first_name": "Åsa", "last_name": "Öberg", "email": "asa.oberg@verkstad.se", "job_role": "Svetsare",
            "employment_status": "furloughed", "gender": "woman", "birth_year": "1978"} | overrides


def count_employees() -> int:
    return db.session.scalar(select(func.count(Employee.id)))


class TestList:
    def test_the_list_shows_the_companys_active_employees_with_gender_and_birth_year(self, signed_in, make, hr):
        make.employee(hr.company, first_name="Greta", last_name="Garbo", gender=Gender.WOMAN, birth_year=1970,
                      email="greta@v.se", job_role="Montör")
        make.employee(hr.company, first_name="Gösta", last_name="Gone", is_active=False)
        make.employee(make.company(), first_name="Främling", last_name="Annan")
        english(signed_in)
        response = signed_in.get("/employees")
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and "<html" in page
        assert "Garbo, Greta" in page and "greta@v.se" in page and "Woman" in page and "1970" in page
        assert "Gone" not in page and "Främling" not in page
        assert "Employees found: 1" in page

    def test_hr_navigation_leads_to_the_roster(self, signed_in):
        assert 'href="/employees"' in signed_in.get("/").get_data(as_text=True)

    @pytest.mark.parametrize(("query", "found"), [
        ("garbo", "Garbo"), ("MONTÖR", "Garbo"), ("greta@v", "Garbo"), ("svets", "Berg"), ("greta garbo", "Garbo"),
    ])
    def test_search_by_name_job_role_or_email(self, signed_in, make, hr, query, found):
        make.employee(hr.company, first_name="Greta", last_name="Garbo", email="greta@v.se", job_role="Montör")
        make.employee(hr.company, first_name="Bo", last_name="Berg", job_role="Svetsare")
        page = signed_in.get("/employees", query_string={"q": query}).get_data(as_text=True)
        rows = re.findall(r'<tr id="employee-\d+"[^>]*>\s*<th scope="row"><a [^>]+>([^,<]+),', page)
        assert rows == [found]

    def test_search_text_with_sql_wildcards_is_taken_literally(self, signed_in, make, hr):
        make.employee(hr.company, first_name="Greta", last_name="Garbo")
        page = signed_in.get("/employees", query_string={"q": "%"}).get_data(as_text=True)
        assert "Garbo" not in page

    @pytest.mark.parametrize(("shown", "names"), [
        ("active", {"Ahlqvist"}), ("deactivated", {"Sundin"}), ("all", {"Ahlqvist", "Sundin"}),
        ("nonsense", {"Ahlqvist"}),
    ])
    def test_filter_by_status(self, signed_in, make, hr, shown, names):
        make.employee(hr.company, first_name="Anna", last_name="Ahlqvist")
        make.employee(hr.company, first_name="Sven", last_name="Sundin", is_active=False)
        page = signed_in.get("/employees", query_string={"shown": shown}).get_data(as_text=True)
        assert {name for name in ("Ahlqvist", "Sundin") if name in page} == names

    def test_htmx_search_gets_only_the_table_and_the_count(self, signed_in, make, hr):
        make.employee(hr.company, first_name="Greta", last_name="Garbo")
        response = signed_in.get("/employees", query_string={"q": "garbo"}, headers={"HX-Request": "true"})
        fragment = response.get_data(as_text=True)
        assert response.status_code == 200 and "<html" not in fragment and "<form" not in fragment
        assert 'class="roster-table"' in fragment and "Garbo" in fragment
        assert 'id="result-count"' in fragment and 'hx-swap-oob="innerHTML"' in fragment
        assert "HX-Request" in response.headers["Vary"]

    def test_a_history_restore_gets_the_full_page(self, signed_in):
        headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
        assert "<html" in signed_in.get("/employees", headers=headers).get_data(as_text=True)

    def test_the_list_pages_by_fifty(self, signed_in, make, hr):
        for n in range(55):
            make.employee(hr.company, first_name="Anna", last_name=f"Berg {n:02d}")
        first = signed_in.get("/employees").get_data(as_text=True)
        second = signed_in.get("/employees", query_string={"page": 2}).get_data(as_text=True)
        assert first.count('<tr id="employee-') == 50 and second.count('<tr id="employee-') == 5
        assert 'rel="next"' in first and "Berg 54" in second

    def test_the_list_runs_the_same_queries_for_5_and_60_employees(self, app, make, hr):
        def queries() -> int:
            client = app.test_client()
            sign_in(client, hr.email)
            with count_queries() as statements:
                assert client.get("/employees").status_code == 200
            return len(statements)

        for n in range(5):
            make.employee(hr.company, birth_year=1980 + n, gender=Gender.MAN)
        few = queries()
        for n in range(55):
            make.employee(hr.company, birth_year=1980 + n % 30, gender=Gender.WOMAN)
        assert queries() == few


class TestAddAndEdit:
    def test_hr_adds_an_employee(self, signed_in, hr):
        response = post(signed_in, "/employees/new", employee_fields())
        assert response.status_code == 302 and response.headers["Location"] == "/employees"
        employee = db.session.scalars(select(Employee)).one()
        assert employee.company_id == hr.company_id and employee.name == "Åsa Öberg"
        assert (employee.employment_status, employee.gender, employee.birth_year) == (
            EmploymentStatus.FURLOUGHED, Gender.WOMAN, 1978)

    def test_extra_posted_fields_are_ignored(self, signed_in, make, hr):
        other = make.company()
        post(signed_in, "/employees/new", employee_fields(company_id=str(other.id), is_active="false", id="999",
                                                           erased_at="2020-01-01"))
        employee = db.session.scalars(select(Employee)).one()
        assert employee.company_id == hr.company_id and employee.is_active and employee.erased_at is None
        post(signed_in, f"/employees/{employee.id}/edit", employee_fields(company_id=str(other.id), is_active=""))
        db.session.expire_all()
        assert employee.company_id == hr.company_id and employee.is_active

    @pytest.mark.parametrize(("overrides", "field"), [
        ({"first_name": ""}, "first_name"), ({"last_name": "  "}, "last_name"), ({"email": "nope"}, "email"),
        ({"birth_year": "1850"}, "birth_year"), ({"birth_year": "abc"}, "birth_year"),
        ({"birth_year": "99999999999999999999"}, "birth_year"), ({"gender": "robot"}, "gender"),
        ({"employment_status": "retired"}, "employment_status"), ({"job_role": "x" * 121}, "job_role"),
    ])
    def test_bad_input_is_shown_next_to_the_field_and_saves_nothing(self, signed_in, overrides, field):
        response = post(signed_in, "/employees/new", employee_fields(**overrides))
        assert response.status_code == 422
        assert f'id="{field}-error"' in response.get_data(as_text=True)
        assert count_employees() == 0

    def test_an_email_in_use_is_refused_next_to_the_field(self, signed_in, make, hr):
        make.employee(hr.company, email="asa.oberg@verkstad.se")
        response = post(signed_in, "/employees/new", employee_fields(email="ASA.Oberg@verkstad.se"))
        assert response.status_code == 422 and 'id="email-error"' in response.get_data(as_text=True)
        assert count_employees() == 1

    def test_the_edit_form_shows_the_employee_and_saves_changes(self, signed_in, make, hr):
        employee = make.employee(hr.company, first_name="Bo", last_name="Ek", birth_year=1966, gender=Gender.MAN)
        page = signed_in.get(f"/employees/{employee.id}/edit").get_data(as_text=True)
        assert 'value="Bo"' in page and 'value="1966"' in page and '<option selected value="man">' in page
        response = post(signed_in, f"/employees/{employee.id}/edit", employee_fields(first_name="Bosse", birth_year=""))
        assert response.status_code == 302
        db.session.expire_all()
        assert employee.first_name == "Bosse" and employee.birth_year is None and employee.gender == Gender.WOMAN

    def test_deactivate_and_reactivate(self, signed_in, make, hr):
        employee = make.employee(hr.company)
        response = post(signed_in, f"/employees/{employee.id}/deactivate")
        assert response.status_code == 302
        db.session.expire_all()
        assert employee.is_active is False
        page = signed_in.get(f"/employees/{employee.id}/edit").get_data(as_text=True)
        assert 'id="deactivated-notice"' in page and f"/employees/{employee.id}/reactivate" in page
        post(signed_in, f"/employees/{employee.id}/reactivate")
        db.session.expire_all()
        assert employee.is_active is True

    def test_deactivating_someone_with_coming_bookings_says_so(self, signed_in, make, hr):
        employee = make.employee(hr.company, first_name="Greta", last_name="Garbo")
        make.booking(make.session(), employee)
        english(signed_in)
        page = post(signed_in, f"/employees/{employee.id}/deactivate", follow_redirects=True).get_data(as_text=True)
        assert "Greta Garbo still holds 1 place on a coming session" in page


class TestAccess:
    ROUTES = [
        ("GET", "/employees/{id}/edit"), ("POST", "/employees/{id}/edit"),
        ("POST", "/employees/{id}/deactivate"), ("POST", "/employees/{id}/reactivate"),
    ]

    @pytest.mark.parametrize(("method", "path"), ROUTES)
    def test_another_companys_employee_answers_404_and_changes_nothing(self, signed_in, make, method, path):
        stranger = make.employee(make.company(), first_name="Främling", email="f@annan.se")
        url = path.format(id=stranger.id)
        response = signed_in.get(url) if method == "GET" else post(signed_in, url, employee_fields())
        assert response.status_code == 404 and "Främling" not in response.get_data(as_text=True)
        db.session.expire_all()
        assert stranger.first_name == "Främling" and stranger.is_active and stranger.email == "f@annan.se"

    @pytest.mark.parametrize(("method", "path"), ROUTES)
    def test_an_unknown_id_answers_404(self, signed_in, method, path):
        url = path.format(id=2**40)
        assert (signed_in.get(url) if method == "GET" else post(signed_in, url)).status_code == 404

    ALL = [("GET", "/employees"), ("GET", "/employees/new"), ("POST", "/employees/new"), *ROUTES,
           ("GET", "/employees/import"), ("POST", "/employees/import"), ("POST", "/employees/import/confirm")]

    @pytest.mark.parametrize("role", [Role.PROVIDER, Role.PM])
    @pytest.mark.parametrize(("method", "path"), ALL)
    def test_other_roles_are_refused(self, client, make, role, method, path):
        employee = make.employee()
        sign_in(client, make.user(role).email)
        url = path.format(id=employee.id)
        response = client.get(url) if method == "GET" else post(client, url, employee_fields())
        assert response.status_code == 403
        assert count_employees() == 1

    @pytest.mark.parametrize(("method", "path"), ALL)
    def test_signed_out_visitors_are_sent_to_sign_in(self, client, make, method, path):
        url = path.format(id=make.employee().id)
        response = client.get(url) if method == "GET" else post(client, url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]

    @pytest.mark.parametrize("path", [
        "/employees/new", "/employees/{id}/edit", "/employees/{id}/deactivate", "/employees/{id}/reactivate",
        "/employees/import", "/employees/import/confirm",
    ])
    def test_every_change_needs_the_csrf_token(self, signed_in, make, hr, path):
        employee = make.employee(hr.company, first_name="Orörd")
        raw = "förnamn;efternamn\nNy;Person".encode()
        data = employee_fields() | {"content": base64.b64encode(raw).decode(), "file": (io.BytesIO(raw), "a.csv")}
        response = signed_in.post(path.format(id=employee.id), data=data, content_type="multipart/form-data")
        assert response.status_code == 400
        db.session.expire_all()
        assert count_employees() == 1 and employee.first_name == "Orörd" and employee.is_active


class TestImport:
    FILE = "\r\n".join([
        "Förnamn;Efternamn;E-post;Befattning;Kön;Födelseår",
        "Åsa;Öberg;asa@v.se;Svetsare;kvinna;1975",
        "Örjan;Ängström;;Montör;man;",
        ";Utan;;;;",
        "Greta;Garbo;greta@v.se;Chef;kvinna;1960",
    ]).encode("cp1252")

    @pytest.fixture
    def greta(self, make, hr):
        return make.employee(hr.company, first_name="Greta", last_name="Garbo", email="greta@v.se")

    def test_the_import_page_has_a_file_field(self, signed_in):
        page = signed_in.get("/employees/import").get_data(as_text=True)
        assert 'type="file"' in page and 'enctype="multipart/form-data"' in page

    def test_the_preview_shows_every_row_with_counts_and_saves_nothing(self, signed_in, greta):
        english(signed_in)
        response = upload(signed_in, self.FILE)
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert re.search(r'id="count-new">2<', page) and re.search(r'id="count-update">1<', page)
        assert re.search(r'id="count-error">1<', page)
        for line, action in [(2, "new"), (3, "new"), (4, "error"), (5, "update")]:
            assert f'<tr id="line-{line}" class="import-{action}">' in page
        assert "Give a first name." in page and 'href="#line-4"' in page
        assert "Ängström" in page and "Changes: Job role, Gender, Birth year" in page
        assert count_employees() == 1

    def test_confirming_saves_the_valid_rows_and_says_how_many(self, signed_in, greta, hr):
        english(signed_in)
        page = upload(signed_in, self.FILE).get_data(as_text=True)
        content = re.search(r'name="content" type="hidden" value="([^"]+)"', page).group(1)
        assert base64.b64decode(content) == self.FILE
        response = post(signed_in, "/employees/import/confirm", {"content": content})
        assert response.status_code == 302 and response.headers["Location"] == "/employees"
        listing = signed_in.get("/employees").get_data(as_text=True)
        assert "Import done: 2 added, 1 updated." in listing and "1 row with errors was not imported." in listing
        assert "Öberg, Åsa" in listing and "Ängström, Örjan" in listing
        db.session.expire_all()
        assert count_employees() == 3 and greta.job_role == "Chef" and greta.birth_year == 1960
        assert {e.company_id for e in db.session.scalars(select(Employee))} == {hr.company_id}

    def test_a_file_error_is_shown_next_to_the_file_field(self, signed_in):
        response = upload(signed_in, b"namn;telefon\nAnna;123")
        assert response.status_code == 422 and 'id="file-error"' in response.get_data(as_text=True)

    def test_no_file_chosen(self, signed_in):
        response = post(signed_in, "/employees/import", {}, content_type="multipart/form-data")
        assert response.status_code == 422 and 'id="file-error"' in response.get_data(as_text=True)

    def test_a_too_big_file_gets_a_clear_error(self, signed_in):
        english(signed_in)
        raw = b"f\xc3\xb6rnamn;efternamn\n" + b"Anna;Berg\n" * 300_000
        response = upload(signed_in, raw)
        assert response.status_code == 422 and "larger than 2 MB" in response.get_data(as_text=True)

    def test_a_largest_file_makes_the_round_trip(self, signed_in):
        note = "Anteckning som importen inte läser. " * 6
        rows = [f"Anna;Berg {n};anna.berg{n}@verkstad.se;Maskinoperatör på linje {n % 9};anställd;kvinna;1980;{note}"
                for n in range(5000)]
        raw = "\n".join(["förnamn;efternamn;e-post;befattning;status;kön;födelseår;anteckning", *rows]).encode()
        assert 1_500_000 < len(raw) <= 2 * 1024 * 1024  # far bigger than Flask's default limit for a form field
        page = upload(signed_in, raw).get_data(as_text=True)
        content = re.search(r'name="content" type="hidden" value="([^"]+)"', page).group(1)
        assert post(signed_in, "/employees/import/confirm", {"content": content}).status_code == 302
        assert count_employees() == 5000

    def test_a_mangled_confirmation_saves_nothing(self, signed_in):
        response = post(signed_in, "/employees/import/confirm", {"content": "not base64!"}, follow_redirects=True)
        assert response.request.path == "/employees/import" and 'class="flash flash-error"' in response.get_data(as_text=True)
        assert count_employees() == 0

    def test_a_confirmed_file_that_no_longer_reads_saves_nothing(self, signed_in):
        content = base64.b64encode(b"namn\nAnna").decode()
        response = post(signed_in, "/employees/import/confirm", {"content": content}, follow_redirects=True)
        assert response.request.path == "/employees/import" and 'class="flash flash-error"' in response.get_data(as_text=True)
        assert count_employees() == 0

    def test_a_failure_during_the_save_leaves_the_roster_untouched(self, signed_in, greta, monkeypatch):
        from portal.services import audit

        def failing(*args, **kwargs):
            raise RuntimeError("the database went away")

        page = upload(signed_in, self.FILE).get_data(as_text=True)
        content = re.search(r'name="content" type="hidden" value="([^"]+)"', page).group(1)
        monkeypatch.setattr(audit, "record_many", failing)
        with pytest.raises(RuntimeError):
            post(signed_in, "/employees/import/confirm", {"content": content})
        db.session.expire_all()
        assert count_employees() == 1 and greta.job_role == ""
