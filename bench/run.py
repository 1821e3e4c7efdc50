#!/usr/bin/env python3
"""The benchmark: serve the portal with gunicorn (2 workers) on a database that
`flask portal generate` built, and measure each role's key pages and actions over HTTP.

    .venv/bin/python bench/run.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_scale \\
        --label postgresql-scale-1

For every scenario: a warm-up, then repeated requests from two clients at once; p50 and p95
latency, requests per second, and the SQL statements each request ran (the app's `X-Queries`
header, on with PORTAL_BENCH=1). The floor (the base layout and one trivial query) is measured in
the same run: alone first, and then beside each interactive page or action, in rounds (the clients'
floor requests at once, then their page requests at once), and every latency is also given as a ratio
to the floor measured beside it (to the one measured alone for the report and the workbook). Besides HTTP: the participant
workbook built in a process of its own (time and peak memory), and the rescheduling job over every
postponed session. Writes bench/results/<label>.json and .md and prints the table.

The actions change the data (bookings, cancellations, attendance, proposals); each run picks fresh
rows, and the rescheduling step first undoes the previous run's proposals, so runs can repeat (at scale
1 regenerate between runs: each takes 200 cancellations). Booking ten books seats a restriction in force
allows, or else joins a waiting list; requests sent at the same moment act on different sessions.
Not part of the test suite: speed is checked here, never by timed assertions in the tests.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "kompetenslyft-scale"  # every generated account's (portal/generate.py)
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

# Targets at scale 1 (the issue): interactive p95 <= 100 ms and <= 5x the floor; the report
# p95 <= 500 ms; the workbook of every participant <= 10 s; rescheduling <= 15 s.
INTERACTIVE_P95_MS, FLOOR_RATIO, REPORT_P95_MS, WORKBOOK_S, RESCHEDULE_S = 100, 5, 500, 10, 15
MARKED = 5  # people whose attendance is toggled


# HTTP, with the session cookie and the CSRF token a browser would hold

class Client:
    def __init__(self, port: int):
        self.port = port
        self.cookie = ""
        self.token = ""

    def request(self, method: str, path: str, data: dict | None = None, htmx: bool = False):
        """(status, headers, body, seconds) of one request, the whole body read."""
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if htmx:
            headers["HX-Request"] = "true"
        if data is not None:
            body = urlencode({**data, "csrf_token": self.token}, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
        seconds = time.perf_counter() - started
        connection.close()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, dict(response.getheaders()), content, seconds

    def sign_in(self, email: str) -> "Client":
        _, _, page, _ = self.request("GET", "/login")
        self.token = CSRF_META.search(page.decode()).group(1)
        status, headers, _, _ = self.request("POST", "/login", {"email": email, "password": PASSWORD})
        if status != 302 or headers.get("Location", "").startswith("/login"):
            raise SystemExit(f"could not sign in as {email} (answer {status})")
        _, _, page, _ = self.request("GET", "/notifications/")
        self.token = CSRF_META.search(page.decode()).group(1)
        return self


@contextmanager
def served(database_url: str, port: int, workers: int):
    env = {**os.environ, "DATABASE_URL": database_url, "PORTAL_BENCH": "1", "SECRET_KEY": secrets.token_hex(32)}
    env.pop("PORTAL_ENV", None)
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "--timeout", "300", "wsgi:app"],
        cwd=ROOT, env=env,
    )
    try:
        for _ in range(300):
            try:
                if Client(port).request("GET", "/login")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("gunicorn did not answer within a minute")
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


# What to ask for: real rows of the generated programme

@dataclass
class Plan:
    hr: str
    provider: str
    pm: str
    urls: dict[str, str]
    bookings: list[tuple[str, str, list[int]]]  # (hr email, url, employee ids)
    seated: int  # of the bookings, the groups that book seats (the others join a waiting list)
    cancellations: list[str]
    marks: list[str]  # register urls of two past meetings' bookings, taking turns
    counts: dict[str, int] = field(default_factory=dict)


def plan_requests(database_url: str, needed: int) -> Plan:
    """Pick the users, sessions, bookings and employees the scenarios use, from the database."""
    os.environ["DATABASE_URL"] = database_url
    from flask import url_for
    from sqlalchemy import and_, func, select
    from sqlalchemy.orm import selectinload

    from portal import create_app
    from portal.extensions import db
    from portal.models import (
        Booking, BookingStatus, Company, Course, Employee, Meeting, Municipality, Region, Role, Session,
        SessionStatus, User,
    )
    from portal.models.catalogue import course_competence_areas
    from portal.models.reference import CompetenceArea
    from portal.services.booking import group_limit_of, seats_allowed

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SERVER_NAME": "bench.local", "PORTAL_BENCH": True})
    with app.app_context(), app.test_request_context():
        now = datetime.now(timezone.utc)
        counts = {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in (
            ("companies", Company), ("employees", Employee), ("sessions", Session), ("bookings", Booking))}
        # HR of the company with the most employees; the provider with the most sessions.
        company_id = db.session.scalar(select(Employee.company_id).group_by(Employee.company_id)
                                       .order_by(func.count().desc(), Employee.company_id).limit(1))
        hr = db.session.scalar(select(User.email).where(User.role == Role.HR, User.company_id == company_id).limit(1))
        provider_id = db.session.scalar(select(Course.provider_id).join(Session).group_by(Course.provider_id)
                                        .order_by(func.count().desc(), Course.provider_id).limit(1))
        provider = db.session.scalar(select(User.email).where(User.role == Role.PROVIDER,
                                                              User.provider_id == provider_id).limit(1))
        pm = db.session.scalar(select(User.email).where(User.role == Role.PM).limit(1))
        first_start = select(func.min(Meeting.starts_at)).where(Meeting.session_id == Session.id).scalar_subquery()
        coming = and_(Session.status == SessionStatus.OPEN, first_start > now, Session.booking_deadline > now)

        area = db.session.scalar(select(CompetenceArea.code).join(course_competence_areas)
                                 .group_by(CompetenceArea.code).order_by(func.count().desc()).limit(1))
        region = db.session.scalar(select(Region.code).join(Municipality).join(Company)
                                   .where(Company.id == company_id))
        own_session = db.session.scalar(select(Session.id).join(Course).where(Course.provider_id == provider_id, coming)
                                         .order_by(Session.seats_taken.desc(), Session.id).limit(1))
        urls = {
            "floor": url_for("bench.floor"),
            "catalogue": url_for("catalogue.index", q="", area=area, format="in_person", region=region,
                                 seats_left="y", _external=False),
            "session": url_for("provider.session", session_id=own_session),
            "start": url_for("main.index"),
            "report": url_for("reports.index"),
            "workbook": url_for("reports.participants_xlsx"),
        }

        # Booking ten: sessions with room, each taking as many groups of ten as it has seats for; a
        # company's people with nothing else coming first (so most are booked, not refused for a clash).
        busy = set(db.session.scalars(select(Booking.employee_id).join(Meeting, Meeting.session_id == Booking.session_id)
                                      .where(Booking.status != BookingStatus.CANCELLED, Meeting.ends_at > now)))
        people: dict[int, list[int]] = {}
        for employee_id, employee_company in db.session.execute(
            select(Employee.id, Employee.company_id).where(Employee.is_active, Employee.erased_at.is_(None))
            .order_by(Employee.company_id, Employee.id)
        ):
            people.setdefault(employee_company, []).append(employee_id)
        for ids in people.values():
            ids.sort(key=lambda i: (i in busy, i))
        hr_of = dict(db.session.execute(select(User.company_id, User.email).where(User.role == Role.HR)).all())
        teams = [c for c, ids in sorted(people.items(), key=lambda item: -len(item[1])) if len(ids) >= 10 and c in hr_of]
        # Seats are those a restriction in force allows (the generated one lets ten meet in person, and
        # refuses the rest), so a group books seats; where the programme has too few seats open, the
        # rest of the groups join the waiting list of a session no restriction limits (the same service,
        # the same statements).
        seated, waiting, lines = [], [], []  # lines: sessions no restriction limits, whose line a group may join

        def group_for(session_id: int) -> tuple[str, str, list[int]]:
            company = teams[(len(seated) + len(waiting)) % len(teams)]
            taken = len([b for b in seated + waiting if b[0] == hr_of[company]]) * 10
            group = (people[company] * 2)[taken % len(people[company]):][:10]
            return hr_of[company], url_for("booking.book", session_id=session_id), group

        for session in db.session.scalars(select(Session).where(coming).order_by(Session.id)
                                          .options(selectinload(Session.meetings))):
            limit = group_limit_of(session)
            free = seats_allowed(session, limit) - session.seats_taken
            for _ in range(max(free, 0) // 10):
                seated.append(group_for(session.id))
            if limit is None:
                lines.append(session.id)
            if len(seated) >= needed:
                break
        # A small programme may need a few groups in each line.
        while lines and len(seated) + len(waiting) < needed:
            waiting.append(group_for(lines[len(waiting) % len(lines)]))
        bookings = seated[:needed] + waiting
        bookings = _taking_turns(_by_session(bookings, lambda task: task[1]))

        # Cancelling: booked seats on coming sessions with people waiting, as many per session as
        # wait, so each cancellation gives the next in line the seat. A small programme may have
        # too few waiting: then sessions are made full and people are put in line by the booking service.
        line = _waitlists(coming)
        if sum(line.values()) < needed:
            _queue_up(coming, needed, people, busy, hr_of)
            line = _waitlists(coming)
        cancellations = []
        for session_id, booking_id in db.session.execute(
            select(Booking.session_id, Booking.id).where(Booking.session_id.in_(line),
                                                         Booking.status == BookingStatus.BOOKED)
            .order_by(Booking.session_id, Booking.id)
        ):
            if line[session_id] > 0 and len(cancellations) < needed:
                line[session_id] -= 1
                cancellations.append((session_id, url_for("booking.cancel", booking_id=booking_id)))
        cancellations = [url for _, url in _taking_turns(_by_session(cancellations, lambda task: task[0]))]

        # Attendance: a past meeting of each of two of the provider's sessions with the most people
        # booked; each one's first MARKED people, marked absent, attended, absent … in turn, so every
        # scale measures the same mix of marks (a mark that adds a person's hours checks their day
        # first: one statement more).
        registers = []
        for meeting_id, session_id in db.session.execute(
            select(Meeting.id, Meeting.session_id).join(Session).join(Course)
            .where(Course.provider_id == provider_id, Meeting.starts_at < now, Session.attendance_purged_at.is_(None))
            .order_by(Session.seats_taken.desc(), Session.id, Meeting.id)
        ):
            if session_id not in {known for _, known in registers}:
                registers.append((meeting_id, session_id))
            if len(registers) == 2:
                break
        marks = _taking_turns([
            [url_for("attendance.mark", session_id=session_id, meeting_id=meeting_id, booking_id=booking_id)
             for booking_id in db.session.scalars(select(Booking.id).where(
                 Booking.session_id == session_id, Booking.status == BookingStatus.BOOKED)
                 .order_by(Booking.id).limit(MARKED))]
            for meeting_id, session_id in registers
        ])
        db.session.remove()
        db.engine.dispose()
    return Plan(hr, provider, pm, urls, bookings, min(len(seated), needed), cancellations, marks, counts)


def _by_session(tasks: list, session_of) -> list[list]:
    groups: dict = {}
    for task in tasks:
        groups.setdefault(session_of(task), []).append(task)
    return list(groups.values())


def _taking_turns(groups: list[list]) -> list:
    """The groups' items in turn (a1, b1, c1, a2, b2, …): requests sent one after the other, and so the
    two clients' at the same moment, act on different sessions, as two users of a programme with
    thousands of sessions would. (Two at once on one session take turns on its lock: that is tested
    for correctness, tests/test_booking_concurrency.py, not measured here as speed.)"""
    turns = []
    for index in range(max((len(group) for group in groups), default=0)):
        turns.extend(group[index] for group in groups if index < len(group))
    return turns


def _waitlists(coming) -> dict[int, int]:
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.models import Booking, BookingStatus, Session

    return dict(db.session.execute(select(Booking.session_id, func.count()).join(Session).where(
        coming, Booking.status == BookingStatus.WAITLISTED).group_by(Booking.session_id)).all())


def _queue_up(coming, needed: int, people: dict[int, list[int]], busy: set[int], hr_of: dict[int, str]) -> None:
    """Make the fullest coming sessions full (capacity down to the seats taken) and book people
    with nothing else coming onto their waitlists, through the booking service, until `needed` wait."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Session, User
    from portal.services.booking import book_employees

    free = {company: [i for i in ids if i not in busy] for company, ids in people.items()}
    waiting = 0
    for session in db.session.scalars(select(Session).where(coming, Session.seats_taken >= 5)
                                      .order_by(Session.seats_taken.desc(), Session.id)):
        session.capacity = session.seats_taken
        db.session.commit()
        for company, ids in free.items():
            room = min(session.seats_taken, needed - waiting)
            if room <= 0 or company not in hr_of:
                break
            hr = db.session.scalars(select(User).where(User.email == hr_of[company])).one()
            outcomes = book_employees(session.id, ids[:room], hr).outcomes
            db.session.commit()
            placed = [o.employee_id for o in outcomes if o.result == "waitlisted"]
            free[company] = [i for i in ids if i not in placed]
            waiting += len(placed)
        if waiting >= needed:
            return


# Measuring

@dataclass
class Result:
    name: str
    role: str
    kind: str  # interactive, report, workbook, job, floor
    requests: int
    p50_ms: float
    p95_ms: float
    per_second: float
    queries: int | None
    queries_range: tuple[int, int] | None
    statuses: dict[str, int]
    floor_ratio: float | None = None
    floor_p95_ms: float | None = None  # the floor measured beside it (interactive) or alone (others)
    extra: dict = field(default_factory=dict)

    def target(self) -> str:
        if self.kind == "interactive":
            return f"p95 ≤ {INTERACTIVE_P95_MS} ms, ≤ {FLOOR_RATIO}× floor"
        return {"report": f"p95 ≤ {REPORT_P95_MS} ms", "workbook": f"≤ {WORKBOOK_S} s",
                "job": f"≤ {RESCHEDULE_S} s"}.get(self.kind, "")

    def met(self) -> bool | None:
        if self.kind == "interactive":
            return self.p95_ms <= INTERACTIVE_P95_MS and (self.floor_ratio or 0) <= FLOOR_RATIO
        if self.kind == "report":
            return self.p95_ms <= REPORT_P95_MS
        if self.kind == "workbook":
            return self.p95_ms <= WORKBOOK_S * 1000
        if self.kind == "job":
            return self.p95_ms <= RESCHEDULE_S * 1000
        return None


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def measure(name: str, role: str, kind: str, clients: list[Client], calls: list, warmup: int,
            floors: list | None = None) -> Result:
    """Run `calls` (each a function of a client giving one request's answer) from the clients at
    once, after `warmup` of them; every answer must be a success or a redirect.

    `floors`: the floor measured beside the page, in rounds: in each, the clients first send a floor
    request (floors[i]) all at once, then their page requests (calls[i]) all at once. The floor meets the
    same contention as the page (the other client's floor, as a page meets the other client's page) and
    the same state of the machine, seconds apart at most."""
    for call in calls[:warmup]:
        call(clients[0])
    measured, beside = calls[warmup:], (floors or [])[warmup:]
    answers: list = [None] * len(measured)
    floor_answers: list = [None] * len(beside)
    page_seconds = 0.0  # the clients' time on the page's requests (the floor rounds left out)
    if floors:
        rounds = -(-len(measured) // len(clients))
        barrier = threading.Barrier(len(clients))

        def work(position: int):
            nonlocal page_seconds
            mine = range(position, len(measured), len(clients))
            for round_ in range(rounds):
                index = mine[round_] if round_ < len(mine) else None
                barrier.wait()
                if index is not None:
                    floor_answers[index] = beside[index](clients[position])
                barrier.wait()
                round_started = time.perf_counter()
                if index is not None:
                    answers[index] = measured[index](clients[position])
                barrier.wait()
                if position == 0:
                    page_seconds += time.perf_counter() - round_started
    else:
        todo = list(enumerate(measured))
        lock = threading.Lock()

        def work(position: int):
            while True:
                with lock:
                    if not todo:
                        return
                    index, call = todo.pop(0)
                answers[index] = call(clients[position])

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(position,)) for position in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = page_seconds if floors else time.perf_counter() - started
    failed = {s: n for s, n in _statuses(answers + floor_answers).items() if not (200 <= int(s) < 400)}
    if failed:
        raise SystemExit(f"{name}: answers {failed}")
    latencies = [seconds * 1000 for _, _, _, seconds in answers]
    queries = [int(headers["X-Queries"]) for _, headers, _, _ in answers if "X-Queries" in headers]
    result = Result(name, role, kind, len(answers), round(percentile(latencies, 0.5), 1),
                    round(percentile(latencies, 0.95), 1), round(len(answers) / wall, 1),
                    int(statistics.median(queries)) if queries else None,
                    (min(queries), max(queries)) if queries else None, _statuses(answers))
    if floors:
        result.floor_p95_ms = round(percentile([seconds * 1000 for _, _, _, seconds in floor_answers], 0.95), 1)
        result.floor_ratio = round(result.p95_ms / result.floor_p95_ms, 1) if result.floor_p95_ms else None
    return result


def _statuses(answers: list) -> dict[str, int]:
    counted: dict[str, int] = {}
    for status, _, _, _ in answers:
        counted[str(status)] = counted.get(str(status), 0) + 1
    return counted


def get(url: str, htmx: bool = False):
    return lambda client: client.request("GET", url, htmx=htmx)


def post(url: str, data: dict, htmx: bool = False):
    return lambda client: client.request("POST", url, data, htmx=htmx)


def http_scenarios(plan: Plan, port: int, repeat: int, warmup: int, concurrency: int) -> list[Result]:
    total = repeat + warmup
    signed: dict[str, Client] = {}

    def as_(email: str, fresh: bool = False) -> Client:
        if fresh or email not in signed:
            client = Client(port).sign_in(email)
            if fresh:
                return client
            signed[email] = client
        return signed[email]

    def clients(email: str) -> list[Client]:
        return [as_(email)] + [as_(email, fresh=True) for _ in range(concurrency - 1)]

    def booking(task):
        email, url, people = task
        return lambda _client: as_(email).request("POST", url, {"employee_ids": people})

    if len(plan.bookings) < total or len(plan.cancellations) < total or len(plan.marks) < 2:
        raise SystemExit(f"not enough rows to measure: {len(plan.bookings)} bookings, "
                         f"{len(plan.cancellations)} cancellations, {len(plan.marks)} marks for {total} requests")
    for email, _, _ in plan.bookings[:total]:
        as_(email)  # signed in before the clock starts
    statuses = ["absent", "attended"]
    scenarios = [
        ("catalogue search with filters", "hr", "interactive", lambda: clients(plan.hr),
         [get(plan.urls["catalogue"])] * total),
        ("catalogue search, htmx", "hr", "interactive", lambda: clients(plan.hr),
         [get(plan.urls["catalogue"], htmx=True)] * total),
        ("session page", "provider", "interactive", lambda: clients(plan.provider), [get(plan.urls["session"])] * total),
        ("HR start page with plan progress", "hr", "interactive", lambda: clients(plan.hr),
         [get(plan.urls["start"])] * total),
        # One client per company: booking is HR's, for its own people.
        ("book 10 employees", "hr", "interactive", lambda: [Client(port)] * concurrency,
         [booking(task) for task in plan.bookings[:total]]),
        ("cancel, waitlist promoted", "pm", "interactive", lambda: clients(plan.pm),
         [post(url, {}) for url in plan.cancellations[:total]]),
        ("attendance toggle (htmx)", "provider", "interactive", lambda: clients(plan.provider),
         [post(plan.marks[i % len(plan.marks)], {"status": statuses[(i // len(plan.marks)) % 2]}, htmx=True)
          for i in range(total)]),
        ("pm report, all breakdowns", "pm", "report", lambda: clients(plan.pm), [get(plan.urls["report"])] * total),
    ]

    def floor() -> Result:
        return measure("floor (base layout, one query)", "hr", "floor", clients(plan.hr),
                       [get(plan.urls["floor"])] * total, warmup)

    def floor_as(email: str):
        return lambda _client: as_(email).request("GET", plan.urls["floor"])

    # The floor is measured alone first, for the table. Each page or action is then measured in rounds with
    # the floor beside it (measure): each ratio compares two figures taken under the same state of the
    # machine, whose speed here drifts within seconds, and under the same contention.
    results = [floor()]
    for name, role, kind, who, calls in scenarios:
        if kind == "interactive":
            floors = ([floor_as(email) for email, _, _ in plan.bookings[:total]] if name == "book 10 employees"
                      else [get(plan.urls["floor"])] * total)
            result = measure(name, role, kind, who(), calls, warmup, floors)
        else:
            result = measure(name, role, kind, who(), calls, warmup)
            result.floor_p95_ms = results[0].p95_ms
            result.floor_ratio = round(result.p95_ms / results[0].p95_ms, 1) if results[0].p95_ms else None
        if name == "book 10 employees":
            result.extra = {"groups booking seats": plan.seated, "joining a waiting list": total - plan.seated}
        results.append(result)
    workbook = measure("participants XLSX over HTTP", "pm", "workbook", clients(plan.pm)[:1],
                       [get(plan.urls["workbook"])] * 3, 1)
    workbook.floor_p95_ms = results[0].p95_ms
    workbook.floor_ratio = round(workbook.p95_ms / results[0].p95_ms, 1) if results[0].p95_ms else None
    return results + [workbook]


# Outside HTTP: the workbook's memory, and the rescheduling job

WORKBOOK = """
import json, resource, sys, time
from portal import create_app
from portal.services import report_export, reports
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1]})
with app.test_request_context():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    people = 0
    def counted(rows):
        global people
        for row in rows:
            people += 1
            yield row
    file = report_export.participants_xlsx(counted(reports.participants(reports.ReportFilters())), personal=True)
    size = file.seek(0, 2)
    file.close()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "participants": people, "bytes": size,
                  "peak_rss_mb": peak / 1024, "grew_mb": (peak - before) / 1024}))
"""

RESCHEDULE = """
import json, sys, time
from sqlalchemy import delete, event, func, select, update
from portal import create_app
from portal.extensions import db
from portal.jobs.rescheduling import reschedule_postponed
from portal.models import JobRun, ProposedMeeting, RescheduleProposal, Restriction, Session, SessionStatus
from portal.services.placement import today
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1]})
with app.app_context():
    restriction = db.session.scalars(select(Restriction).join(Session, Session.postponed_by_id == Restriction.id)
                                     .group_by(Restriction.id).order_by(func.count().desc()).limit(1)).one()
    postponed = db.session.scalar(select(func.count(Session.id)).where(Session.postponed_by_id == restriction.id,
                                                                        Session.status == SessionStatus.POSTPONED))
    # Undo an earlier run: no proposals, the restriction in force again; then lift it today.
    proposals = select(RescheduleProposal.id).where(RescheduleProposal.restriction_id == restriction.id)
    db.session.execute(delete(ProposedMeeting).where(ProposedMeeting.proposal_id.in_(proposals)))
    db.session.execute(delete(RescheduleProposal).where(RescheduleProposal.restriction_id == restriction.id))
    restriction.lifted_on = today()
    db.session.commit()
    queries = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: queries.append(1))
    started = time.perf_counter()
    reschedule_postponed(app)
    seconds = time.perf_counter() - started
    run = db.session.scalars(select(JobRun).where(JobRun.job == "reschedule_postponed").order_by(JobRun.id.desc())).first()
    found = {"seconds": seconds, "postponed": postponed, "counts": dict(run.counts), "outcome": str(run.outcome),
             "queries": len(queries)}
    restriction = db.session.get(Restriction, restriction.id)
    restriction.lifted_on = None
    db.session.commit()
print(json.dumps(found))
"""


def in_a_process(code: str, database_url: str) -> dict:
    answer = subprocess.run([sys.executable, "-c", code, database_url], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PORTAL_BENCH": ""}, check=False)
    if answer.returncode != 0:
        raise SystemExit(answer.stderr[-3000:])
    return json.loads(answer.stdout.strip().splitlines()[-1])


# Reporting

def markdown(label: str, results: list[Result], meta: dict) -> str:
    lines = [
        f"### {label}",
        "",
        f"{meta['date']} · {meta['machine']} · {meta['database']} · "
        + ", ".join(f"{n:,} {name}" for name, n in meta["counts"].items()),
        "",
        "| scenario | role | p50 ms | p95 ms | floor p95 ms | × floor | req/s | queries | target | met |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        ratio = f"{r.floor_ratio}" if r.floor_ratio is not None else ""
        queries = "" if r.queries is None else (
            str(r.queries) if r.queries_range[0] == r.queries_range[1] else f"{r.queries} ({r.queries_range[0]}–{r.queries_range[1]})")
        met = {True: "yes", False: "**no**", None: ""}[r.met()]
        extra = "; ".join(f"{k} {v}" for k, v in r.extra.items())
        name = f"{r.name} ({extra})" if extra else r.name
        beside = f"{r.floor_p95_ms:g}" if r.floor_p95_ms is not None else ""
        lines.append(f"| {name} | {r.role} | {r.p50_ms:g} | {r.p95_ms:g} | {beside} | {ratio} | {r.per_second:g} | {queries} "
                     f"| {r.target()} | {met} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a database built by `flask portal generate`")
    parser.add_argument("--label", required=True, help="names the result files, e.g. postgresql-scale-1")
    parser.add_argument("--repeat", type=int, default=200, help="measured requests per scenario (a p95 from 10 of 200, not 3 of 60)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=2, help="clients at once")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--skip-reschedule", action="store_true")
    args = parser.parse_args()

    plan = plan_requests(args.database_url, args.repeat + args.warmup)
    with served(args.database_url, args.port, args.workers):
        results = http_scenarios(plan, args.port, args.repeat, args.warmup, args.concurrency)

    alone = in_a_process(WORKBOOK, args.database_url)
    results.append(Result("participants XLSX built alone", "pm", "workbook", 1, round(alone["seconds"] * 1000),
                          round(alone["seconds"] * 1000), 0, None, None, {},
                          extra={"participants": f"{alone['participants']:,}",
                                 "peak memory": f"{alone['peak_rss_mb']:.0f} MB",
                                 "of it while building": f"{alone['grew_mb']:.0f} MB"}))
    if not args.skip_reschedule:
        job = in_a_process(RESCHEDULE, args.database_url)
        results.append(Result("rescheduling job", "scheduler", "job", 1, round(job["seconds"] * 1000),
                              round(job["seconds"] * 1000), 0, job["queries"], (job["queries"], job["queries"]), {},
                              extra={"postponed sessions": job["postponed"], **job["counts"]}))

    meta = {
        "label": args.label, "date": date.today().isoformat(),
        "machine": f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "database": args.database_url.split("://", 1)[0].split("+", 1)[0], "counts": plan.counts,
        "repeat": args.repeat, "warmup": args.warmup, "concurrency": args.concurrency, "workers": args.workers,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.label}.json").write_text(json.dumps({"meta": meta, "results": [asdict(r) for r in results]},
                                                       indent=2, ensure_ascii=False))
    table = markdown(args.label, results, meta)
    (out / f"{args.label}.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
