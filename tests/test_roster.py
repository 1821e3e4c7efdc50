"""The roster service: HR adds, changes, deactivates and reactivates its own employees, never deletes."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Delivery,
    AuditEvent, Booking, BookingStatus, Employee, EmploymentStatus, Gender, HoursEntry, HoursSource, Role,
)
from portal.services import DomainError, InvalidInput
from portal.services.roster import (
    EmployeeData, add_employee, deactivate_employee, reactivate_employee, update_employee,
)


@pytest.fixture
def hr(make):
    return make.user(Role.HR)


def anna(**changes) -> EmployeeData:
    fields = {"first_name": "Anna", "last_name": "Åberg", "email": "anna.aberg@verkstad.se", "job_role": "Svetsare"}
    return EmployeeData(**(fields | changes))


def refusal(action) -> dict[str, str]:
    with pytest.raises(InvalidInput) as raised:
        action()
    db.session.rollback()
    return raised.value.errors


class TestAdding:
    def test_hr_adds_an_employee_to_its_own_company(self, hr):
        employee = add_employee(hr, anna(gender=Gender.WOMAN, birth_year=1980, employment_status=EmploymentStatus.NOTICE))
        db.session.commit()
        assert employee.company_id == hr.company_id and employee.is_active
        assert (employee.name, employee.gender, employee.birth_year) == ("Anna Åberg", Gender.WOMAN, 1980)
        assert employee.employment_status == EmploymentStatus.NOTICE

    def test_gender_defaults_to_not_stated_and_status_to_employed(self, hr):
        employee = add_employee(hr, EmployeeData(first_name="Bo", last_name="Ek"))
        assert employee.gender == Gender.NOT_STATED and employee.employment_status == EmploymentStatus.EMPLOYED
        assert employee.email is None and employee.birth_year is None

    def test_text_is_trimmed_and_the_email_lower_cased(self, hr):
        employee = add_employee(hr, anna(first_name="  Anna ", email="  Anna.Aberg@Verkstad.SE ", job_role=" CNC "))
        assert (employee.first_name, employee.email, employee.job_role) == ("Anna", "anna.aberg@verkstad.se", "CNC")

    def test_an_empty_email_is_stored_as_none(self, hr):
        assert add_employee(hr, anna(email="   ")).email is None

    def test_adding_is_audited_without_personal_data(self, hr):
        employee = add_employee(hr, anna())
        event = db.session.scalars(select(AuditEvent)).one()
        assert (event.action, event.object_type, event.object_id) == ("employee.created", "employee", employee.id)
        assert event.company_id == hr.company_id and event.actor_id == hr.id
        assert "anna" not in str(event.data).lower()

    def test_services_flush_and_leave_the_commit_to_the_caller(self, hr):
        add_employee(hr, anna())
        db.session.rollback()
        assert db.session.scalar(select(func.count(Employee.id))) == 0


class TestRules:
    @pytest.mark.parametrize(("changes", "field"), [
        ({"first_name": ""}, "first_name"),
        ({"first_name": "   "}, "first_name"),
        ({"last_name": ""}, "last_name"),
        ({"first_name": "A" * 101}, "first_name"),
        ({"job_role": "x" * 121}, "job_role"),
        ({"email": "not an email"}, "email"),
        ({"email": "anna@"}, "email"),
        ({"email": "anna@verkstad"}, "email"),
        ({"email": "anna,bo@verkstad.se"}, "email"),
        ({"employment_status": "retired"}, "employment_status"),
        ({"gender": "unknown"}, "gender"),
        ({"birth_year": 1929}, "birth_year"),
        ({"birth_year": date.today().year - 14}, "birth_year"),
        ({"birth_year": -5}, "birth_year"),
    ])
    def test_bad_input_is_refused_by_field_and_saves_nothing(self, hr, changes, field):
        errors = refusal(lambda: add_employee(hr, anna(**changes)))
        assert field in errors and errors[field]
        assert db.session.scalar(select(func.count(Employee.id))) == 0

    @pytest.mark.parametrize("year", [1930, date.today().year - 15])
    def test_birth_years_at_the_edges_are_accepted(self, hr, year):
        assert add_employee(hr, anna(birth_year=year)).birth_year == year

    def test_choices_may_come_as_their_stored_values(self, hr):
        employee = add_employee(hr, anna(employment_status="furloughed", gender="man"))
        assert employee.employment_status == EmploymentStatus.FURLOUGHED and employee.gender == Gender.MAN

    def test_several_problems_are_reported_at_once(self, hr):
        errors = refusal(lambda: add_employee(hr, anna(first_name="", last_name="", birth_year=1800)))
        assert set(errors) == {"first_name", "last_name", "birth_year"}


class TestEmailDedupe:
    def test_an_email_used_by_another_active_employee_of_the_company_is_refused(self, hr):
        add_employee(hr, anna())
        errors = refusal(lambda: add_employee(hr, anna(first_name="Annika", email="ANNA.ABERG@verkstad.se")))
        assert "email" in errors

    def test_the_same_email_in_another_company_is_fine(self, hr, make):
        other_hr = make.user(Role.HR)
        add_employee(other_hr, anna())
        assert add_employee(hr, anna()).email == "anna.aberg@verkstad.se"

    def test_the_email_of_a_deactivated_employee_may_be_used_again(self, hr):
        gone = add_employee(hr, anna())
        deactivate_employee(gone, hr)
        assert add_employee(hr, anna(first_name="Annika")).is_active

    def test_an_employee_keeps_its_own_email_on_update(self, hr):
        employee = add_employee(hr, anna())
        update_employee(employee, hr, anna(job_role="Montör"))
        assert employee.job_role == "Montör"

    def test_updating_to_a_colleagues_email_is_refused(self, hr):
        add_employee(hr, anna())
        bo = add_employee(hr, EmployeeData(first_name="Bo", last_name="Ek", email="bo@verkstad.se"))
        db.session.commit()
        assert "email" in refusal(lambda: update_employee(bo, hr, anna(first_name="Bo", last_name="Ek")))
        db.session.expire_all()
        assert bo.email == "bo@verkstad.se"

    def test_reactivating_someone_whose_email_a_colleague_now_has_is_refused(self, hr):
        gone = add_employee(hr, anna())
        deactivate_employee(gone, hr)
        add_employee(hr, anna(first_name="Annika"))
        with pytest.raises(DomainError):
            reactivate_employee(gone, hr)


class TestUpdating:
    def test_update_changes_every_field_and_audits_the_field_names(self, hr):
        employee = add_employee(hr, anna())
        update_employee(employee, hr, EmployeeData(
            first_name="Anna", last_name="Berg", email=None, job_role="Truckförare",
            employment_status=EmploymentStatus.FURLOUGHED, gender=Gender.WOMAN, birth_year=1975,
        ))
        assert (employee.last_name, employee.email, employee.job_role) == ("Berg", None, "Truckförare")
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "employee.updated")).one()
        assert set(event.data["fields"]) == {"last_name", "email", "job_role", "employment_status", "gender", "birth_year"}
        assert "Berg" not in str(event.data)

    def test_an_update_that_changes_nothing_is_not_audited(self, hr):
        employee = add_employee(hr, anna())
        update_employee(employee, hr, anna())
        assert db.session.scalar(select(func.count()).where(AuditEvent.action == "employee.updated")) == 0


class TestWhoMayChange:
    def test_hr_of_another_company_may_not_change_an_employee(self, hr, make):
        stranger = make.employee()
        for action in (
            lambda: update_employee(stranger, hr, anna()), lambda: deactivate_employee(stranger, hr),
            lambda: reactivate_employee(stranger, hr),
        ):
            with pytest.raises(DomainError):
                action()
        db.session.rollback()
        assert stranger.is_active and stranger.first_name == "Anna" and stranger.email is None

    @pytest.mark.parametrize("role", [Role.PM, Role.PROVIDER])
    def test_only_hr_keeps_a_roster(self, make, role):
        with pytest.raises(DomainError):
            add_employee(make.user(role), anna())

    def test_an_erased_person_cannot_be_changed(self, hr, make):
        from portal.models.types import utcnow

        erased = make.employee(hr.company, erased_at=utcnow(), is_active=False)
        with pytest.raises(DomainError):
            update_employee(erased, hr, anna())
        with pytest.raises(DomainError):
            reactivate_employee(erased, hr)


class TestDeactivating:
    def test_deactivating_keeps_the_person_their_bookings_and_their_hours(self, hr, make):
        employee = make.employee(hr.company)
        session = make.session()
        make.booking(session, employee)
        db.session.add(HoursEntry(delivery=Delivery.IN_PERSON, employee=employee, company=employee.company, entry_date=date.today() - timedelta(days=3), minutes=90,
                                  source=HoursSource.MANUAL, description="Självstudier"))
        db.session.commit()
        deactivate_employee(employee, hr)
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Employee, employee.id).is_active is False
        assert db.session.scalar(select(Booking.status).where(Booking.employee_id == employee.id)) == BookingStatus.BOOKED
        assert db.session.scalar(select(func.sum(HoursEntry.minutes)).where(HoursEntry.employee_id == employee.id)) == 90

    def test_deactivate_and_reactivate_are_audited_once_each(self, hr, make):
        employee = make.employee(hr.company)
        deactivate_employee(employee, hr)
        deactivate_employee(employee, hr)
        reactivate_employee(employee, hr)
        reactivate_employee(employee, hr)
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions == ["employee.deactivated", "employee.reactivated"] and employee.is_active
        assert {e.company_id for e in db.session.scalars(select(AuditEvent))} == {hr.company_id}
