"""Calendar files: a session's .ics, and each company's private feed of its bookings and who may manage it."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from portal.extensions import db
from portal.models import BookingStatus, Company, Role, SessionStatus
from portal.services import DomainError
from portal.services.calendar import (
    PRODID, company_by_calendar_token, renew_calendar_token, revoke_calendar_token,
)
from tests.conftest import count_queries, csrf_token, sign_in

NOW = datetime.now(timezone.utc).replace(microsecond=0)


# Helpers

def _events(body: bytes) -> list:
    return Calendar.from_ical(body).walk("VEVENT")


def _by_uid(body: bytes) -> dict:
    return {str(event["UID"]): event for event in _events(body)}


def _signed_in(client, make, role: Role = Role.HR, **fields):
    user = make.user(role, **fields)
    sign_in(client, user.email)
    return user


def _post(client, path: str):
    return client.post(path, data={"csrf_token": csrf_token(client, "/")})


def _feed_path(company: Company) -> str:
    db.session.refresh(company)
    return f"/calendar/{company.calendar_token}.ics"


def _employee(make, company, first: str, last: str):
    return make.employee(company, first_name=first, last_name=last)


# A session's calendar file

def test_a_session_downloads_as_one_event_per_meeting(client, make):
    course = make.course(title="Hydraulik och pneumatik", provider=make.provider(name="Yrkeshögskolan Bergslagen"))
    start = datetime(2030, 3, 4, 7, 0, tzinfo=timezone.utc)
    session = make.session(course, starts_at=start, meetings=3, ical_sequence=2)
    _signed_in(client, make)
    response = client.get(f"/catalogue/sessions/{session.id}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == f"attachment; filename=Hydraulik_och_pneumatik-{session.id}.ics"
    calendar = Calendar.from_ical(response.data)
    assert (str(calendar["PRODID"]), str(calendar["VERSION"]), str(calendar["METHOD"])) == (PRODID, "2.0", "PUBLISH")
    events = calendar.walk("VEVENT")
    assert [str(event["UID"]) for event in events] == [f"meeting-{meeting.id}@portal" for meeting in session.meetings]
    first = events[0]
    assert first["DTSTART"].dt == start and first["DTEND"].dt == start + timedelta(hours=6)
    assert first["DTSTART"].dt.utcoffset() == timedelta(0)
    assert events[2]["DTSTART"].dt == start + timedelta(days=2)
    assert all(int(event["SEQUENCE"]) == 2 for event in events)
    assert str(first["SUMMARY"]) == "Hydraulik och pneumatik"
    assert str(first["LOCATION"]) == "Sal 1, Västerås"
    assert str(first["STATUS"]) == "CONFIRMED"
    assert str(first["URL"]) == f"http://localhost/catalogue/courses/{course.id}"
    assert "Yrkeshögskolan Bergslagen" in str(first["DESCRIPTION"])
    assert first["DTSTAMP"].dt.tzinfo is not None


def test_an_online_meeting_has_its_link_as_location_and_in_the_description(client, make):
    session = make.session()
    meeting = session.meetings[0]
    meeting.municipality, meeting.venue, meeting.online_url = None, "", "https://meet.example.se/abc"
    db.session.commit()
    _signed_in(client, make)
    [event] = _events(client.get(f"/catalogue/sessions/{session.id}.ics").data)
    assert str(event["LOCATION"]) == "https://meet.example.se/abc"
    assert "https://meet.example.se/abc" in str(event["DESCRIPTION"])


@pytest.mark.parametrize(("status", "expected"), [
    (SessionStatus.CANCELLED, "CANCELLED"),
    (SessionStatus.POSTPONED, "TENTATIVE"),
    (SessionStatus.PLANNED, "TENTATIVE"),
])
def test_event_status_follows_the_session(client, make, status, expected):
    session = make.session(status=status, meetings=2)
    _signed_in(client, make)
    events = _events(client.get(f"/catalogue/sessions/{session.id}.ics").data)
    assert [str(event["STATUS"]) for event in events] == [expected, expected]


def test_moved_meetings_keep_their_uid_and_raise_the_sequence(client, make):
    session = make.session(meetings=2)
    _signed_in(client, make)
    before = _by_uid(client.get(f"/catalogue/sessions/{session.id}.ics").data)
    for meeting in session.meetings:
        meeting.starts_at += timedelta(days=7)
        meeting.ends_at += timedelta(days=7)
    session.ical_sequence += 1
    db.session.commit()
    after = _by_uid(client.get(f"/catalogue/sessions/{session.id}.ics").data)
    assert after.keys() == before.keys()
    for uid, event in after.items():
        assert event["DTSTART"].dt == before[uid]["DTSTART"].dt + timedelta(days=7)
        assert int(event["SEQUENCE"]) == int(before[uid]["SEQUENCE"]) + 1


def test_a_session_file_needs_a_signed_in_user_and_a_real_session(client, make):
    session = make.session()
    response = client.get(f"/catalogue/sessions/{session.id}.ics")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    _signed_in(client, make, Role.PM)
    for unknown in ("999999", "99999999999999999999", "x"):
        assert client.get(f"/catalogue/sessions/{unknown}.ics").status_code == 404


def test_a_session_file_takes_a_fixed_number_of_queries(client, make):
    _signed_in(client, make)
    small, large = make.session(meetings=1), make.session(meetings=8)
    counts = []
    for session in (small, large):
        with count_queries() as queries:
            assert client.get(f"/catalogue/sessions/{session.id}.ics").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 6


# The feed page and its address

def test_hr_creates_renews_and_revokes_the_feed_address(client, make):
    hr = _signed_in(client, make)
    page = client.get("/calendar").get_data(as_text=True)
    assert 'id="feed-off"' in page and 'action="/calendar/token"' in page

    assert _post(client, "/calendar/token").headers["Location"] == "/calendar"
    first = _feed_path(hr.company)
    page = client.get("/calendar").get_data(as_text=True)
    assert f'value="http://localhost{first}"' in page and 'action="/calendar/token/revoke"' in page
    assert client.get(first).status_code == 200

    _post(client, "/calendar/token")
    second = _feed_path(hr.company)
    assert second != first
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200

    _post(client, "/calendar/token/revoke")
    db.session.refresh(hr.company)
    assert hr.company.calendar_token is None
    assert client.get(second).status_code == 404
    assert 'id="feed-off"' in client.get("/calendar").get_data(as_text=True)


def test_the_feed_page_says_what_happened_in_english_too(client, make):
    _signed_in(client, make)
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    page = client.post("/calendar/token", data={"csrf_token": csrf_token(client, "/")}, follow_redirects=True)
    assert "The feed has a new address." in page.get_data(as_text=True)


def test_managing_the_feed_needs_the_csrf_token(client, make):
    hr = _signed_in(client, make)
    assert client.post("/calendar/token").status_code == 400
    db.session.refresh(hr.company)
    assert hr.company.calendar_token is None


@pytest.mark.parametrize("role", [Role.PM, Role.PROVIDER])
def test_only_hr_manages_a_feed(client, make, role):
    _signed_in(client, make, role)
    assert client.get("/calendar").status_code == 403
    assert _post(client, "/calendar/token").status_code == 403
    assert _post(client, "/calendar/token/revoke").status_code == 403


def test_the_feed_page_needs_a_signed_in_user(client):
    response = client.get("/calendar")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_hr_manages_only_its_own_companys_feed(client, make):
    own, other = make.company(), make.company()
    other.calendar_token = "a" * 43
    db.session.commit()
    _signed_in(client, make, company=own)
    _post(client, "/calendar/token")
    _post(client, "/calendar/token/revoke")
    db.session.refresh(other)
    assert other.calendar_token == "a" * 43


def test_renewing_gives_an_unguessable_token(make):
    hr = make.user(Role.HR)
    tokens = {renew_calendar_token(hr).calendar_token for _ in range(5)}
    assert len(tokens) == 5 and all(len(token) == 43 for token in tokens)
    db.session.commit()
    assert company_by_calendar_token(hr.company.calendar_token) == hr.company


def test_only_hr_of_a_company_may_renew_or_revoke(make):
    for role in (Role.PM, Role.PROVIDER):
        with pytest.raises(DomainError):
            renew_calendar_token(make.user(role))
        with pytest.raises(DomainError):
            revoke_calendar_token(make.user(role))


def test_revoking_clears_the_token(make):
    hr = make.user(Role.HR)
    token = renew_calendar_token(hr).calendar_token
    revoke_calendar_token(hr)
    db.session.commit()
    assert hr.company.calendar_token is None and company_by_calendar_token(token) is None


@pytest.mark.parametrize("token", ["None", "short", "%00" * 43, "x" * 200, "a" * 42 + "%2F"])
def test_an_unknown_or_malformed_feed_token_is_not_found(client, make, token):
    company = make.company()
    company.calendar_token = "b" * 43
    db.session.commit()
    assert client.get(f"/calendar/{token}.ics").status_code == 404


# The feed's contents

@pytest.fixture
def two_companies_on_one_session(make):
    """Companies A and B share a session; A also has another session, a cancelled one and an old one."""
    a, b = make.company(name="A-verken AB"), make.company(name="B-gjuteriet AB")
    a.calendar_token, b.calendar_token = "A" * 43, "B" * 43
    db.session.commit()
    shared = make.session(make.course(title="Delad nischkurs"), meetings=2)
    make.booking(shared, _employee(make, a, "Anna", "Andersson"))
    make.booking(shared, _employee(make, a, "Erik", "Ek"))
    make.booking(shared, _employee(make, a, "Wera", "Väntande"), BookingStatus.WAITLISTED)
    make.booking(shared, _employee(make, a, "Ceci", "Avbokad"), BookingStatus.CANCELLED)
    make.booking(shared, _employee(make, b, "Bertil", "Bengtsson"))
    only_a = make.session(make.course(title="Bara A"), starts_at=NOW + timedelta(days=30))
    make.booking(only_a, _employee(make, a, "Åsa", "Öberg"))
    cancelled = make.session(make.course(title="Inställd kurs"), status=SessionStatus.CANCELLED)
    make.booking(cancelled, _employee(make, a, "Ingen", "Alls"), BookingStatus.CANCELLED)
    recent = make.session(make.course(title="Nyss"), starts_at=NOW - timedelta(days=50), status=SessionStatus.COMPLETED)
    make.booking(recent, _employee(make, a, "Nils", "Nyss"))
    old = make.session(make.course(title="Gammal kurs"), starts_at=NOW - timedelta(days=70),
                       status=SessionStatus.COMPLETED)
    make.booking(old, _employee(make, a, "Olle", "Gammal"))
    make.session(make.course(title="Ingen bokning"))
    return a, b, shared, only_a


def test_the_feed_has_every_booked_meeting_with_the_companys_own_names(client, two_companies_on_one_session):
    a, _, shared, only_a = two_companies_on_one_session
    response = client.get(f"/calendar/{'A' * 43}.ics")  # no sign-in: calendar apps cannot
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["X-WR-CALNAME"]).startswith("A-verken AB")
    events = calendar.walk("VEVENT")
    assert sorted(str(event["SUMMARY"]) for event in events) == ["Bara A", "Delad nischkurs", "Delad nischkurs", "Nyss"]
    uids = {str(event["UID"]) for event in events}
    assert {f"meeting-{meeting.id}@portal" for meeting in shared.meetings + only_a.meetings} <= uids
    shared_description = str(next(e for e in events if str(e["SUMMARY"]) == "Delad nischkurs")["DESCRIPTION"])
    assert "Anna Andersson" in shared_description and "Erik Ek" in shared_description
    assert "Bertil" not in shared_description  # another company's employee
    assert "Wera" not in shared_description and "Ceci" not in shared_description  # not booked
    assert "Åsa Öberg" in str(next(e for e in events if str(e["SUMMARY"]) == "Bara A")["DESCRIPTION"])


def test_company_bs_feed_never_names_company_as_employees(client, two_companies_on_one_session):
    body = client.get(f"/calendar/{'B' * 43}.ics").get_data(as_text=True)
    events = _events(body.encode())
    assert [str(event["SUMMARY"]) for event in events] == ["Delad nischkurs", "Delad nischkurs"]
    assert "Bertil Bengtsson" in body
    assert not re.search("Anna|Erik|Åsa|Nils|Olle|Wera|Ceci", body)


def test_the_feed_takes_a_fixed_number_of_queries(client, make):
    company = make.company()
    company.calendar_token = "C" * 43
    db.session.commit()

    def book(count: int) -> int:
        for _ in range(count):
            session = make.session(meetings=2)
            make.booking(session, make.employee(company))
        with count_queries() as queries:
            assert client.get(f"/calendar/{'C' * 43}.ics").status_code == 200
        return len(queries)

    assert book(1) == book(10) <= 4
