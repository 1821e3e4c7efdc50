"""The access matrix: every endpoint × role × own/foreign tenant id answers as declared.

EXPECTED below declares, for every endpoint in app.url_map, what each role gets:

    "ok"     a 2xx, a 422 (a form shown again), or a redirect that is not to sign-in
    "login"  302 to /login?next=...  (not signed in)
    "403"    the role may not use the route
    "404"    the role may use the route on its own tenant's objects; a FOREIGN id answers 404

and which object kind each id in the URL (or query string) names, so that every case can be
run with an own id ("own"), a foreign tenant's id ("foreign") and, for URLs naming more than
one object, own ids but a foreign last one ("mixed"). An answer may also be a dict per side,
e.g. {"own": "ok", "foreign": "404", "mixed": "ok"}.

Besides the status, every case checks that a refused POST (and any POST by HR or a provider on
a foreign object) changed nothing in the database, and that no page shown to anyone but the
programme office names the foreign company or its employee.

Adding a route: add one line to EXPECTED (test_every_endpoint_is_declared fails until you do),
e.g. `"hours.export": gated(hr="404", pm="ok", ids={"entry_id": "hours"}, data={...})`;
test_every_declaration_fits_its_route checks the line names every URL argument. A new object
kind: add it to KINDS and to the world fixture's ids (side "a" own, "b" foreign), or to `_ids_of`
when own and foreign are not simply the two tenants. A known bug goes into KNOWN_BUGS under its
case id (e.g. "hr-foreign-POST-booking.cancel"): that one case then runs as xfail(strict=True).
"""
from __future__ import annotations

import io
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import url_for

from portal import create_app
from portal.extensions import db
from portal.models import (
    Delivery, HoursEntry, HoursSource, Notification, PlanItem, Priority, Programme, ProposalStatus,
    ProposedMeeting, RescheduleProposal, Restriction, RestrictionScope, Role, SessionStatus, TokenPurpose,
    TrainingPlan,
)
from portal.services import accounts
from portal.services.slots import is_working_day
from tests.conftest import REFERENCE_TABLES, config_for_tests, sign_in

ROLES = ("anonymous", "hr", "provider", "pm")
ANSWERS = {"ok", "login", "403", "404"}
TODAY = date.today().isoformat()

# Names only the foreign tenant has: no page shown to HR, a provider or a visitor may print them.
FOREIGN_COMPANY = "Främmande Verkstad AB"
FOREIGN_PERSON = "Främlingsson"


@dataclass(frozen=True)
class Route:
    anonymous: str | dict
    hr: str | dict
    provider: str | dict
    pm: str | dict
    ids: dict = field(default_factory=dict)  # URL parameter -> object kind
    query: dict = field(default_factory=dict)  # query-string parameter -> object kind
    values: dict = field(default_factory=dict)  # other URL parameters, filled as given
    data: dict = field(default_factory=dict)  # the POST body besides the CSRF token
    htmx: bool = False  # also sent as htmx (HX-Request: true; a POST's token in X-CSRFToken)


def public(**kw) -> Route:
    """Anyone, signed in or not."""
    return Route("ok", "ok", "ok", "ok", **kw)


def signed_in(**kw) -> Route:
    """Any signed-in user; a visitor is sent to sign in."""
    answers = {role: kw.pop(role, "ok") for role in ("hr", "provider", "pm")}
    return Route("login", **answers, **kw)


def gated(**kw) -> Route:
    """Only the roles named (with their answer); every other role 403, a visitor to sign in."""
    answers = {role: kw.pop(role, "403") for role in ("hr", "provider", "pm")}
    return Route("login", **answers, **kw)


PROVIDER_OWN = dict(provider="404")
ON_COURSE = dict(ids={"course_id": "course"}, **PROVIDER_OWN)
ON_SESSION = dict(ids={"session_id": "session"}, **PROVIDER_OWN)
ON_POSTPONED = dict(ids={"session_id": "postponed"}, **PROVIDER_OWN)
ON_MEETING = dict(ids={"session_id": "session", "meeting_id": "meeting"}, **PROVIDER_OWN)
REASON = {"reason": "Tillgångsmatrisen"}

EXPECTED: dict[str, Route] = {
    # Public
    "static": public(values={"filename": "portal.css"}),
    "auth.login": public(),
    "catalogue.calendar_feed": Route("404", "404", "404", "404", ids={"token": "calendar_token"}),  # wrong token: 404
    "main.language": public(data={"locale": "sv"}),
    "auth.forgot_password": public(),
    "auth.set_password": Route("404", "404", "404", "404", ids={"token": "password_link"}),  # wrong link: 404
    # Any signed-in user
    "auth.logout": signed_in(),
    "auth.change_password": signed_in(),
    "main.index": signed_in(),
    "catalogue.index": signed_in(hr="404", query={"plan_item": "plan_item"}, htmx=True),  # a plan item is HR's own
    "catalogue.course": signed_in(ids={"course_id": "course"}),  # the catalogue is everyone's to read
    "catalogue.session_ics": signed_in(ids={"session_id": "session"}),
    "notifications.index": signed_in(),
    "notifications.unread": signed_in(htmx=True),
    "notifications.read": signed_in(hr="404", provider="404", pm="404", ids={"notification_id": "notification"},
                                    htmx=True),  # each user's own, the programme office's too
    "notifications.read_all": signed_in(),
    # HR and the programme office
    "main.company": gated(hr="404", pm="ok", ids={"company_id": "company"}),
    "plans.plan": gated(hr="404", pm="ok", ids={"plan_id": "plan"}),
    "booking.bookings": gated(hr="ok", pm="ok", query={"session": "session"}),  # filters, shows only one's own
    "booking.cancel": gated(hr="404", pm="ok", ids={"booking_id": "booking"}),
    "reports.index": gated(hr="ok", pm="ok", query={"company": "company"}),  # HR: its own, whatever is asked
    "reports.figures_csv": gated(hr="ok", pm="ok", query={"company": "company"}),
    "reports.figures_xlsx": gated(hr="ok", pm="ok", query={"company": "company"}),
    "reports.participants_csv": gated(hr="ok", pm="ok", query={"company": "company"}),
    "reports.participants_xlsx": gated(hr="ok", pm="ok", query={"company": "company"}),
    # HR
    "booking.book": gated(hr={"own": "ok", "foreign": "404", "mixed": "404"},  # any session; the plan item its own
                          ids={"session_id": "session"}, query={"plan_item": "plan_item"}, htmx=True),
    "catalogue.calendar_page": gated(hr="ok"),
    "catalogue.renew_calendar_token": gated(hr="ok"),
    "catalogue.revoke_calendar_token": gated(hr="ok"),
    "roster.index": gated(hr="ok", htmx=True),
    "roster.new": gated(hr="ok"),
    "roster.edit": gated(hr="404", ids={"employee_id": "employee"}),
    "roster.deactivate": gated(hr="404", ids={"employee_id": "employee"}),
    "roster.reactivate": gated(hr="404", ids={"employee_id": "employee"}),
    "roster.import_roster": gated(hr="ok"),
    "roster.confirm_import": gated(hr="ok"),
    "plans.own_plan": gated(hr="ok"),
    "plans.create_plan": gated(hr="ok"),
    "plans.new_item": gated(hr="ok"),
    "plans.edit_item": gated(hr="404", ids={"item_id": "plan_item"}),
    "plans.delete_item": gated(hr="404", ids={"item_id": "plan_item"}),
    "hours.index": gated(hr="ok"),
    "hours.edit": gated(hr="404", ids={"entry_id": "hours"}),
    "hours.delete": gated(hr="404", ids={"entry_id": "hours"}),
    # Providers
    "provider.courses": gated(provider="ok"),
    "provider.new_course": gated(provider="ok"),
    "provider.course": gated(**ON_COURSE),
    "provider.edit_course": gated(**ON_COURSE),
    "provider.retire_course": gated(**ON_COURSE),
    "provider.reinstate_course": gated(**ON_COURSE),
    "provider.new_session": gated(**ON_COURSE),
    "provider.session": gated(**ON_SESSION),
    "provider.edit_session": gated(**ON_SESSION),
    "provider.publish_session": gated(**ON_SESSION),
    "provider.add_meeting": gated(**ON_SESSION),
    "provider.postpone_session": gated(**ON_SESSION, data=REASON),
    "provider.cancel_session": gated(**ON_SESSION, data=REASON),
    "provider.confirm_proposal": gated(**ON_POSTPONED),
    "provider.change_dates": gated(**ON_POSTPONED),
    # Another session's meeting under one's own session is "not part of this session": flashed, nothing removed.
    "provider.remove_meeting": gated(ids=ON_MEETING["ids"], provider={"own": "ok", "foreign": "404", "mixed": "ok"}),
    "attendance.register": gated(**ON_MEETING),
    "attendance.mark": gated(ids={**ON_MEETING["ids"], "booking_id": "booking"}, provider="404",
                             data={"status": "attended"}, htmx=True),
    "attendance.all_present": gated(**ON_MEETING, htmx=True),
    # Providers and the programme office
    "plans.pooled_demand": gated(provider="ok", pm="ok"),
    # The programme office
    "plans.all_plans": gated(pm="ok"),
    "hours.review": gated(pm="ok", query={"company": "company"}),
    "hours.verify": gated(pm="ok", ids={"entry_id": "hours"}),
    "hours.reject": gated(pm="ok", ids={"entry_id": "hours"}, data=REASON),
    "restrictions.index": gated(pm="ok"),
    "restrictions.new": gated(pm="ok"),
    "restrictions.show": gated(pm="ok", ids={"restriction_id": "restriction"}),  # the programme's, not a tenant's
    "restrictions.change_group_size": gated(pm="ok", ids={"restriction_id": "restriction"},
                                            data={"effective_from": TODAY, "max_group_size": "5"}),
    "restrictions.lift": gated(pm="ok", ids={"restriction_id": "restriction"}, data={"lifted_on": TODAY}),
    "restrictions.settings": gated(pm="ok", data={"notice_days": "14"}),
    "jobs.index": gated(pm="ok"),
    "users.index": gated(pm="ok"),
    "users.invite": gated(pm="ok"),
    "users.deactivate": gated(pm="ok", ids={"user_id": "user"}),  # any account but one's own
    "users.activate": gated(pm="ok", ids={"user_id": "user"}),
    "privacy.index": gated(pm="ok"),
    "privacy.retention": gated(pm="ok", data={"retention_years": "5"}),
    "privacy.purge": gated(pm="ok"),
    "privacy.person": gated(pm="ok", ids={"employee_id": "employee"}),  # any company's person
    "privacy.export": gated(pm="ok", ids={"employee_id": "employee"}),
    "privacy.erase": gated(pm="ok", ids={"employee_id": "employee"}),  # unconfirmed: the form again, nothing erased
}


# The cases, generated from the routes the app really has

def _app_rules() -> dict[str, tuple[set[str], list[str]]]:
    """endpoint -> (URL arguments, methods), read from an app that is never served."""
    app = create_app(config_for_tests("sqlite://"))
    rules: dict[str, tuple[set[str], list[str]]] = {}
    for rule in app.url_map.iter_rules():
        arguments, methods = rules.get(rule.endpoint, (set(), []))
        methods = sorted(set(methods) | (rule.methods - {"HEAD", "OPTIONS"}))
        rules[rule.endpoint] = (arguments | set(rule.arguments), methods)
    with app.app_context():
        db.engine.dispose()
    return rules


RULES = _app_rules()


def sides(route: Route) -> list[str]:
    named = len(route.ids) + len(route.query)
    return ["none"] if named == 0 else ["own", "foreign"] + (["mixed"] if named > 1 else [])


def expected_answer(route: Route, role: str, side: str) -> str:
    answer = getattr(route, role)
    if isinstance(answer, dict):
        return answer[side]
    return "ok" if answer == "404" and side == "own" else answer


@dataclass(frozen=True)
class Case:
    role: str
    side: str
    method: str
    endpoint: str
    htmx: bool

    @property
    def id(self) -> str:
        return "-".join([self.role, self.side, self.method + ("-htmx" if self.htmx else ""), self.endpoint])


SIDE_ORDER = {"foreign": 0, "mixed": 1, "none": 2, "own": 3}


def _cases() -> list[Case]:
    """Every case, each (role, endpoint)'s in the order they run: refusals before the role's own
    changes (which may alter the world), and reads before writes."""
    cases = []
    for endpoint, route in EXPECTED.items():
        if endpoint not in RULES:
            continue  # reported by test_every_endpoint_is_declared
        for role in ROLES:
            runs = [Case(role, side, method, endpoint, htmx)
                    for side in sides(route) for method in RULES[endpoint][1]
                    for htmx in ((False, True) if route.htmx else (False,))]
            cases += sorted(runs, key=lambda case: (SIDE_ORDER[case.side], case.method != "GET", case.htmx))
    return cases


CASES = _cases()

# Known bugs, each marked on its own case (its id as in the failure message): strict, so a fix
# makes the case fail until its line here is removed.
KNOWN_BUGS: dict[str, str] = {}


def _params() -> list:
    """One test per (role, endpoint) running its cases in turn on one world; a known bug's case
    is split off into a test of its own, marked xfail(strict=True)."""
    groups: dict[str, list[Case]] = {}
    params = []
    for case in CASES:
        if case.id in KNOWN_BUGS:
            params.append(pytest.param([case], id=case.id,
                                       marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[case.id])))
        else:
            groups.setdefault(f"{case.role}-{case.endpoint}", []).append(case)
    return [pytest.param(cases, id=name) for name, cases in groups.items()] + params


# The table itself

def test_every_endpoint_is_declared(app):
    served = {rule.endpoint for rule in app.url_map.iter_rules()}
    undeclared = sorted(served - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - served)
    assert not undeclared, f"routes with no expectation in EXPECTED (tests/test_access_matrix.py): {undeclared}"
    assert not stale, f"EXPECTED names endpoints the app no longer has: {stale}"


def test_every_declaration_fits_its_route(app):
    problems = []
    arguments: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        arguments.setdefault(rule.endpoint, set()).update(rule.arguments)
    for endpoint, route in EXPECTED.items():
        if endpoint not in arguments:
            continue
        declared = set(route.ids) | set(route.values)
        if declared != arguments[endpoint]:
            problems.append(f"{endpoint}: URL arguments {sorted(arguments[endpoint])}, declared {sorted(declared)}")
        for kind in [*route.ids.values(), *route.query.values()]:
            if kind not in KINDS:
                problems.append(f"{endpoint}: unknown object kind {kind!r}")
        for role in ROLES:
            for side in sides(route):
                try:
                    answer = expected_answer(route, role, side)
                except KeyError:
                    problems.append(f"{endpoint}: {role} has no answer for side {side!r}")
                    continue
                if answer not in ANSWERS:
                    problems.append(f"{endpoint}: {role} {side}: {answer!r} is not one of {sorted(ANSWERS)}")
                elif answer == "404" and side == "none":
                    problems.append(f"{endpoint}: {role} answers 404 but the URL names no object")
    assert not problems, "\n".join(problems)


# The world: two tenants of each kind, "a" (the signed-in user's) and "b" (foreign)

KINDS = {"company", "course", "session", "postponed", "meeting", "booking", "employee", "plan", "plan_item",
         "hours", "notification", "restriction", "calendar_token", "password_link", "user"}


@pytest.fixture
def world(make):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    today = date.today()
    programme = Programme(name="Kompetenslyftet", period_start=today - timedelta(days=365),
                          period_end=today + timedelta(days=365))
    db.session.add(programme)
    restrictions = {
        # In force, but roomy enough for the world's sessions, so booking and publishing them stay open to test
        side: Restriction(scope=RestrictionScope.COUNTRY, in_force_from=today - timedelta(days=7), max_group_size=50,
                          description=f"Restriktion {side}")
        for side in "ab"
    }
    db.session.add_all(restrictions.values())
    db.session.commit()
    ids: dict = {"restriction": {side: r.id for side, r in restrictions.items()}}
    users: dict = {}
    tenants = (("a", "Eget Verkstad AB", "Egensson"), ("b", FOREIGN_COMPANY, FOREIGN_PERSON))
    for side, company_name, last_name in tenants:
        company = make.company(name=company_name, calendar_token=secrets.token_urlsafe(32))
        hr = make.user(Role.HR, company=company, email=f"hr-{side}@example.se")
        employee = make.employee(company, first_name="Person", last_name=last_name)
        provider_user = make.user(Role.PROVIDER, email=f"provider-{side}@example.se")
        course = make.course(provider_user.provider)
        session = make.session(course, starts_at=now - timedelta(hours=1))  # its meeting has started
        booking = make.booking(session, employee)
        postponed = make.session(course, starts_at=now + timedelta(days=30), status=SessionStatus.POSTPONED,
                                 postponed_by_id=restrictions[side].id, postponed_at=now)
        moved = postponed.meetings[0]
        # Dates that still hold when confirmed: a working day at a fixed hour in Sweden, whatever day
        # and hour the suite runs at (a weekend or holiday would be replaced by a fresh proposal)
        proposed_day = today + timedelta(days=44)
        while not is_working_day(proposed_day):
            proposed_day += timedelta(days=1)
        proposed_start = datetime.combine(proposed_day, time(9), ZoneInfo("Europe/Stockholm"))
        db.session.add(RescheduleProposal(
            session=postponed, restriction_id=restrictions[side].id, status=ProposalStatus.PROPOSED,
            earliest_day=today + timedelta(days=44),
            meetings=[ProposedMeeting(meeting=moved, starts_at=proposed_start,
                                      ends_at=proposed_start + timedelta(hours=6))],
        ))
        plan = TrainingPlan(company=company, title=f"Plan {side}", period_start=programme.period_start,
                            period_end=programme.period_end)
        plan.items.append(PlanItem(competence_area=make.competence_area(), planned_minutes=600,
                                   target_year=today.year, target_quarter=4, head_count=2, priority=Priority.HIGH))
        hours = HoursEntry(employee=employee, company=employee.company, entry_date=today - timedelta(days=1), minutes=90,
                           source=HoursSource.MANUAL, description="E-kurs", delivery=Delivery.DIGITAL)
        db.session.add_all([plan, hours])
        db.session.commit()
        users[f"hr-{side}"], users[f"provider-{side}"] = hr, provider_user
        for kind, obj in (("company", company), ("course", course), ("session", session), ("postponed", postponed),
                          ("meeting", session.meetings[0]), ("booking", booking), ("employee", employee),
                          ("plan", plan), ("plan_item", plan.items[0]), ("hours", hours)):
            ids.setdefault(kind, {})[side] = obj.id
        ids.setdefault("calendar_token", {})[side] = company.calendar_token
        ids.setdefault("user", {})[side] = hr.id
    users["pm"] = make.user(Role.PM, email="pm@example.se")
    ids["password_link"] = {"a": accounts.issue_link(users["hr-a"], TokenPurpose.RESET)}
    notes = {key: Notification(user=user, kind="test", title=f"Till {key}") for key, user in users.items()}
    db.session.add_all(notes.values())
    db.session.commit()
    world = {
        "ids": ids,
        "emails": {"hr": users["hr-a"].email, "provider": users["provider-a"].email, "pm": users["pm"].email},
        "notes": {key: note.id for key, note in notes.items()},
    }
    db.session.remove()  # the requests below must not see this session's cached objects
    return world


def _ids_of(world: dict, role: str, kind: str) -> tuple:
    """(own, foreign) of one object kind, as the role sees them."""
    if kind == "notification":  # each user's own, whatever the role
        own = {"anonymous": "hr-a", "hr": "hr-a", "provider": "provider-a", "pm": "pm"}[role]
        return world["notes"][own], world["notes"]["hr-b" if role != "hr" else "provider-b"]
    if kind in ("calendar_token", "password_link"):  # the key is the secret address: a made-up one answers 404
        return world["ids"][kind]["a"], secrets.token_urlsafe(32)
    return world["ids"][kind]["a"], world["ids"][kind]["b"]


def _fill(world: dict, role: str, side: str, names: list[tuple[str, str]]) -> dict:
    """The values of the named parameters: own, foreign, or own but the last one foreign (mixed)."""
    values = {}
    for position, (name, kind) in enumerate(names):
        own, foreign = _ids_of(world, role, kind)
        foreign_here = side == "foreign" or (side == "mixed" and position == len(names) - 1)
        values[name] = foreign if foreign_here else own
    return values


# Answers and the database before and after

def classify(response) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        location = urlsplit(response.headers.get("Location", ""))
        if location.path == "/login" and "next" in parse_qs(location.query):
            return "login"
        return "ok"
    if 200 <= status < 300 or status == 422:
        return "ok"
    return str(status)


def fingerprint() -> dict:
    """Every row of every table but the reference data: a refused request changes none of them."""
    tables = [table for table in db.metadata.sorted_tables if table.name not in REFERENCE_TABLES]
    with db.engine.connect() as connection:
        return {table.name: sorted(map(repr, connection.execute(table.select()).all())) for table in tables}


def changes(before: dict, after: dict) -> list[str]:
    return [f"{name}: {len(before[name])} -> {len(after[name])} rows" if len(before[name]) != len(after[name])
            else f"{name}: rows changed" for name in before if before[name] != after[name]]


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Browser:
    """A client signed in as the role (or not signed in), with the CSRF token its pages carry."""

    def __init__(self, app, world, role: str):
        self.client = app.test_client()
        if role != "anonymous":
            answer = sign_in(self.client, world["emails"][role])
            assert answer.status_code == 302, f"{role} could not sign in"
        self.home = "/notifications/" if role != "anonymous" else "/login"
        self._token = None

    @property
    def token(self) -> str:
        if self._token is None:
            found = CSRF_META.search(self.client.get(self.home).get_data(as_text=True))
            assert found, "the page carries no CSRF token"
            self._token = found.group(1)
        return self._token

    def send(self, case: Case, url: str, data: dict):
        # Buffered: a streamed download is read inside the request, as a server would.
        headers = {"HX-Request": "true"} if case.htmx else {}
        if case.method == "GET":
            return self.client.get(url, headers=headers, buffered=True)
        if case.htmx:  # htmx sends the token in a header (hx-headers in the layout)
            return self.client.post(url, data=data, headers={**headers, "X-CSRFToken": self.token}, buffered=True)
        return self.client.post(url, data={**data, "csrf_token": self.token}, buffered=True)


def readable(response) -> str:
    """The body as text to search: an .xlsx file's XML parts, anything else decoded."""
    body = response.get_data()
    response.close()
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            body = b"".join(archive.read(name) for name in archive.namelist())
    return body.decode("utf-8", errors="replace")


def run(app, world, browser: Browser, case: Case) -> str | None:
    """Send one case; a sentence naming it when its answer is not the declared one."""
    route = EXPECTED[case.endpoint]
    expected = expected_answer(route, case.role, case.side)
    values = _fill(world, case.role, case.side, [*route.ids.items(), *route.query.items()])
    with app.test_request_context():
        url = url_for(case.endpoint, **route.values, **values)
    where = f"{case.id} ({url})"
    # A refused POST, and any POST of HR or a provider on a foreign object, must change nothing.
    guarded = case.method == "POST" and (expected != "ok" or (case.side in ("foreign", "mixed") and case.role != "pm"))
    before = fingerprint() if guarded else None
    try:
        response = browser.send(case, url, route.data)
    except Exception as error:  # TESTING propagates what would be a 500
        return f"{where}: expected {expected}, got 500 -> {type(error).__name__}: {error}"
    body = readable(response)
    actual = classify(response)
    changed = changes(before, fingerprint()) if guarded else []
    if actual != expected:
        location = f" (Location: {response.headers['Location']})" if "Location" in response.headers else ""
        also = f"; and it changed the database: {changed}" if changed else ""
        return f"{where}: expected {expected}, got {response.status_code} -> {actual}{location}{also}"
    if changed:
        return f"{where}: answered {response.status_code} but changed the database: {changed}"
    if case.role != "pm":
        leaked = [name for name in (FOREIGN_COMPANY, FOREIGN_PERSON) if name in body]
        if leaked:
            return f"{where}: answered {response.status_code} naming the foreign tenant: {leaked}"
    return None


@pytest.mark.parametrize("cases", _params())
def test_access(app, world, cases: list[Case]):
    browser = Browser(app, world, cases[0].role)
    problems = [problem for case in cases if (problem := run(app, world, browser, case))]
    assert not problems, "\n" + "\n".join(problems)
