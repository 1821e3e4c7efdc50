"""Importing a roster from CSV: what Excel writes is read, every row is classified with its reasons,
the preview saves nothing, and confirming saves every valid row or, if anything fails, none."""
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, Employee, EmploymentStatus, Gender, Role
from portal.services import InvalidInput, audit
from portal.services import roster_import as importer
from portal.services.roster_import import Action, confirm_import, preview_import


@pytest.fixture
def hr(make):
    return make.user(Role.HR)


@pytest.fixture(autouse=True)
def _english(app, ctx):
    """The messages are pinned in their English source text; the Swedish is the catalogue's job."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        yield


def csv_bytes(*lines: str, separator: str = "\n", encoding: str = "utf-8", bom: bool = False) -> bytes:
    raw = separator.join(lines).encode(encoding)
    return (b"\xef\xbb\xbf" + raw) if bom else raw


def employees() -> list[Employee]:
    return list(db.session.scalars(select(Employee).order_by(Employee.id)))


def count_employees() -> int:
    return db.session.scalar(select(func.count(Employee.id)))


def only_row(preview):
    assert len(preview.rows) == 1
    return preview.rows[0]


def file_error(hr, raw: bytes) -> str:
    with pytest.raises(InvalidInput) as raised:
        preview_import(hr, raw)
    assert list(raised.value.errors) == ["file"]
    return raised.value.errors["file"]


class TestReading:
    def test_utf8_with_bom_and_commas_in_english(self, hr):
        raw = csv_bytes(
            "First name,Last name,Email,Job role,Employment status,Gender,Birth year",
            "Anna,Andersson,Anna.Andersson@Verkstad.se,CNC operator,furloughed,woman,1980",
            'Bo,"Ek, jr",,Welder,,,',
            bom=True, separator="\r\n",
        )
        preview = preview_import(hr, raw)
        assert [row.action for row in preview.rows] == [Action.NEW, Action.NEW]
        first, second = (row.data for row in preview.rows)
        assert (first.email, first.employment_status, first.gender, first.birth_year) == (
            "anna.andersson@verkstad.se", EmploymentStatus.FURLOUGHED, Gender.WOMAN, 1980)
        assert (second.last_name, second.email, second.gender) == ("Ek, jr", None, Gender.NOT_STATED)
        assert second.employment_status == EmploymentStatus.EMPLOYED
        assert [row.line for row in preview.rows] == [2, 3]

    def test_windows_1252_with_semicolons_and_swedish_headers(self, hr):
        raw = csv_bytes(
            "Förnamn;Efternamn;E-post;Befattning;Anställningsstatus;Kön;Födelseår",
            "Åsa;Öberg;asa.oberg@verkstad.se;Svetsare;Permitterad;Kvinna;1975",
            "Örjan;Ängström;;Montör;varslad;man;",
            "Märta;Åkesson;;;anställd;Ej angivet;1990",
            separator="\r\n", encoding="cp1252",
        )
        preview = preview_import(hr, raw)
        assert all(row.action == Action.NEW for row in preview.rows), [row.errors for row in preview.rows]
        names = [(row.data.first_name, row.data.last_name) for row in preview.rows]
        assert names == [("Åsa", "Öberg"), ("Örjan", "Ängström"), ("Märta", "Åkesson")]
        statuses = [row.data.employment_status for row in preview.rows]
        assert statuses == [EmploymentStatus.FURLOUGHED, EmploymentStatus.NOTICE, EmploymentStatus.EMPLOYED]
        assert [row.data.gender for row in preview.rows] == [Gender.WOMAN, Gender.MAN, Gender.NOT_STATED]

    def test_tab_separated_utf16_as_excel_saves_unicode_text(self, hr):
        raw = "Förnamn\tEfternamn\tKön\r\nÅke\tÖst\tannat\r\n".encode("utf-16")
        row = only_row(preview_import(hr, raw))
        assert (row.data.first_name, row.data.last_name, row.data.gender) == ("Åke", "Öst", Gender.OTHER)

    def test_excel_separator_hint_and_blank_rows(self, hr):
        raw = csv_bytes("sep=;", "förnamn;efternamn", ";", "Anna;Berg", "", "Bo;Ek", ";;;")
        preview = preview_import(hr, raw)
        assert [(row.line, row.data.first_name) for row in preview.rows] == [(4, "Anna"), (6, "Bo")]

    @pytest.mark.parametrize("header", [
        "first_name,last_name,e-mail,job_role,status,gender,birth_year",
        "FIRST NAME,LAST NAME,E-Mail,Roll,Status,Kön,Födelseår",
        " förnamn , efternamn ,epost,yrkesroll,anställningsstatus,kön,födelseår",
    ])
    def test_header_names_in_either_language_and_any_case(self, hr, header):
        preview = preview_import(hr, csv_bytes(header, "Anna,Berg,anna@verkstad.se,Svetsare,notice,kvinna,1970"))
        row = only_row(preview)
        assert row.action == Action.NEW and len(preview.columns) == 7
        assert (row.data.email, row.data.job_role, row.data.birth_year) == ("anna@verkstad.se", "Svetsare", 1970)

    def test_unknown_columns_are_ignored_and_named(self, hr):
        preview = preview_import(hr, csv_bytes("Anställningsnummer;Förnamn;Efternamn;Avdelning", "17;Anna;Berg;Svets"))
        assert only_row(preview).action == Action.NEW
        assert preview.ignored_columns == ("Anställningsnummer", "Avdelning")
        assert preview.columns == ("first_name", "last_name")

    def test_a_quoted_cell_over_two_lines_keeps_the_next_rows_line_numbers(self, hr):
        preview = preview_import(hr, csv_bytes("förnamn;efternamn;befattning", 'Anna;Berg;"Svets\nand CNC"', "Bo;Ek;"))
        assert [row.line for row in preview.rows] == [2, 4]
        assert preview.rows[0].data.job_role == "Svets\nand CNC"


class TestRowErrors:
    HEADER = "förnamn;efternamn;e-post;befattning;anställningsstatus;kön;födelseår"

    @pytest.mark.parametrize(("line", "reason"), [
        (";Berg;;;;;", "first name"),
        ("Anna;;;;;;", "last name"),
        ("Anna;Berg;anna(at)verkstad.se;;;;", "valid email"),
        ("Anna;Berg;;;pensionerad;;", "Unknown employment status “pensionerad”"),
        ("Anna;Berg;;;;vet ej;", "Unknown gender “vet ej”"),
        ("Anna;Berg;;;;;19x5", "Birth year “19x5” is not a year"),
        ("Anna;Berg;;;;;1850", "birth year from 1930"),
        (f"Anna;Berg;;;;;{date.today().year - 10}", "birth year from 1930"),
        ("Anna;" + "B" * 101 + ";;;;;", "at most 100 characters"),
    ])
    def test_each_reason_is_given_with_the_line(self, hr, line, reason):
        row = only_row(preview_import(hr, csv_bytes(self.HEADER, line)))
        assert row.action == Action.ERROR and row.line == 2
        assert any(reason.lower() in error.lower() for error in row.errors), row.errors

    def test_a_row_can_have_several_reasons(self, hr):
        row = only_row(preview_import(hr, csv_bytes(self.HEADER, ";Berg;nope;;okänd;;abc")))
        assert len(row.errors) == 4

    def test_the_same_email_twice_in_the_file(self, hr):
        preview = preview_import(hr, csv_bytes(self.HEADER, "Anna;Berg;anna@v.se;;;;", "Annika;Berg;ANNA@v.se;;;;"))
        assert [row.action for row in preview.rows] == [Action.NEW, Action.ERROR]
        assert "line 2" in preview.rows[1].errors[0]

    def test_the_same_name_twice_without_email(self, hr):
        preview = preview_import(hr, csv_bytes(self.HEADER, "Anna;Berg;;;;;", "anna;BERG;;;;;", "Anna;Berg;a@v.se;;;;"))
        assert [row.action for row in preview.rows] == [Action.NEW, Action.ERROR, Action.NEW]
        assert "line 2" in preview.rows[1].errors[0]

    def test_two_rows_for_one_employee_on_the_roster(self, hr, make):
        make.employee(hr.company, first_name="Anna", last_name="Berg", email=None)
        preview = preview_import(hr, csv_bytes(self.HEADER, "Anna;Berg;anna@v.se;;;;", "Anna;Berg;;;;;"))
        assert [row.action for row in preview.rows] == [Action.UPDATE, Action.ERROR]
        assert "line 2" in preview.rows[1].errors[0]

    def test_names_match_whatever_their_case(self, hr, make):
        known = make.employee(hr.company, first_name="Åsa", last_name="Öberg")
        row = only_row(preview_import(hr, csv_bytes(self.HEADER, "ÅSA;öberg;;;;;")))
        assert (row.action, row.employee_id) == (Action.UPDATE, known.id)

    def test_namesakes_on_the_roster_need_an_email_to_tell_them_apart(self, hr, make):
        for _ in range(2):
            make.employee(hr.company, first_name="Anna", last_name="Berg")
        row = only_row(preview_import(hr, csv_bytes(self.HEADER, "Anna;Berg;;;;;")))
        assert row.action == Action.ERROR and "2" in row.errors[0]


class TestFileErrors:
    def test_a_file_without_name_columns_is_one_file_error(self, hr):
        assert "first name" in file_error(hr, csv_bytes("namn;e-post", "Anna Berg;anna@v.se"))

    def test_a_file_with_only_a_first_name_column(self, hr):
        assert "last name" in file_error(hr, csv_bytes("förnamn", "Anna"))

    def test_an_empty_file(self, hr):
        assert file_error(hr, b"")
        assert file_error(hr, b"\xef\xbb\xbf\r\n;;\r\n")

    def test_a_header_without_rows(self, hr):
        assert file_error(hr, csv_bytes("förnamn;efternamn"))

    def test_a_column_named_twice(self, hr):
        assert file_error(hr, csv_bytes("förnamn;efternamn;e-post;email", "Anna;Berg;a@v.se;b@v.se"))

    def test_an_excel_workbook(self, hr):
        assert "Excel" in file_error(hr, b"PK\x03\x04" + b"\x00" * 100)

    def test_bytes_that_are_no_text(self, hr):
        assert file_error(hr, bytes(range(256)) * 4)

    def test_a_file_larger_than_2_mb(self, hr):
        raw = csv_bytes("förnamn;efternamn", *(["Anna;Berg" + "x" * 100] * 21_000))
        assert len(raw) > importer.MAX_BYTES
        assert "2 MB" in file_error(hr, raw)

    def test_more_than_5000_rows(self, hr):
        raw = csv_bytes("förnamn;efternamn", *(f"Anna;Berg {n}" for n in range(5001)))
        assert "5" in file_error(hr, raw) and count_employees() == 0

    def test_5000_rows_are_fine(self, hr):
        raw = csv_bytes("förnamn;efternamn", *(f"Anna;Berg {n}" for n in range(5000)))
        assert len(preview_import(hr, raw).rows) == 5000

    def test_a_giant_cell_is_a_file_error_not_a_crash(self, hr):
        assert file_error(hr, csv_bytes("förnamn;efternamn", "Anna;" + "x" * 200_000))


class TestMatching:
    HEADER = "förnamn;efternamn;e-post;befattning"

    def test_update_by_email_and_new_otherwise(self, hr, make):
        known = make.employee(hr.company, first_name="Anna", last_name="Berg", email="anna@v.se", job_role="Svetsare")
        preview = preview_import(hr, csv_bytes(self.HEADER, "Anna;Berg-Ek;ANNA@v.se;Montör", "Bo;Ek;bo@v.se;Montör"))
        update, new = preview.rows
        assert (update.action, update.employee_id, update.changes) == (Action.UPDATE, known.id, ("last_name", "job_role"))
        assert new.action == Action.NEW and new.employee_id is None

    def test_update_by_name_when_there_is_no_email(self, hr, make):
        known = make.employee(hr.company, first_name="Anna", last_name="Berg", email="anna@v.se")
        row = only_row(preview_import(hr, csv_bytes(self.HEADER, "Anna;Berg;;Montör")))
        assert (row.action, row.employee_id, row.changes) == (Action.UPDATE, known.id, ("job_role",))
        assert row.data.email == "anna@v.se"  # an empty cell never clears an email

    def test_a_namesake_without_email_gets_the_email_from_the_file(self, hr, make):
        known = make.employee(hr.company, first_name="Anna", last_name="Berg", email=None)
        row = only_row(preview_import(hr, csv_bytes(self.HEADER, "Anna;Berg;anna@v.se;")))
        assert (row.action, row.employee_id) == (Action.UPDATE, known.id) and "email" in row.changes

    def test_a_namesake_with_another_email_is_someone_else(self, hr, make):
        make.employee(hr.company, first_name="Anna", last_name="Berg", email="anna.berg@v.se")
        assert only_row(preview_import(hr, csv_bytes(self.HEADER, "Anna;Berg;anna.b@v.se;"))).action == Action.NEW

    def test_employees_of_other_companies_are_never_matched(self, hr, make):
        make.employee(make.company(), first_name="Anna", last_name="Berg", email="anna@v.se")
        assert only_row(preview_import(hr, csv_bytes(self.HEADER, "Anna;Berg;anna@v.se;"))).action == Action.NEW

    def test_columns_the_file_lacks_are_left_as_they_are(self, hr, make):
        make.employee(hr.company, first_name="Anna", last_name="Berg", gender=Gender.WOMAN, birth_year=1970,
                      employment_status=EmploymentStatus.NOTICE)
        row = only_row(preview_import(hr, csv_bytes("förnamn;efternamn", "Anna;Berg")))
        assert row.action == Action.UPDATE and row.changes == ()
        assert (row.data.gender, row.data.birth_year, row.data.employment_status) == (
            Gender.WOMAN, 1970, EmploymentStatus.NOTICE)

    def test_a_deactivated_employee_in_the_file_comes_back(self, hr, make):
        gone = make.employee(hr.company, first_name="Anna", last_name="Berg", email="anna@v.se", is_active=False)
        row = only_row(preview_import(hr, csv_bytes(self.HEADER, "Anna;Berg;anna@v.se;")))
        assert (row.action, row.employee_id, row.reactivates) == (Action.UPDATE, gone.id, True)


class TestPreviewAndConfirm:
    FILE = csv_bytes(
        "förnamn;efternamn;e-post;befattning;kön",
        "Anna;Berg;anna@v.se;Montör;kvinna",  # updates the employee on the roster
        "Bo;Ek;bo@v.se;Svetsare;man",  # new
        ";Utan förnamn;;;",  # error
        "Cia;Dahl;;CNC;annat",  # new
        "Dan;Ek;dan@v.se;;vet ej",  # error
        "Eva;Fors;eva@v.se;;",  # unchanged
        encoding="cp1252",
    )

    @pytest.fixture
    def roster(self, make, hr):
        make.employee(hr.company, first_name="Anna", last_name="Berg", email="anna@v.se", job_role="Svetsare")
        make.employee(hr.company, first_name="Eva", last_name="Fors", email="eva@v.se")

    def test_the_preview_lists_every_row_and_saves_nothing(self, hr, roster):
        before = count_employees()
        preview = preview_import(hr, self.FILE)
        assert [(row.line, row.action) for row in preview.rows] == [
            (2, Action.UPDATE), (3, Action.NEW), (4, Action.ERROR), (5, Action.NEW), (6, Action.ERROR), (7, Action.UPDATE),
        ]
        assert (preview.count(Action.NEW), preview.count(Action.UPDATE), preview.count(Action.ERROR)) == (2, 2, 2)
        db.session.commit()
        assert count_employees() == before
        assert db.session.scalar(select(func.count(AuditEvent.id))) == 0
        assert [e.job_role for e in employees()][0] == "Svetsare"

    def test_confirm_saves_every_valid_row_and_skips_the_errors(self, hr, roster):
        result = confirm_import(hr, self.FILE)
        db.session.commit()
        assert (result.added, result.updated, result.unchanged, result.skipped) == (2, 1, 1, 2)
        saved = {e.name: e for e in employees()}
        assert set(saved) == {"Anna Berg", "Eva Fors", "Bo Ek", "Cia Dahl"}
        assert saved["Anna Berg"].job_role == "Montör" and saved["Anna Berg"].gender == Gender.WOMAN
        assert saved["Bo Ek"].company_id == hr.company_id and saved["Bo Ek"].gender == Gender.MAN
        assert saved["Cia Dahl"].email is None and saved["Cia Dahl"].gender == Gender.OTHER
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert sorted(actions) == ["employee.created", "employee.created", "employee.updated"]
        assert {e.company_id for e in db.session.scalars(select(AuditEvent))} == {hr.company_id}

    def test_confirm_checks_again_against_the_roster_as_it_is_now(self, hr, roster, make):
        preview_import(hr, self.FILE)
        make.employee(hr.company, first_name="Bo", last_name="Ek", email="bo@v.se")  # added meanwhile
        result = confirm_import(hr, self.FILE)
        assert (result.added, result.updated) == (1, 2)  # Bo is now an update of the one added meanwhile
        assert db.session.scalar(select(func.count()).where(Employee.email == "bo@v.se")) == 1

    def test_confirm_reactivates_a_deactivated_employee_in_the_file(self, hr, make):
        gone = make.employee(hr.company, first_name="Anna", last_name="Berg", email="anna@v.se", is_active=False)
        result = confirm_import(hr, csv_bytes("förnamn;efternamn;e-post", "Anna;Berg;anna@v.se"))
        assert result.updated == 1 and gone.is_active
        assert db.session.scalar(select(AuditEvent.action)) == "employee.reactivated"

    def test_a_failure_while_saving_saves_nothing(self, app, hr, roster, monkeypatch):
        # The employees are flushed, then the audit trail fails: nothing may have been committed.
        calls = []

        def failing(*args, **kwargs):
            calls.append(args)
            raise RuntimeError("the database went away")

        monkeypatch.setattr(audit, "record_many", failing)
        with pytest.raises(RuntimeError):
            confirm_import(hr, self.FILE)
        assert calls, "the failure came after the rows were written"
        with db.engine.connect() as elsewhere:  # another connection sees only what is committed
            assert elsewhere.scalar(select(func.count(Employee.id))) == 2
        db.session.rollback()
        assert count_employees() == 2 and {e.job_role for e in employees()} == {"Svetsare", ""}

    def test_a_failure_part_way_through_the_rows_saves_nothing(self, hr, roster, monkeypatch):
        applied = []
        real_apply = importer.apply

        def apply_then_fail(employee, data):
            if len(applied) == 2:
                raise RuntimeError("disk full")
            applied.append(data)
            real_apply(employee, data)

        monkeypatch.setattr(importer, "apply", apply_then_fail)
        with pytest.raises(RuntimeError):
            confirm_import(hr, self.FILE)
        db.session.rollback()
        assert count_employees() == 2 and {e.job_role for e in employees()} == {"Svetsare", ""}

    def test_a_file_error_on_confirm_saves_nothing(self, hr):
        with pytest.raises(InvalidInput):
            confirm_import(hr, csv_bytes("namn", "Anna"))
        assert count_employees() == 0

    def test_only_hr_imports(self, make):
        from portal.services import DomainError

        with pytest.raises(DomainError):
            preview_import(make.user(Role.PM), csv_bytes("förnamn;efternamn", "Anna;Berg"))
