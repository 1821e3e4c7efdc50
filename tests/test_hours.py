"""Hours HR logs for self-paced and internal training, and the programme office's verdict on them."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    Attendance, AttendanceStatus, AuditEvent, Delivery, HoursEntry, HoursSource, Notification, OutboxEmail, Programme, Role, Verification,
)
from portal.services import DomainError, InvalidInput
from portal.services import hours as service
from portal.services.figures import counted_hours
from tests.conftest import csrf_token, sign_in

@pytest.fixture(autouse=True)
def _english(app, ctx):
    """Service messages are pinned in their English source text; the Swedish is the catalogue's job."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        yield



@pytest.fixture
def req(app, ctx):
    with app.test_request_context():
        yield


@pytest.fixture
def hr(make):
    return make.user(Role.HR)


@pytest.fixture
def pm(make):
    return make.user(Role.PM)


def yesterday() -> date:
    return service.today() - timedelta(days=1)


def log(actor, employee, minutes=90, day=None, course_id=None, description="E-kurs i Excel", note="",
        delivery=Delivery.DIGITAL):
    return service.log_hours(actor, employee.id if employee else None, day or yesterday(), minutes, course_id,
                             description, note, delivery)


def entries() -> list[HoursEntry]:
    return list(db.session.scalars(select(HoursEntry).order_by(HoursEntry.id)))


def refusal(call) -> dict[str, str]:
    with pytest.raises(InvalidInput) as raised:
        call()
    db.session.rollback()
    return raised.value.errors


def add_entry(employee, minutes, day=None, source=HoursSource.MANUAL, verification=Verification.PENDING):
    entry = HoursEntry(employee_id=employee.id, company_id=employee.company_id, entry_date=day or yesterday(), minutes=minutes, source=source,
                       description="Annat", delivery=Delivery.DIGITAL, verification=verification)
    if source == HoursSource.ATTENDANCE:
        from tests import factories

        session = factories.session()
        booking = factories.booking(session, employee)
        entry.session = session
        entry.attendance = Attendance(booking=booking, meeting=session.meetings[0], status=AttendanceStatus.ATTENDED)
    db.session.add(entry)
    db.session.commit()
    return entry


class TestLogging:
    def test_hr_logs_pending_manual_hours_for_its_employee(self, req, make, hr):
        person = make.employee(hr.company)
        entry = log(hr, person, minutes=150, note="Modul 1–3", delivery=Delivery.IN_PERSON)
        db.session.commit()
        assert (entry.employee_id, entry.minutes, entry.entry_date) == (person.id, 150, yesterday())
        assert entry.source == HoursSource.MANUAL and entry.verification == Verification.PENDING
        assert entry.attendance_id is None and entry.created_by_id == hr.id and entry.delivery == Delivery.IN_PERSON
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "hours.logged")).one()
        assert (event.actor_id, event.object_id, event.company_id) == (hr.id, entry.id, hr.company_id)
        assert event.data["to"] == "pending"

    @pytest.mark.parametrize("minutes", [0, -30, 24 * 60 + 1, None])
    def test_the_time_must_be_more_than_zero_and_at_most_a_day(self, req, make, hr, minutes):
        assert "minutes" in refusal(lambda: log(hr, make.employee(hr.company), minutes=minutes))
        assert entries() == []

    def test_a_whole_day_is_allowed(self, req, make, hr):
        log(hr, make.employee(hr.company), minutes=24 * 60)
        assert len(entries()) == 1

    def test_more_than_24_hours_in_one_day_with_other_hours_is_refused(self, req, make, hr):
        person = make.employee(hr.company)
        add_entry(person, 10 * 60, source=HoursSource.ATTENDANCE, verification=Verification.VERIFIED)
        add_entry(person, 10 * 60)  # pending counts too
        errors = refusal(lambda: log(hr, person, minutes=5 * 60))
        assert "20" in errors["minutes"] and "24" in errors["minutes"]
        assert len(entries()) == 2
        log(hr, person, minutes=4 * 60)  # exactly 24
        add_entry(person, 12 * 60, day=yesterday() - timedelta(days=1))  # another day is another day
        assert len(entries()) == 4

    def test_rejected_hours_do_not_take_up_the_day(self, req, make, hr):
        person = make.employee(hr.company)
        add_entry(person, 20 * 60, verification=Verification.REJECTED)
        log(hr, person, minutes=8 * 60)
        assert len(entries()) == 2

    def test_a_future_date_is_refused(self, req, make, hr):
        errors = refusal(lambda: log(hr, make.employee(hr.company), day=service.today() + timedelta(days=1)))
        assert "future" in errors["day"]

    def test_today_is_allowed(self, req, make, hr):
        log(hr, make.employee(hr.company), day=service.today())
        assert len(entries()) == 1

    def test_a_date_before_the_programme_began_is_refused(self, req, make, hr):
        db.session.add(Programme(name="Lyftet", period_start=yesterday(), period_end=yesterday() + timedelta(days=400)))
        db.session.commit()
        errors = refusal(lambda: log(hr, make.employee(hr.company), day=yesterday() - timedelta(days=1)))
        assert "before the programme began" in errors["day"]
        log(hr, make.employee(hr.company), day=yesterday())
        assert len(entries()) == 1

    def test_another_companys_employee_gets_the_answer_of_one_who_does_not_exist(self, req, make, hr):
        foreign = refusal(lambda: log(hr, make.employee()))
        missing = refusal(lambda: service.log_hours(hr, 2147483647, yesterday(), 60, None, "Kurs", "", Delivery.DIGITAL))
        nonsense = refusal(lambda: service.log_hours(hr, 2**40, yesterday(), 60, None, "Kurs", "", Delivery.DIGITAL))
        assert foreign["employee_id"] == missing["employee_id"] == nonsense["employee_id"]
        assert entries() == []

    def test_a_deactivated_employee_is_refused(self, req, make, hr):
        errors = refusal(lambda: log(hr, make.employee(hr.company, is_active=False)))
        assert "employee_id" in errors

    def test_a_description_or_a_course_is_needed(self, req, make, hr):
        person = make.employee(hr.company)
        errors = refusal(lambda: log(hr, person, description="   "))
        assert set(errors) == {"description"}
        course = make.course()
        entry = log(hr, person, description="", course_id=course.id)
        assert entry.course_id == course.id and entry.description == ""

    def test_an_unknown_course_is_refused(self, req, make, hr):
        assert "course_id" in refusal(lambda: log(hr, make.employee(hr.company), course_id=2147483647))

    def test_every_broken_rule_is_named_at_once(self, req, make, hr):
        errors = refusal(lambda: service.log_hours(hr, None, None, 0, None, "", "x" * 2001, Delivery.DIGITAL))
        assert set(errors) == {"employee_id", "day", "minutes", "description", "note"}

    @pytest.mark.parametrize("role", [Role.PM, Role.PROVIDER])
    def test_only_hr_logs_hours(self, req, make, role):
        with pytest.raises(DomainError):
            log(make.user(role), make.employee())


class TestChangingLoggedHours:
    def test_hr_edits_its_pending_hours_and_the_day_rule_leaves_out_the_old_time(self, req, make, hr):
        person = make.employee(hr.company)
        entry = log(hr, person, minutes=12 * 60)
        log(hr, person, minutes=10 * 60)
        db.session.commit()
        service.edit_hours(entry, hr, person.id, yesterday(), 14 * 60, None, "Ny text", "", Delivery.DIGITAL)
        db.session.commit()
        assert (entry.minutes, entry.description) == (14 * 60, "Ny text")
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "hours.edited")).one()
        assert set(event.data["fields"]) == {"minutes", "description"}
        errors = refusal(lambda: service.edit_hours(entry, hr, person.id, yesterday(), 15 * 60, None, "x", "",
                                                    Delivery.DIGITAL))
        assert "minutes" in errors

    def test_hr_deletes_its_pending_hours(self, req, make, hr):
        entry = log(hr, make.employee(hr.company))
        db.session.commit()
        service.delete_hours(entry, hr)
        db.session.commit()
        assert entries() == []
        assert db.session.scalar(select(func.count()).where(AuditEvent.action == "hours.deleted")) == 1

    @pytest.mark.parametrize("verification", [Verification.VERIFIED, Verification.REJECTED])
    def test_decided_hours_can_no_longer_be_changed(self, req, make, hr, verification):
        entry = add_entry(make.employee(hr.company), 60, verification=verification)
        with pytest.raises(DomainError, match="decided already"):
            service.delete_hours(entry, hr)
        db.session.rollback()
        with pytest.raises(DomainError, match="decided already"):
            service.edit_hours(entry, hr, entry.employee_id, yesterday(), 30, None, "x", "", Delivery.DIGITAL)
        db.session.rollback()
        assert len(entries()) == 1

    def test_hours_from_attendance_are_not_hrs_to_change(self, req, make, hr):
        entry = add_entry(make.employee(hr.company), 60, source=HoursSource.ATTENDANCE)
        with pytest.raises(DomainError):
            service.delete_hours(entry, hr)

    def test_another_companys_hr_cannot_delete(self, req, make, hr):
        entry = add_entry(make.employee(hr.company), 60)
        with pytest.raises(DomainError):
            service.delete_hours(entry, make.user(Role.HR))
        db.session.rollback()
        assert len(entries()) == 1


class TestVerdict:
    def test_the_programme_office_verifies_and_then_the_hours_count(self, req, make, hr, pm):
        entry = log(hr, make.employee(hr.company), minutes=120)
        db.session.commit()
        def counted() -> int:
            return db.session.scalar(select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(counted_hours()))

        assert counted() == 0
        service.verify_hours(entry, pm)
        db.session.commit()
        assert entry.verification == Verification.VERIFIED and entry.verified_by_id == pm.id and entry.verified_at
        assert counted() == 120
        with pytest.raises(DomainError, match="decided already"):
            service.verify_hours(entry, pm)

    @pytest.mark.parametrize("reason", ["", "   ", None])
    def test_a_rejection_needs_a_reason(self, req, make, hr, pm, reason):
        entry = log(hr, make.employee(hr.company))
        db.session.commit()
        assert "reason" in refusal(lambda: service.reject_hours(entry, pm, reason))
        assert db.session.get(HoursEntry, entry.id).verification == Verification.PENDING
        assert db.session.scalar(select(func.count(Notification.id))) == 0

    def test_a_rejection_tells_the_companys_hr_why_and_the_hours_do_not_count(self, req, make, hr, pm):
        colleague = make.user(Role.HR, company=hr.company)
        stranger = make.user(Role.HR)
        person = make.employee(hr.company, first_name="Rut")
        entry = log(hr, person, minutes=180, description="Intern utbildning i truck")
        db.session.commit()
        service.reject_hours(entry, pm, "  Truckkort räknas inte som kompetenslyft.  ")
        db.session.commit()
        assert entry.verification == Verification.REJECTED and entry.rejection_reason.startswith("Truckkort")
        notes = list(db.session.scalars(select(Notification).order_by(Notification.user_id)))
        assert {n.user_id for n in notes} == {hr.id, colleague.id} and stranger.id not in {n.user_id for n in notes}
        assert all(n.kind == "hours.rejected" and "Truckkort räknas inte" in n.body and "Rut" in n.body for n in notes)
        assert db.session.scalar(select(func.count(OutboxEmail.id))) == 2
        assert db.session.scalar(select(func.count()).select_from(HoursEntry).where(counted_hours())) == 0
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "hours.rejected")).one()
        assert (event.data["from"], event.data["to"], event.actor_id) == ("pending", "rejected", pm.id)

    @pytest.mark.parametrize("role", [Role.HR, Role.PROVIDER])
    def test_only_the_programme_office_decides(self, req, make, hr, role):
        entry = log(hr, make.employee(hr.company))
        db.session.commit()
        with pytest.raises(DomainError):
            service.verify_hours(entry, hr if role == Role.HR else make.user(role))
        with pytest.raises(DomainError):
            service.reject_hours(entry, hr, "Nej")


# --- The pages ----------------------------------------------------------------------------------------

def post(client, path, data=None, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/"), **(data or {})}, **kwargs)


def english(client):
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})


def form_data(employee, **overrides):
    data = {"employee_id": employee.id, "day": yesterday().isoformat(), "duration_hours": "2",
            "duration_minutes": "30", "course_id": "", "description": "Webbkurs i Python", "note": "",
            "delivery": "digital"}
    return {**data, **overrides}


@pytest.fixture
def hr_client(client, hr):
    sign_in(client, hr.email)
    return client


@pytest.fixture
def pm_client(app, pm):
    client = app.test_client()
    sign_in(client, pm.email)
    return client


class TestHrPage:
    def test_hr_logs_hours_through_the_form(self, hr_client, make, hr):
        person = make.employee(hr.company)
        response = post(hr_client, "/hours", form_data(person))
        assert response.status_code == 302 and response.headers["Location"] == "/hours"
        (entry,) = entries()
        assert (entry.employee_id, entry.minutes, entry.verification) == (person.id, 150, Verification.PENDING)
        page = hr_client.get("/hours").get_data(as_text=True)
        assert f'id="hours-{entry.id}"' in page.split('id="pending-hours"')[1].split("</table>")[0]

    def test_a_future_date_is_shown_next_to_the_field_and_nothing_is_saved(self, hr_client, make, hr):
        english(hr_client)
        tomorrow = (service.today() + timedelta(days=1)).isoformat()
        response = post(hr_client, "/hours", form_data(make.employee(hr.company), day=tomorrow))
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and 'id="day-error"' in page and "future date" in page
        assert entries() == []

    def test_an_empty_form_names_every_missing_field_at_once(self, hr_client):
        response = post(hr_client, "/hours", {"delivery": "digital"})
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        for field in ("employee_id", "day", "duration_hours", "description"):
            assert f'id="{field}-error"' in page, field
        assert entries() == []

    def test_too_many_hours_are_shown_next_to_the_hours(self, hr_client, make, hr):
        person = make.employee(hr.company)
        add_entry(person, 23 * 60)
        response = post(hr_client, "/hours", form_data(person))
        assert response.status_code == 422 and 'id="duration_hours-error"' in response.get_data(as_text=True)
        assert len(entries()) == 1

    def test_another_companys_employee_is_refused_without_a_name(self, hr_client, make):
        stranger = make.employee(first_name="Främling")
        response = post(hr_client, "/hours", form_data(stranger))
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and 'id="employee_id-error"' in page and "Främling" not in page
        assert entries() == []

    def test_impossible_numbers_are_refused_without_a_crash(self, hr_client, make, hr):
        person = make.employee(hr.company)
        for overrides in ({"duration_hours": "999999999999"}, {"duration_minutes": "abc"},
                          {"employee_id": "99999999999999"}, {"course_id": "99999999999999"},
                          {"day": "1999-13-45"}, {"delivery": "teleport"}):
            assert post(hr_client, "/hours", form_data(person, **overrides)).status_code == 422, overrides
        assert entries() == []

    def test_the_list_shows_own_company_only_with_pending_apart(self, hr_client, make, hr):
        mine = make.employee(hr.company, first_name="Egen")
        pending = add_entry(mine, 60)
        verified = add_entry(mine, 60, verification=Verification.VERIFIED)
        rejected = add_entry(mine, 60, verification=Verification.REJECTED)
        rejected.rejection_reason = "Fel kurs"
        db.session.commit()
        foreign = add_entry(make.employee(first_name="Annan"), 60)
        page = hr_client.get("/hours").get_data(as_text=True)
        waiting, decided = page.split('id="pending-hours"')[1].split('id="decided-hours"')
        assert f'id="hours-{pending.id}"' in waiting and f'id="hours-{verified.id}"' not in waiting
        assert f'id="hours-{verified.id}"' in decided and f'id="hours-{rejected.id}"' in decided
        assert "Fel kurs" in decided
        assert f'id="hours-{foreign.id}"' not in page and "Annan" not in page

    def test_the_two_lists_page_on_their_own(self, hr_client, make, hr):
        person = make.employee(hr.company)
        for n in range(26):
            add_entry(person, 10, day=yesterday() - timedelta(days=n))
        page = hr_client.get("/hours").get_data(as_text=True)
        assert "/hours?pending_page=2" in page
        second = hr_client.get("/hours?pending_page=2").get_data(as_text=True)
        assert second.split('id="pending-hours"')[1].split("</table>")[0].count('<tr id="hours-') == 1

    def test_hr_deletes_its_pending_hours_but_not_decided_or_foreign(self, hr_client, make, hr):
        mine = make.employee(hr.company)
        pending = add_entry(mine, 60)
        verified = add_entry(mine, 60, verification=Verification.VERIFIED)
        foreign = add_entry(make.employee(), 60)
        assert post(hr_client, f"/hours/{pending.id}/delete").status_code == 302
        assert post(hr_client, f"/hours/{verified.id}/delete").status_code == 302
        assert post(hr_client, f"/hours/{foreign.id}/delete").status_code == 404
        assert post(hr_client, "/hours/2147483648/delete").status_code == 404
        assert {e.id for e in entries()} == {verified.id, foreign.id}

    def test_hr_edits_its_pending_hours(self, hr_client, make, hr):
        person = make.employee(hr.company)
        entry = add_entry(person, 60)
        page = hr_client.get(f"/hours/{entry.id}/edit").get_data(as_text=True)
        assert 'name="duration_hours"' in page and 'value="1"' in page
        response = post(hr_client, f"/hours/{entry.id}/edit", form_data(person, duration_hours="3", duration_minutes="0"))
        assert response.status_code == 302
        db.session.expire_all()
        assert db.session.get(HoursEntry, entry.id).minutes == 180
        foreign = add_entry(make.employee(), 60)
        assert hr_client.get(f"/hours/{foreign.id}/edit").status_code == 404
        verified = add_entry(person, 60, verification=Verification.VERIFIED)
        assert hr_client.get(f"/hours/{verified.id}/edit").status_code == 302

    def test_the_navigation_leads_to_the_hours(self, hr_client):
        assert 'href="/hours"' in hr_client.get("/").get_data(as_text=True)


class TestReviewPage:
    def test_lists_pending_hours_of_every_company_and_filters_by_one(self, pm_client, make):
        first, second = make.company(name="Alfa AB"), make.company(name="Beta AB")
        a = add_entry(make.employee(first), 60)
        b = add_entry(make.employee(second), 60)
        done = add_entry(make.employee(first), 60, verification=Verification.VERIFIED)
        page = pm_client.get("/hours/review").get_data(as_text=True)
        assert f'id="hours-{a.id}"' in page and f'id="hours-{b.id}"' in page and f'id="hours-{done.id}"' not in page
        only = pm_client.get(f"/hours/review?company={second.id}").get_data(as_text=True)
        assert f'id="hours-{a.id}"' not in only and f'id="hours-{b.id}"' in only
        for junk in ("abc", "2147483648", "-4"):
            assert pm_client.get(f"/hours/review?company={junk}").status_code == 200
        assert 'href="/hours/review"' in page

    def test_verifying_redirects_back_and_the_hours_count(self, pm_client, make, pm):
        entry = add_entry(make.employee(), 60)
        response = post(pm_client, f"/hours/{entry.id}/verify", {"next": "/hours/review?company=1"})
        assert response.status_code == 302 and response.headers["Location"] == "/hours/review?company=1"
        db.session.expire_all()
        assert db.session.get(HoursEntry, entry.id).verification == Verification.VERIFIED

    def test_rejecting_without_a_reason_is_refused_and_with_one_tells_hr(self, pm_client, make):
        hr_user = make.user(Role.HR)
        entry = add_entry(make.employee(hr_user.company), 60)
        english(pm_client)
        refused = post(pm_client, f"/hours/{entry.id}/reject", {"reason": "  "}, follow_redirects=True)
        assert "Give the reason" in refused.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(HoursEntry, entry.id).verification == Verification.PENDING
        assert post(pm_client, f"/hours/{entry.id}/reject", {"reason": "Ingen kurs"}).status_code == 302
        db.session.expire_all()
        assert db.session.get(HoursEntry, entry.id).verification == Verification.REJECTED
        note = db.session.scalars(select(Notification).where(Notification.user_id == hr_user.id)).one()
        assert "Ingen kurs" in note.body

    def test_a_missing_entry_answers_404(self, pm_client):
        assert post(pm_client, "/hours/2147483647/verify").status_code == 404
        assert post(pm_client, "/hours/2147483647/reject", {"reason": "x"}).status_code == 404


@pytest.mark.parametrize(("role", "method", "path"), [
    (Role.PROVIDER, "get", "/hours"),
    (Role.PROVIDER, "get", "/hours/review"),
    (Role.PROVIDER, "post", "/hours/{id}/delete"),
    (Role.PROVIDER, "post", "/hours/{id}/verify"),
    (Role.HR, "get", "/hours/review"),
    (Role.HR, "post", "/hours/{id}/verify"),
    (Role.HR, "post", "/hours/{id}/reject"),
    (Role.PM, "get", "/hours"),
    (Role.PM, "post", "/hours"),
    (Role.PM, "post", "/hours/{id}/delete"),
    (Role.PM, "get", "/hours/{id}/edit"),
])
def test_wrong_roles_are_refused_and_nothing_changes(client, make, role, method, path):
    user = make.user(role)
    employee = make.employee(user.company if role == Role.HR else None)
    entry = add_entry(employee, 60)
    sign_in(client, user.email)
    url = path.format(id=entry.id)
    response = client.get(url) if method == "get" else post(client, url, {"reason": "Nej"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(HoursEntry, entry.id).verification == Verification.PENDING


def test_concurrent_logs_for_one_person_never_pass_24_hours_in_a_day(app, make, hr):
    import threading

    person = make.employee(hr.company)
    clients = []
    for _ in range(10):
        client = app.test_client()
        sign_in(client, hr.email)
        clients.append((client, csrf_token(client, "/")))
    start = threading.Barrier(len(clients))
    answers: list[int] = []
    three_hours = form_data(person, duration_hours="3", duration_minutes="0")

    def log_three_hours(client, token):
        start.wait()
        answers.append(client.post("/hours", data={**three_hours, "csrf_token": token}).status_code)

    threads = [threading.Thread(target=log_three_hours, args=args) for args in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [302] * 8 + [422] * 2
    assert sum(e.minutes for e in entries()) == 24 * 60


@pytest.mark.parametrize(("who", "visible"), [("own_hr", True), ("other_hr", False), ("pm", True), ("provider", False)])
def test_hours_entries_are_loaded_within_the_company(app, make, hr, who, visible):
    from werkzeug.exceptions import NotFound

    from portal.access import load_or_404

    entry = add_entry(make.employee(hr.company), 60)
    user = {"own_hr": hr, "other_hr": make.user(Role.HR), "pm": make.user(Role.PM),
            "provider": make.user(Role.PROVIDER)}[who]
    with app.test_request_context():
        for manage in (False, True):
            if visible:
                assert load_or_404(HoursEntry, entry.id, user, manage=manage).id == entry.id
            else:
                with pytest.raises(NotFound):
                    load_or_404(HoursEntry, entry.id, user, manage=manage)
