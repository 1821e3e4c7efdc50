"""Forms accept only their declared fields: extra fields posted to a form change nothing.

FORMS declares, for every form that changes data, who posts it, to which of their own objects,
and a valid body. Each case posts that body plus POISON: fields the form does not have
(`company_id`, `status`, `role`, `capacity`, ...), carrying values the real form never sends
(the foreign tenant's ids, "cancelled", "pm", 999, ...). The post must still succeed and write
its table, no changed or new row may hold a poison value in a column of the poison's name
(unless the action itself writes that value: `writes`), and no row of the foreign tenant
(side "b" of the world in tests/test_access_matrix.py, and every row referring to it) may change.

Adding a form: one line in FORMS, e.g.
`"hours.edit": Post("hr", "hours_entries", ids={"entry_id": "hours"}, form=HoursForm, data=lambda own: {...})`:
the role, the table the action writes, the URL ids (object kinds of the world, own side), the
form class (its fields are never posted as extras) and a function from the own ids to a valid
body. When the world lacks what the form needs (a session still open for booking, ...), `setup`
makes it and returns its ids by name, for `ids` and `data` to use. test_every_post_is_declared
fails until a new POST route is in FORMS or in LEFT_OUT with the reason. A known bug: `bug=` the
reason; the case then runs as xfail(strict=True).
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pytest
from flask import url_for
from sqlalchemy import select
from wtforms.fields.core import UnboundField

from portal.blueprints.attendance.forms import MarkForm
from portal.blueprints.auth.forms import ChangePasswordForm, LoginForm, ForgotForm, SetPasswordForm
from portal.blueprints.booking.forms import BookForm
from portal.blueprints.hours.forms import HoursForm, RejectForm
from portal.blueprints.plans.forms import ItemForm
from portal.blueprints.privacy.forms import EraseForm, RetentionForm
from portal.blueprints.provider.forms import (
    AddMeetingForm, CourseForm, DatesForm, ReasonForm, SessionForm, SessionSettingsForm,
)
from portal.blueprints.restrictions.forms import GroupSizeForm, LiftForm, RestrictionForm, SettingsForm
from portal.blueprints.roster.forms import ConfirmImportForm, EmployeeForm
from portal.blueprints.users.forms import InviteForm
from portal.extensions import db
from portal.models import (
    Attendance, AttendanceStatus, Course, Employee, Municipality, Programme, Restriction, Session, SessionStatus,
    TrainingPlan, User,
)
from portal.services import restrictions as restriction_service
from portal.services.slots import is_working_day
from tests import factories as make
from tests.conftest import PASSWORD, REFERENCE_TABLES
from tests.test_access_matrix import KINDS, RULES, Browser, _ids_of, classify, world  # noqa: F401

TODAY = date.today()
START = datetime.now(timezone.utc).replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=30)


def _working_day_from(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


# New dates for a session a restriction postponed must be on a working day, whatever day the suite runs on
IN_A_MONTH, IN_TWO_MONTHS = TODAY + timedelta(days=30), _working_day_from(TODAY + timedelta(days=60))
NEW_PASSWORD = "grön lyktstolpe vid kanalen"


@dataclass(frozen=True)
class Post:
    role: str  # "anonymous", "hr", "provider" or "pm", signed in as the world's side "a"
    changes: str  # the table the action writes; "session" for the signed cookie
    data: Callable[[dict], dict] = lambda own: {}  # own ids -> a valid body (no CSRF token)
    ids: dict = field(default_factory=dict)  # URL parameter -> object kind, or a name `setup` returned
    form: type | None = None  # the form's class: its fields are never posted as extras
    setup: Callable[[dict], dict] | None = None  # makes what the world lacks; returns {name: id}
    writes: frozenset = frozenset()  # "table.column" the action itself sets to a poison value
    bug: str = ""  # a known bug: the case runs as xfail(strict=True)


EMPLOYEE = {"first_name": "Åsa", "last_name": "Öberg", "email": "asa@verkstad.se", "job_role": "Svetsare",
            "employment_status": "furloughed", "gender": "woman", "birth_year": "1978"}
REASON = {"reason": "Extrafälten"}
ATTENDED_HOURS = frozenset({"hours_entries.verification"})  # hours from attendance count as verified at once

FORMS: dict[str, Post] = {
    # Anyone
    "main.language": Post("anonymous", "session", data=lambda own: {"locale": "en"}),
    "auth.login": Post("anonymous", "sign_in_attempts", form=LoginForm,
                       data=lambda own: {"email": "hr-a@example.se", "password": PASSWORD}),
    "auth.forgot_password": Post("anonymous", "account_tokens", form=ForgotForm,
                                 data=lambda own: {"email": "hr-a@example.se"}),
    "auth.set_password": Post("anonymous", "users", ids={"token": "password_link"}, form=SetPasswordForm,
                              data=lambda own: {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    # Any signed-in user
    "auth.change_password": Post("hr", "users", form=ChangePasswordForm, data=lambda own: {
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    "auth.logout": Post("hr", "users"),
    "notifications.read": Post("hr", "notifications", ids={"notification_id": "notification"}),
    "notifications.read_all": Post("hr", "notifications"),
    # HR
    "catalogue.renew_calendar_token": Post("hr", "companies"),
    "catalogue.revoke_calendar_token": Post("hr", "companies"),
    "roster.new": Post("hr", "employees", form=EmployeeForm, data=lambda own: EMPLOYEE),
    "roster.edit": Post("hr", "employees", ids={"employee_id": "employee"}, form=EmployeeForm,
                        data=lambda own: EMPLOYEE),
    "roster.deactivate": Post("hr", "employees", ids={"employee_id": "employee"},
                              writes=frozenset({"employees.is_active"})),
    "roster.reactivate": Post("hr", "employees", ids={"employee_id": "employee"}, setup=lambda own: _deactivated(own)),
    "roster.confirm_import": Post("hr", "employees", form=ConfirmImportForm, data=lambda own: {
        "content": base64.b64encode("Förnamn;Efternamn;Befattning\nNy;Nyberg;Montör\n".encode()).decode()}),
    "plans.create_plan": Post("hr", "training_plans", setup=lambda own: _without_plan(own)),
    "plans.new_item": Post("hr", "plan_items", form=ItemForm, data=lambda own: _item()),
    "plans.edit_item": Post("hr", "plan_items", ids={"item_id": "plan_item"}, form=ItemForm,
                            data=lambda own: _item()),
    "plans.delete_item": Post("hr", "plan_items", ids={"item_id": "plan_item"}),
    "hours.index": Post("hr", "hours_entries", form=HoursForm, data=lambda own: _hours(own)),
    "hours.edit": Post("hr", "hours_entries", ids={"entry_id": "hours"}, form=HoursForm,
                       data=lambda own: _hours(own)),
    "hours.delete": Post("hr", "hours_entries", ids={"entry_id": "hours"}),
    "booking.book": Post("hr", "bookings", ids={"session_id": "open_session"}, form=BookForm,
                         setup=lambda own: {"open_session": _session(own).id},
                         data=lambda own: {"employee_ids": own["employee"]}),
    "booking.cancel": Post("hr", "bookings", ids={"booking_id": "open_booking"}, setup=lambda own: _booked(own),
                           writes=frozenset({"bookings.status"})),
    # Providers
    "provider.new_course": Post("provider", "courses", form=CourseForm, data=lambda own: _course()),
    "provider.edit_course": Post("provider", "courses", ids={"course_id": "course"}, form=CourseForm,
                                 data=lambda own: _course()),
    "provider.retire_course": Post("provider", "courses", ids={"course_id": "course"}),
    "provider.reinstate_course": Post("provider", "courses", ids={"course_id": "course"},
                                      setup=lambda own: _retired(own)),
    "provider.new_session": Post("provider", "sessions", ids={"course_id": "welding_course"}, form=SessionForm,
                                 setup=lambda own: {"welding_course": _welding_course(own).id},
                                 data=lambda own: {**_settings(), **_meeting("meetings-0-", IN_A_MONTH),
                                                   "publish": "1"}),
    "provider.edit_session": Post("provider", "sessions", ids={"session_id": "open_session"},
                                  form=SessionSettingsForm, setup=lambda own: {"open_session": _session(own).id},
                                  data=lambda own: {**_settings(), "save": "1"}),
    "provider.publish_session": Post("provider", "sessions", ids={"session_id": "planned_session"},
                                     setup=lambda own: {"planned_session": _session(
                                         own, _welding_course(own), status=SessionStatus.PLANNED).id}),
    "provider.add_meeting": Post("provider", "meetings", ids={"session_id": "open_session"}, form=AddMeetingForm,
                                 setup=lambda own: {"open_session": _session(own).id},
                                 data=lambda own: {**_meeting("meeting-", START.date() + timedelta(days=3)),
                                                   "add": "1"}),
    "provider.remove_meeting": Post("provider", "meetings", ids={"session_id": "open_session",
                                                                 "meeting_id": "second_meeting"},
                                    setup=lambda own: _two_meetings(own)),
    "provider.postpone_session": Post("provider", "sessions", ids={"session_id": "open_session"}, form=ReasonForm,
                                      setup=lambda own: {"open_session": _session(own).id}, data=lambda own: REASON),
    "provider.cancel_session": Post("provider", "sessions", ids={"session_id": "session"}, form=ReasonForm,
                                    data=lambda own: REASON,
                                    writes=frozenset({"sessions.status", "bookings.status"})),
    "provider.confirm_proposal": Post("provider", "sessions", ids={"session_id": "postponed"}),
    "provider.change_dates": Post("provider", "meetings", ids={"session_id": "postponed"}, form=DatesForm,
                                  data=lambda own: {**_deadlines(IN_TWO_MONTHS),
                                                    **_meeting("meetings-0-", IN_TWO_MONTHS), "save": "1"}),
    "attendance.mark": Post("provider", "attendances", form=MarkForm,
                            ids={"session_id": "session", "meeting_id": "meeting", "booking_id": "booking"},
                            data=lambda own: {"status": "attended"}, writes=ATTENDED_HOURS),
    "attendance.all_present": Post("provider", "attendances", ids={"session_id": "session", "meeting_id": "meeting"},
                                   writes=ATTENDED_HOURS),
    # The programme office
    "hours.verify": Post("pm", "hours_entries", ids={"entry_id": "hours"},
                         writes=frozenset({"hours_entries.verification"})),
    "hours.reject": Post("pm", "hours_entries", ids={"entry_id": "hours"}, form=RejectForm, data=lambda own: REASON),
    "restrictions.new": Post("pm", "restrictions", form=RestrictionForm, data=lambda own: _restriction()),
    "restrictions.change_group_size": Post("pm", "restriction_changes", ids={"restriction_id": "restriction"},
                                           form=GroupSizeForm, data=lambda own: _group_size(own)),
    "restrictions.lift": Post("pm", "restrictions", ids={"restriction_id": "restriction"}, form=LiftForm,
                              data=lambda own: {"lifted_on": TODAY.isoformat()}),
    "restrictions.settings": Post("pm", "programmes", form=SettingsForm, data=lambda own: {"notice_days": "21"}),
    "users.invite": Post("pm", "users", form=InviteForm, data=lambda own: {
        "email": "ny@example.se", "name": "Ny Person", "role": "hr", "company_id": own["company"]}),
    "users.deactivate": Post("pm", "users", ids={"user_id": "user"}, writes=frozenset({"users.is_active"})),
    "users.activate": Post("pm", "users", ids={"user_id": "user"}, setup=lambda own: _deactivated_user(own)),
    "privacy.retention": Post("pm", "programmes", form=RetentionForm, data=lambda own: {"retention_years": "3"}),
    "privacy.purge": Post("pm", "attendances", setup=lambda own: _register_due_for_purge(own)),
    "privacy.erase": Post("pm", "employees", ids={"employee_id": "employee"}, form=EraseForm,
                          data=lambda own: {"confirmed": "y"}, writes=frozenset({"employees.is_active"})),
}

# POST routes that change no data, or cannot take a valid body here: why, one line each.
LEFT_OUT = {
    "roster.import_roster": "a preview: it shows what the file would do and saves nothing",
}

# The extras: a field the form does not have, and a value its real page never sends. A name
# ending in _id (and `id`) carries the foreign tenant's id of that kind.
POISON_IDS = {"company_id": "company", "provider_id": "provider", "employee_id": "employee",
              "session_id": "session", "course_id": "course", "user_id": "user", "plan_id": "plan",
              "booked_by_id": "user", "created_by_id": "user", "verified_by_id": "user"}
POISON_VALUES = {"status": "cancelled", "role": "pm", "capacity": "999", "seats_taken": "77",
                 "company_seat_cap": "55", "verification": "verified", "is_active": "0", "erased_at": "2020-01-01",
                 "session_version": "99", "password_hash": "x"}


# What the forms need beyond the world

def _session(own: dict, course: Course | None = None, **fields) -> Session:
    """A session of the provider's own course a month ahead: open for booking and for changes."""
    return make.session(course or db.session.get(Course, own["course"]), starts_at=START, **fields)


def _welding_course(own: dict) -> Course:
    """A course in an area no plan of the world needs. Publishing a session rightly tells every company
    whose plan needs its area, the foreign one too; both of the world's plans need the world's course."""
    provider = db.session.get(Course, own["course"]).provider
    return make.course(provider, competence_areas=[make.competence_area("welding")])


def _register_due_for_purge(own: dict) -> dict:
    """A register two years old, kept one year: the purge removes it."""
    old = make.session(db.session.get(Course, own["course"]), starts_at=START - timedelta(days=800))
    booking = make.booking(old, db.session.get(Employee, own["employee"]))
    db.session.add(Attendance(booking=booking, meeting=old.meetings[0], status=AttendanceStatus.ATTENDED))
    db.session.scalars(select(Programme)).one().retention_years = 1
    db.session.commit()
    return {}


def _booked(own: dict) -> dict:
    session = _session(own)
    return {"open_booking": make.booking(session, db.session.get(Employee, own["employee"])).id}


def _two_meetings(own: dict) -> dict:
    session = _session(own, meetings=2)
    return {"open_session": session.id, "second_meeting": session.meetings[1].id}


def _deactivated(own: dict) -> dict:
    db.session.get(Employee, own["employee"]).is_active = False
    db.session.commit()
    return {}


def _deactivated_user(own: dict) -> dict:
    db.session.get(User, own["user"]).is_active = False
    db.session.commit()
    return {}


def _retired(own: dict) -> dict:
    db.session.get(Course, own["course"]).retired_at = datetime.now(timezone.utc)
    db.session.commit()
    return {}


def _without_plan(own: dict) -> dict:
    db.session.delete(db.session.get(TrainingPlan, own["plan"]))
    db.session.commit()
    return {}


def _item() -> dict:
    return {"competence_area_id": make.competence_area("lean").id, "course_id": "", "head_count": "4",
            "planned_hours": "24", "target": f"{TODAY.year}-{(TODAY.month - 1) // 3 + 1}", "priority": "high",
            "note": "Hela monteringen"}


def _hours(own: dict) -> dict:
    return {"employee_id": own["employee"], "day": (TODAY - timedelta(days=2)).isoformat(), "duration_hours": "2",
            "duration_minutes": "30", "course_id": "", "description": "Webbkurs", "note": "", "delivery": "digital"}


def _course() -> dict:
    return {"title": "Fleroperationsmaskiner", "description": "", "competence_area_ids": make.competence_area("cnc").id,
            "format": "in_person", "nominal_hours": "24", "level": "advanced", "language": "sv"}


def _deadlines(day: date) -> dict:
    return {"booking_deadline": f"{(day - timedelta(days=7)).isoformat()}T12:00",
            "cancellation_deadline": f"{(day - timedelta(days=3)).isoformat()}T12:00"}


def _settings() -> dict:
    return {"capacity": "12", "min_participants": "0", "company_seat_cap": "", "seat_cap_released_at": "",
            "note": "", **_deadlines(IN_A_MONTH)}


def _meeting(prefix: str, day: date) -> dict:
    return {prefix + "day": day.isoformat(), prefix + "starts_at": "09:00", prefix + "ends_at": "15:00",
            prefix + "venue": "Verkstaden", prefix + "municipality_id": str(make.municipality().id),
            prefix + "online_url": ""}


def _restriction() -> dict:
    elsewhere = db.session.scalars(select(Municipality.id).where(Municipality.name != make.municipality().name)).first()
    return {"scope": "municipalities", "municipality_ids": str(elsewhere),
            "in_force_from": (TODAY + timedelta(days=1)).isoformat(), "max_group_size": "",
            "description": "Lokal restriktion", "confirmed_sessions": "0", "save": "1"}  # no session meets there


def _group_size(own: dict) -> dict:
    effective = TODAY + timedelta(days=100)
    impact = restriction_service.preview_group_size(db.session.get(Restriction, own["restriction"]), effective, 5)
    db.session.rollback()
    return {"effective_from": effective.isoformat(), "max_group_size": "5",
            "confirmed_sessions": str(impact.sessions), "save": "1"}


# Helpers

def form_fields(form: type | None) -> set[str]:
    return {name for name in dir(form) if isinstance(getattr(form, name, None), UnboundField)} if form else set()


def own_ids(world: dict, role: str) -> dict:
    return {kind: _ids_of(world, role, kind)[0] for kind in KINDS}


def foreign_ids(world: dict, role: str) -> dict:
    foreign = {kind: _ids_of(world, role, kind)[1] for kind in KINDS}
    foreign["provider"] = db.session.get(Course, foreign["course"]).provider_id
    return foreign


def extras(post: Post, body: dict, foreign: dict) -> dict:
    """The poison fields this form does not have. `id` names the foreign twin of the URL's object."""
    kinds = [kind for kind in post.ids.values() if isinstance(foreign.get(kind), int)]
    poison = {name: str(foreign[kind]) for name, kind in POISON_IDS.items()}
    poison |= {"id": str(foreign[kinds[0] if kinds else "employee"]), **POISON_VALUES}
    real = form_fields(post.form) | set(body)
    return {name: value for name, value in poison.items() if name not in real}


Rows = dict[str, dict[tuple, dict]]


def snapshot() -> Rows:
    """{table: {primary key: row}} of every table but the reference data."""
    rows: Rows = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            if table.name in REFERENCE_TABLES:
                continue
            key = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = {tuple(row[c.name] for c in key): dict(row)
                                for row in connection.execute(table.select()).mappings()}
    return rows


SEED_TABLES = {"company": "companies", "provider": "providers", "restriction": "restrictions", "user": "users"}


def foreign_rows(rows: Rows, foreign: dict) -> dict[str, set]:
    """The keys of the foreign tenant's rows: its company, provider, account and restriction, and
    every row referring to one of those, directly or through others."""
    found = {name: set() for name in rows}
    for kind, table in SEED_TABLES.items():
        found[table].add((foreign[kind],))
    grown = True
    while grown:
        grown = False
        for table in db.metadata.sorted_tables:
            for key, row in rows.get(table.name, {}).items():
                if key in found[table.name]:
                    continue
                if any((row[fk.parent.name],) in found.get(fk.column.table.name, ()) for fk in table.foreign_keys):
                    found[table.name].add(key)
                    grown = True
    return found


def holds(value, poison: str) -> bool:
    if isinstance(value, bool):
        return value == (poison not in ("0", "false", ""))
    if isinstance(value, (date, datetime)):
        return value.isoformat().startswith(poison)
    return value is not None and str(value) == poison


def poisoned(before: Rows, after: Rows, poison: dict, writes: frozenset) -> list[str]:
    """Each changed or new column named like a poison field that holds its poison value.
    `id` is left out: a new row's id is the database's choice, and a foreign row it would
    overwrite is caught as a change to the foreign tenant."""
    found = []
    for table, rows in after.items():
        for key, row in rows.items():
            old = before[table].get(key)
            for column, value in row.items():
                if column == "id" or column not in poison or f"{table}.{column}" in writes:
                    continue
                if (old is None or old[column] != value) and holds(value, poison[column]):
                    found.append(f"{table} {key}: {column} = {value!r}")
    return found


def changed_foreign_rows(before: Rows, after: Rows, foreign: dict) -> list[str]:
    keys_before, keys_after = foreign_rows(before, foreign), foreign_rows(after, foreign)
    return [f"{table} {key}: {before[table].get(key)} -> {after[table].get(key)}"
            for table in before for key in sorted(keys_before[table] | keys_after[table], key=repr)
            if before[table].get(key) != after[table].get(key)]


def _params() -> list:
    return [pytest.param(endpoint, id=endpoint,
                         marks=[pytest.mark.xfail(strict=True, reason=post.bug)] if post.bug else [])
            for endpoint, post in FORMS.items()]


# The tests

def test_every_post_is_declared():
    posts = {endpoint for endpoint, (_, methods) in RULES.items() if "POST" in methods}
    undeclared = sorted(posts - FORMS.keys() - LEFT_OUT.keys())
    stale = sorted((FORMS.keys() | LEFT_OUT.keys()) - posts)
    assert not undeclared, f"POST routes in neither FORMS nor LEFT_OUT (tests/test_extra_fields.py): {undeclared}"
    assert not stale, f"FORMS or LEFT_OUT name routes the app does not take a POST on: {stale}"


@pytest.mark.parametrize("endpoint", _params())
def test_extra_fields_change_nothing(app, world, endpoint):
    post = FORMS[endpoint]
    own = own_ids(world, post.role)
    foreign = foreign_ids(world, post.role)
    if post.setup:
        own |= post.setup(own)
    body = post.data(own)
    extra = extras(post, body, foreign)
    db.session.remove()  # the request must not meet objects cached here
    browser = Browser(app, world, post.role)
    token = browser.token
    with app.test_request_context():
        url = url_for(endpoint, **{name: own[kind] for name, kind in post.ids.items()})

    before = snapshot()
    response = browser.client.post(url, data={**extra, **body, "csrf_token": token}, buffered=True)
    after = snapshot()

    assert classify(response) == "ok" and response.status_code != 422, \
        f"{url} answered {response.status_code}: {response.get_data(as_text=True)[:2000]}"
    if post.changes == "session":  # the language switch writes the signed cookie alone
        with browser.client.session_transaction() as cookie:
            assert cookie.get("locale") == body["locale"], "the post changed nothing"
            assert not set(cookie) & set(extra), f"the session took extra fields: {dict(cookie)}"
    else:
        assert before[post.changes] != after[post.changes], f"the post did not change {post.changes}"
    problems = poisoned(before, after, extra, post.writes)
    assert not problems, "extra fields were saved:\n" + "\n".join(problems)
    changed = changed_foreign_rows(before, after, foreign)
    assert not changed, "the foreign tenant's rows changed:\n" + "\n".join(changed)


