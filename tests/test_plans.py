"""Training plans, their progress, pooled demand across companies, and telling companies of sessions."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import (
    Delivery,
    Attendance, AttendanceStatus, Booking, BookingStatus, HoursEntry, HoursSource, NeedNotice, Notification,
    PlanItem, Programme, Role, Verification,
)
from portal.services import DomainError, InvalidInput, demand, plans
from portal.services.plans import ItemData
from tests.conftest import count_queries, csrf_token, sign_in

NOW = datetime.now(timezone.utc)
YEAR = date.today().year


@pytest.fixture
def programme(ctx):
    found = Programme(name="Ett kompetenslyft för Sverige", period_start=date(YEAR - 1, 1, 1),
                      period_end=date(YEAR + 1, 12, 31), target_individuals=1000, target_hours=12000)
    db.session.add(found)
    db.session.commit()
    return found


@pytest.fixture
def hr(make):
    return make.user(Role.HR)


@pytest.fixture
def plan(hr, programme, app):
    with app.test_request_context():
        created = plans.create_plan(hr, programme)
    db.session.commit()
    return created


def need(make, **overrides) -> ItemData:
    fields = dict(competence_area_id=make.competence_area("welding").id, planned_minutes=16 * 60,
                  target_year=YEAR + 1, target_quarter=1, head_count=3)
    return ItemData(**(fields | overrides))


class TestPlans:
    def test_one_plan_per_company_for_the_programme_period(self, hr, programme, plan, app):
        assert (plan.period_start, plan.period_end) == (programme.period_start, programme.period_end)
        with app.test_request_context(), pytest.raises(DomainError):
            plans.create_plan(hr, programme)

    @pytest.mark.parametrize(("overrides", "field"), [
        ({"competence_area_id": 999999}, "competence_area_id"),
        ({"head_count": None}, "head_count"),
        ({"planned_minutes": 0}, "planned_hours"),
        ({"target_year": YEAR + 5}, "target"),
        ({"target_quarter": 5}, "target"),
    ])
    def test_bad_needs_are_refused_by_field(self, make, hr, plan, app, overrides, field):
        with app.test_request_context(), pytest.raises(InvalidInput) as refused:
            plans.add_item(plan, hr, need(make, **overrides))
        assert field in refused.value.errors

    def test_a_course_must_teach_the_area_and_employees_be_our_own(self, make, hr, plan, app):
        cnc_course = make.course(competence_areas=[make.competence_area("cnc")])
        with app.test_request_context():
            with pytest.raises(InvalidInput) as wrong_course:
                plans.add_item(plan, hr, need(make, course_id=cnc_course.id))
            assert "course_id" in wrong_course.value.errors
            with pytest.raises(InvalidInput) as stranger:
                plans.add_item(plan, hr, need(make, employee_ids=[make.employee().id], head_count=None))
            assert "employee_ids" in stranger.value.errors

    def test_another_companys_hr_cannot_change_the_plan(self, make, plan, app):
        with app.test_request_context(), pytest.raises(DomainError):
            plans.add_item(plan, make.user(Role.HR), need(make))

    def test_progress_counts_booked_meetings_to_come_and_attended_hours(self, make, hr, plan, app):
        anna, bo = make.employee(hr.company, first_name="Anna"), make.employee(hr.company, first_name="Bo")
        with app.test_request_context():
            item = plans.add_item(plan, hr, need(make, employee_ids=[anna.id, bo.id], head_count=None))
        db.session.commit()
        coming = make.session(meetings=2)  # two six-hour meetings
        make.booking(coming, anna, plan_item_id=item.id)
        past = make.session(starts_at=NOW - timedelta(days=30))
        done = make.booking(past, anna, plan_item_id=item.id)
        attendance = Attendance(booking=done, meeting=past.meetings[0], status=AttendanceStatus.ATTENDED)
        db.session.add(HoursEntry(delivery=Delivery.IN_PERSON, employee=anna, company=anna.company, entry_date=date.today(), minutes=360, source=HoursSource.ATTENDANCE,
                                  attendance=attendance, session=past, verification=Verification.VERIFIED))
        db.session.commit()
        line = plans.progress(plan).items[0]
        assert (line.planned_minutes, line.booked_minutes, line.completed_minutes) == (960, 720, 360)
        assert line.unbooked == [bo.name]


    def test_progress_adds_each_person_booked_and_only_meetings_still_to_come(self, make, hr, plan, app):
        anna, bo = make.employee(hr.company), make.employee(hr.company)
        with app.test_request_context():
            item = plans.add_item(plan, hr, need(make, employee_ids=[anna.id, bo.id], head_count=None))
            other = plans.add_item(plan, hr, need(make, head_count=1))
        db.session.commit()
        under_way = make.session(starts_at=NOW - timedelta(hours=12), meetings=3)  # one six-hour meeting held, two to come
        for person in (anna, bo):
            make.booking(under_way, person, plan_item_id=item.id)
        make.booking(make.session(), make.employee(hr.company), plan_item_id=other.id)
        make.booking(make.session(), make.employee(hr.company), BookingStatus.WAITLISTED, plan_item_id=other.id)
        db.session.commit()
        lines = {line.item.id: line for line in plans.progress(plan).items}
        assert (lines[item.id].booked_minutes, lines[item.id].completed_minutes) == (2 * 2 * 360, 0)
        assert (lines[other.id].booked_minutes, lines[other.id].completed_minutes) == (360, 0)

class TestDemand:
    @pytest.fixture
    def two_companies_need_welding(self, make, programme, app):
        karlstad = make.municipality("Karlstad")
        hrs = [make.user(Role.HR, company=make.company(municipality=karlstad)) for _ in range(2)]
        with app.test_request_context():
            for count, hr_user in zip((2, 3), hrs):
                plan = plans.create_plan(hr_user, programme)
                plans.add_item(plan, hr_user, need(make, head_count=count))
        db.session.commit()
        return hrs

    def test_needs_pool_by_area_and_region_with_counts_only(self, make, two_companies_need_welding):
        pools = demand.pooled()
        assert [(p.area, p.region, p.companies, p.people) for p in pools] == [("Svetsning", "Värmland", 2, 5)]
        assert pools[0].by_quarter == {f"{YEAR + 1} K1": 5}

    def test_booked_people_and_open_sessions_cover_a_need(self, make, two_companies_need_welding):
        item = db.session.scalars(select(PlanItem).order_by(PlanItem.id)).first()
        session = make.session(make.course(competence_areas=[make.competence_area("welding")]), capacity=1)
        make.booking(session, make.employee(), plan_item_id=item.id)  # full: not an open offer
        assert demand.pooled()[0].people == 4
        make.session(make.course(competence_areas=[make.competence_area("welding")]),
                     starts_at=NOW + timedelta(days=20))  # held in Västerås: another region
        assert demand.pooled()[0].people == 4
        karlstad_session = make.session(make.course(competence_areas=[make.competence_area("welding")]))
        karlstad_session.meetings[0].municipality = make.municipality("Karlstad")
        db.session.commit()
        assert demand.pooled() == []

    def test_providers_see_the_pool_for_their_areas_without_names(self, client, make, two_companies_need_welding):
        welder = make.user(Role.PROVIDER)
        make.course(welder.provider, competence_areas=[make.competence_area("welding")])
        other = make.user(Role.PROVIDER)
        make.course(other.provider, competence_areas=[make.competence_area("cnc")])
        named = make.employee(two_companies_need_welding[0].company, first_name="Hemlig")
        item = db.session.scalars(select(PlanItem)).first()
        item.employees.append(named)
        db.session.commit()
        sign_in(client, welder.email)
        page = client.get("/demand").get_data(as_text=True)
        assert "Svetsning" in page and "Värmland" in page and "Hemlig" not in page
        assert two_companies_need_welding[0].company.name not in page
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
        sign_in(client, other.email)
        assert "Svetsning" not in client.get("/demand").get_data(as_text=True)

    def test_publishing_a_matching_session_tells_the_companies_once(self, make, two_companies_need_welding, app):
        course = make.course(competence_areas=[make.competence_area("welding")])
        session = make.session(course)
        session.meetings[0].municipality = make.municipality("Kristinehamn")  # Värmland
        db.session.commit()
        with app.test_request_context():
            assert demand.tell_companies_of_new_session(session) == 2
            assert demand.tell_companies_of_new_session(session) == 0
        db.session.commit()
        told = db.session.scalars(select(Notification.user_id).order_by(Notification.user_id)).all()
        assert told == sorted(hr.id for hr in two_companies_need_welding)
        assert len(db.session.scalars(select(NeedNotice)).all()) == 2


class TestPages:
    def test_hr_creates_a_plan_and_adds_edits_and_removes_a_need(self, client, make, hr, programme):
        sign_in(client, hr.email)
        assert "Skapa planen" in client.get("/plan").get_data(as_text=True)
        client.post("/plan", data={"csrf_token": csrf_token(client, "/")})
        area = make.competence_area("lean").id
        data = {"competence_area_id": area, "course_id": "", "head_count": "4", "planned_hours": "24",
                "target": f"{YEAR + 1}-2", "priority": "high", "note": "Hela monteringen",
                "csrf_token": csrf_token(client, "/"), "plan_id": 999}
        assert client.post("/plan/items/new", data=data).status_code == 302
        item = db.session.scalars(select(PlanItem)).one()
        assert (item.head_count, item.planned_minutes, item.target_quarter) == (4, 1440, 2)
        page = client.get("/plan").get_data(as_text=True)
        assert "Lean produktion" in page and f"plan_item={item.id}" in page
        client.post(f"/plan/items/{item.id}/edit", data=data | {"planned_hours": "30"})
        db.session.expire_all()
        assert item.planned_minutes == 1800
        client.post(f"/plan/items/{item.id}/delete", data={"csrf_token": csrf_token(client, "/")})
        assert db.session.scalars(select(PlanItem)).all() == []

    def test_the_start_page_shows_every_need_in_as_many_statements_for_five_as_for_one(self, client, make, hr, plan, app):
        sign_in(client, hr.email)
        counts = []
        for needs in (1, 5):
            while len(plan.items) < needs:
                with app.test_request_context():
                    item = plans.add_item(plan, hr, need(make, employee_ids=[make.employee(hr.company).id], head_count=None))
                make.booking(make.session(), item.employees[0], plan_item_id=item.id)
                db.session.commit()
            with count_queries() as statements:
                page = client.get("/").get_data(as_text=True)
            assert page.count("planerade timmar</span>") == needs
            counts.append(len(statements))
        # The signed-in user, the company, the plan, the figures, the coming sessions, the needs, their
        # hours, and the layout's programme and unread count.
        assert counts[0] == counts[1] <= 9, counts

    def test_a_bad_need_is_shown_next_to_the_field(self, client, make, hr, plan):
        sign_in(client, hr.email)
        response = client.post("/plan/items/new", data={
            "competence_area_id": make.competence_area("lean").id, "planned_hours": "0", "target": "1999-1",
            "priority": "high", "csrf_token": csrf_token(client, "/"),
        })
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert 'id="planned_hours-error"' in page and 'id="target-error"' in page
        assert db.session.scalars(select(PlanItem)).all() == []

    def test_another_companys_plan_and_needs_answer_404(self, client, make, hr, plan, app):
        other = make.user(Role.HR)
        with app.test_request_context():
            item = plans.add_item(plan, hr, need(make))
        db.session.commit()
        sign_in(client, other.email)
        assert client.get(f"/plans/{plan.id}").status_code == 404
        assert client.get(f"/plan/items/{item.id}/edit").status_code == 404
        token = csrf_token(client, "/")
        assert client.post(f"/plan/items/{item.id}/delete", data={"csrf_token": token}).status_code == 404
        assert client.get(f"/catalogue/?plan_item={item.id}").status_code == 404
        assert db.session.get(PlanItem, item.id) is not None

    def test_the_programme_office_sees_every_plan_and_who_is_behind(self, client, make, hr, plan, app):
        with app.test_request_context():
            plans.add_item(plan, hr, need(make, target_year=YEAR - 1, target_quarter=1))
        db.session.commit()
        sign_in(client, make.user(Role.PM).email)
        page = client.get("/plans").get_data(as_text=True)
        assert hr.company.name in page and "<strong>16</strong>" in page
        assert client.get(f"/plans/{plan.id}").status_code == 200

    @pytest.mark.parametrize("path", ["/plan", "/plans", "/plan/items/new"])
    def test_providers_are_refused_plan_pages(self, client, make, path):
        sign_in(client, make.user(Role.PROVIDER).email)
        assert client.get(path).status_code == 403

    def test_hr_is_refused_the_pooled_demand(self, client, hr):
        sign_in(client, hr.email)
        assert client.get("/demand").status_code == 403

    def test_booking_from_a_plan_need_counts_toward_it(self, client, make, hr, plan, app):
        anna = make.employee(hr.company)
        with app.test_request_context():
            item = plans.add_item(plan, hr, need(make, employee_ids=[anna.id], head_count=None))
        db.session.commit()
        session = make.session()
        sign_in(client, hr.email)
        page = client.get(f"/sessions/{session.id}/book?plan_item={item.id}").get_data(as_text=True)
        assert f'value="{anna.id}" checked' in page  # the need's named employees come ticked
        client.post(f"/sessions/{session.id}/book", data={
            "employee_ids": anna.id, "plan_item": item.id, "csrf_token": csrf_token(client, "/")})
        assert db.session.scalars(select(Booking.plan_item_id)).one() == item.id
        assert db.session.scalars(select(Booking.status)).one() == BookingStatus.BOOKED
