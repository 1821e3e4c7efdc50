"""The catalogue: which sessions it lists, every filter and the search, the page with and without htmx,
bad input, course pages, and a fixed number of queries whatever the catalogue's size."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from portal.extensions import db
from portal.models import BookingStatus, CourseFormat, Role, SessionStatus
from portal.services.search import CatalogueFilters, course_sessions, search_sessions
from tests.conftest import count_queries, csrf_token, sign_in

NOW = datetime.now(timezone.utc).replace(microsecond=0)


# Helpers

def _in(make, session, *municipalities: str):
    """Hold the session's meetings in these municipalities, one each (the last one repeats)."""
    for index, meeting in enumerate(session.meetings):
        meeting.municipality = make.municipality(municipalities[min(index, len(municipalities) - 1)])
    db.session.commit()
    return session


def _online(session):
    for meeting in session.meetings:
        meeting.municipality, meeting.venue, meeting.online_url = None, "", "https://meet.example.se/x"
    db.session.commit()
    return session


def _found(filters: CatalogueFilters = CatalogueFilters(), page: int = 1) -> list[int]:
    return [row.session_id for row in search_sessions(filters, page).items]


def _english(client) -> None:
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})


def _signed_in(client, make, role: Role = Role.HR, **fields):
    user = make.user(role, **fields)
    sign_in(client, user.email)
    return user


def _result_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr id="session-(\d+)" class="catalogue-row">', html)]


# Which sessions are listed

def test_lists_upcoming_open_planned_and_postponed_sessions(make):
    shown = [make.session(status=status) for status in
             (SessionStatus.OPEN, SessionStatus.PLANNED, SessionStatus.POSTPONED)]
    make.session(status=SessionStatus.CANCELLED)
    make.session(status=SessionStatus.COMPLETED)
    make.session(starts_at=NOW - timedelta(days=20))  # open, but over
    assert sorted(_found()) == sorted(session.id for session in shown)


def test_a_session_under_way_is_listed_until_its_last_meeting_ends(make):
    running = make.session(starts_at=NOW - timedelta(days=2), meetings=4)
    assert _found() == [running.id]


def test_a_postponed_session_waits_in_the_list_after_its_old_dates_have_passed(make):
    waiting = make.session(starts_at=NOW - timedelta(days=30), status=SessionStatus.POSTPONED)
    [row] = search_sessions(CatalogueFilters()).items
    assert (row.session_id, row.status, row.date_known) == (waiting.id, SessionStatus.POSTPONED, False)


def test_sessions_of_retired_courses_leave_the_catalogue(make):
    make.session(make.course(retired_at=NOW - timedelta(days=1)))
    assert _found() == []


def test_sessions_come_by_first_meeting_then_id(make):
    later = make.session(starts_at=NOW + timedelta(days=30))
    first = make.session(starts_at=NOW + timedelta(days=10))
    tie_a = make.session(starts_at=NOW + timedelta(days=20))
    tie_b = make.session(starts_at=NOW + timedelta(days=20))
    assert _found() == [first.id, tie_a.id, tie_b.id, later.id]


def test_a_row_carries_what_the_list_shows(make):
    provider = make.provider(name="Mälardalens universitet")
    course = make.course(provider, title="Robotprogrammering", certified=True, shared_niche=True,
                         competence_areas=[make.competence_area("robotics"), make.competence_area("automation")])
    session = _in(make, make.session(course, meetings=3, capacity=10), "Västerås", "Köping", "Västerås")
    for status in (BookingStatus.BOOKED, BookingStatus.BOOKED, BookingStatus.WAITLISTED, BookingStatus.CANCELLED):
        make.booking(session, make.employee(), status)
    [row] = search_sessions(CatalogueFilters()).items
    assert (row.course_id, row.course_title) == (course.id, "Robotprogrammering")
    assert row.provider == "Mälardalens universitet"
    assert row.first_meeting == session.meetings[0].starts_at
    assert (row.booked, row.capacity, row.seats_left) == (2, 10, 8)
    assert row.certified and row.shared_niche and row.format == CourseFormat.IN_PERSON
    assert [area.code for area in row.areas] == ["automation", "robotics"]  # by Swedish name
    assert row.places == ("Köping", "Västerås")


def test_a_digital_session_has_no_places(make):
    _online(make.session(make.course(format=CourseFormat.DIGITAL)))
    assert search_sessions(CatalogueFilters()).items[0].places == ()


# Filters

def test_filters_by_competence_area(make):
    areas = [make.competence_area("welding"), make.competence_area("safety")]
    welding = make.session(make.course(competence_areas=areas))
    make.session(make.course(competence_areas=[make.competence_area("cnc")]))
    assert _found(CatalogueFilters(area="safety")) == [welding.id]


def test_filters_by_format(make):
    make.session(make.course(format=CourseFormat.IN_PERSON))
    digital = make.session(make.course(format=CourseFormat.DIGITAL))
    hybrid = make.session(make.course(format=CourseFormat.HYBRID))
    assert _found(CatalogueFilters(format=CourseFormat.DIGITAL)) == [digital.id]
    assert _found(CatalogueFilters(format=CourseFormat.HYBRID)) == [hybrid.id]


def test_filters_by_a_meeting_in_the_municipality_or_region(make):
    touring = _in(make, make.session(meetings=2), "Västerås", "Karlstad")
    orebro = _in(make, make.session(), "Örebro")
    _online(make.session())
    assert _found(CatalogueFilters(municipality="1780")) == [touring.id]  # Karlstad
    assert _found(CatalogueFilters(municipality="1880")) == [orebro.id]
    assert _found(CatalogueFilters(region="17")) == [touring.id]  # Värmland
    assert _found(CatalogueFilters(region="19")) == [touring.id]  # Västmanland
    assert _found(CatalogueFilters(region="18", municipality="1780")) == []


def test_date_range_finds_a_session_with_any_meeting_on_those_days(make):
    start = datetime(2030, 3, 4, 7, 0, tzinfo=timezone.utc)  # 08:00 in Sweden
    three_days = make.session(starts_at=start, meetings=3)  # 4, 5 and 6 March
    make.session(starts_at=start + timedelta(days=10))
    assert _found(CatalogueFilters(date_from=date(2030, 3, 6), date_to=date(2030, 3, 6))) == [three_days.id]
    assert _found(CatalogueFilters(date_from=date(2030, 3, 7), date_to=date(2030, 3, 13))) == []
    assert _found(CatalogueFilters(date_to=date(2030, 3, 4))) == [three_days.id]
    assert len(_found(CatalogueFilters(date_from=date(2030, 3, 5)))) == 2


def test_date_range_counts_days_in_swedish_time(make):
    # 23:30 UTC on 9 March is 00:30 on 10 March in Sweden.
    late = make.session(starts_at=datetime(2030, 3, 9, 23, 30, tzinfo=timezone.utc))
    late.meetings[0].ends_at = late.meetings[0].starts_at + timedelta(hours=1)
    db.session.commit()
    assert _found(CatalogueFilters(date_from=date(2030, 3, 10), date_to=date(2030, 3, 10))) == [late.id]
    assert _found(CatalogueFilters(date_to=date(2030, 3, 9))) == []


def test_filters_certified_courses(make):
    certified = make.session(make.course(certified=True))
    make.session(make.course(certified=False))
    assert _found(CatalogueFilters(certified=True)) == [certified.id]


def test_seats_left_counts_booked_seats_only(make):
    full = make.session(capacity=2)
    make.booking(full, make.employee())
    make.booking(full, make.employee())
    make.booking(full, make.employee(), BookingStatus.WAITLISTED)
    one_left = make.session(capacity=2)
    make.booking(one_left, make.employee())
    make.booking(one_left, make.employee(), BookingStatus.CANCELLED)
    empty = make.session(capacity=1)
    assert sorted(_found(CatalogueFilters(seats_left=True))) == sorted([one_left.id, empty.id])
    assert len(_found()) == 3


def test_filters_combine(make):
    area = make.competence_area("welding")
    wanted = _in(make, make.session(make.course(competence_areas=[area], certified=True)), "Karlstad")
    _in(make, make.session(make.course(competence_areas=[area], certified=False)), "Karlstad")
    _in(make, make.session(make.course(competence_areas=[area], certified=True)), "Västerås")
    assert _found(CatalogueFilters(area="welding", certified=True, region="17")) == [wanted.id]


# Search

@pytest.mark.parametrize("typed", ["mätteknik", "MÄTTEKNIK", "Mät", "ÄTT", "teknik och kval", "ÅTERVINNING",
                                   "matteknik", "kvalitetssakring", "atervinning"])  # typed without the dots
def test_search_matches_title_and_description_in_any_case_with_swedish_letters(make, typed):
    make.session(make.course(title="Mätteknik och kvalitetssäkring", description="Mätosäkerhet och återvinning"))
    make.session(make.course(title="Svetsning", description="MIG/MAG"))
    assert len(_found(CatalogueFilters(text=typed))) == 1


def test_search_needs_every_word_somewhere(make):
    wanted = make.session(make.course(title="CNC-fräsning fortsättning", description="Femaxlig fräsning"))
    make.session(make.course(title="CNC-programmering grund", description="G-kod"))
    assert _found(CatalogueFilters(text="  cnc   femaxlig ")) == [wanted.id]
    assert len(_found(CatalogueFilters(text="cnc"))) == 2


def test_search_takes_percent_and_underscore_literally(make):
    literal = make.session(make.course(title="Kassation 50% lägre", description="snake_case"))
    make.session(make.course(title="Kassation 500 lägre", description="snakeXcase"))
    assert _found(CatalogueFilters(text="50%")) == [literal.id]
    assert _found(CatalogueFilters(text="snake_case")) == [literal.id]


# Pagination

def test_twenty_sessions_a_page_and_a_page_past_the_end_is_the_last(make):
    course = make.course()
    sessions = [make.session(course, starts_at=NOW + timedelta(days=5 + n)) for n in range(23)]
    first = search_sessions(CatalogueFilters(), 1)
    assert (first.total, first.pages, len(first.items)) == (23, 2, 20)
    assert [row.session_id for row in first.items] == [s.id for s in sessions[:20]]
    assert [row.session_id for row in search_sessions(CatalogueFilters(), 2).items] == [s.id for s in sessions[20:]]
    assert search_sessions(CatalogueFilters(), 99).page == 2
    assert search_sessions(CatalogueFilters(), -4).page == 1



def test_a_page_and_its_total_are_read_in_one_statement(make):
    course = make.course()
    for n in range(23):
        make.session(course, starts_at=NOW + timedelta(days=5 + n))
    with count_queries() as queries:
        second = search_sessions(CatalogueFilters(), 2)
    assert (second.total, second.page, len(second.items)) == (23, 2, 3)
    assert len(queries) == 3  # the page with its total, then the listed rows' areas and places
    with count_queries() as queries:
        past = search_sessions(CatalogueFilters(), 7)
    assert (past.total, past.page, len(past.items)) == (23, 2, 3)
    assert len(queries) == 5  # an empty page asks for the total, then reads the last page
    assert search_sessions(CatalogueFilters(text="nothing like it"), 1).total == 0

# The page

def test_the_catalogue_needs_a_signed_in_user(client):
    for path in ("/catalogue/", "/catalogue/courses/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", list(Role))
def test_every_role_searches_the_catalogue(client, make, role):
    session = make.session(make.course(title="Lean i praktiken"))
    _signed_in(client, make, role)
    response = client.get("/catalogue/?q=lean")
    assert response.status_code == 200
    assert _result_ids(response.get_data(as_text=True)) == [session.id]


def test_the_full_page_has_the_layout_form_and_results(client, make):
    session = make.session(make.course(title="Truckkörning A och B"))
    _signed_in(client, make)
    page = client.get("/catalogue/").get_data(as_text=True)
    assert page.startswith("<!doctype html>") and "<html" in page
    assert '<form method="get" action="/catalogue/"' in page and 'hx-get="/catalogue/"' in page
    assert 'hx-target="#results"' in page and 'hx-push-url="true"' in page
    assert 'hx-trigger="submit, input changed delay:300ms from:input[type=search], change"' in page
    assert 'type="search"' in page and '<label for="q">' in page
    assert 'aria-live="polite"' in page and '<div id="results">' in page
    assert f'href="/catalogue/courses/{session.course_id}">Truckkörning A och B</a>' in page
    assert _result_ids(page) == [session.id]


def test_an_htmx_request_gets_only_the_results_fragment(client, make):
    wanted = make.session(make.course(title="Heta arbeten"))
    make.session(make.course(title="Lean i praktiken"))
    _signed_in(client, make)
    response = client.get("/catalogue/?q=heta", headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in fragment and "<form" not in fragment and 'class="site-header"' not in fragment
    assert _result_ids(fragment) == [wanted.id]
    assert '<p id="result-count"' in fragment and 'hx-swap-oob="innerHTML"' in fragment
    assert "HX-Request" in response.headers["Vary"]


def test_a_history_restore_request_gets_the_full_page(client, make):
    _signed_in(client, make)
    response = client.get("/catalogue/?q=x", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_the_page_keeps_the_filters_in_the_form_and_the_page_links(client, make):
    course = make.course(title="Svetsning", competence_areas=[make.competence_area("welding")])
    for n in range(21):
        _in(make, make.session(course, starts_at=NOW + timedelta(days=3 + n)), "Karlstad")
    _signed_in(client, make)
    page = client.get("/catalogue/?q=svets&area=welding&municipality=1780&seats_left=y").get_data(as_text=True)
    assert 'value="svets"' in page
    assert '<option selected value="welding">' in page and '<option selected value="1780">' in page
    assert 'id="seats_left" name="seats_left" type="checkbox" value="y"' in page and "checked" in page
    assert len(_result_ids(page)) == 20
    next_link = re.search(r'<a href="([^"]+)" rel="next">', page).group(1)
    assert all(part in next_link for part in ("q=svets", "area=welding", "municipality=1780", "page=2"))
    second = client.get(next_link.replace("&amp;", "&"), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert len(_result_ids(second)) == 1


@pytest.mark.parametrize("query", [
    "area=nope", "format=paper", "region=99", "municipality=0000", "date_from=2026-13-45", "date_to=yesterday",
    "date_from=0001-01-01", "date_to=9999-12-31", "page=abc", "page=-3", "page=99999999999999999999",
    "q=" + "x" * 500, "q=%00", "q=%25",
])
def test_bad_filter_values_never_fail_the_page(client, make, query):
    session = make.session()
    _signed_in(client, make)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get("/catalogue/?" + query, headers=headers)
        assert response.status_code == 200
        assert "q=" in query or _result_ids(response.get_data(as_text=True)) == [session.id]


@pytest.mark.parametrize(("query", "field"), [
    ("area=nope", "area"), ("format=paper", "format"), ("region=99", "region"), ("municipality=0000", "municipality"),
    ("date_from=2026-13-45", "date_from"), ("date_to=9999-12-31", "date_to"), ("q=" + "x" * 500, "q"),
])
def test_a_bad_filter_value_is_shown_on_its_field_and_ignored(client, make, query, field):
    session = make.session()
    _signed_in(client, make)
    page = client.get("/catalogue/?" + query).get_data(as_text=True)
    assert f'<p class="field-error" id="{field}-error">' in page
    assert f'aria-describedby="{field}-error"' in page and 'aria-invalid="true"' in page
    assert f'<a href="#{field}">' in page  # and in the summary above the results
    assert _result_ids(page) == [session.id]


def test_an_end_date_before_the_start_date_is_shown_and_ignored(client, make):
    start = datetime(2030, 5, 6, 7, tzinfo=timezone.utc)
    in_may = make.session(starts_at=start)
    make.session(starts_at=start - timedelta(days=30))
    _signed_in(client, make)
    _english(client)
    fragment = client.get("/catalogue/?date_from=2030-05-01&date_to=2030-04-01",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="filter-problems"' in fragment and '<a href="#date_to">To</a>' in fragment
    assert "The end date is before the start date." in fragment and "Some filters were left out." in fragment
    assert _result_ids(fragment) == [in_may.id]  # the start date still applies


def test_the_page_is_in_swedish_by_default_and_in_english_on_request(client, make):
    make.session()
    _signed_in(client, make)
    assert '<html lang="sv">' in client.get("/catalogue/").get_data(as_text=True)
    _english(client)
    page = client.get("/catalogue/").get_data(as_text=True)
    assert "<h1>Course catalogue</h1>" in page and "Sessions found: 1" in page


def test_the_navigation_links_every_role_to_the_catalogue(client, make):
    _signed_in(client, make, Role.PM)
    assert 'href="/catalogue/"' in client.get("/").get_data(as_text=True)


# Bounded queries

def _catalogue(make, size: int) -> None:
    provider = make.provider()
    areas = [make.competence_area("cnc"), make.competence_area("welding")]
    for n in range(size):
        course = make.course(provider, competence_areas=areas[: 1 + n % 2], certified=bool(n % 2))
        session = _in(make, make.session(course, meetings=1 + n % 3), "Västerås", "Karlstad")
        make.booking(session, make.employee())


def _queries(client, path: str, headers=None) -> int:
    with count_queries() as queries:
        assert client.get(path, headers=headers or {}).status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", ["/catalogue/", "/catalogue/?q=cnc&region=19&seats_left=y&date_from=2020-01-01"])
def test_the_catalogue_issues_the_same_queries_for_a_small_and_a_large_catalogue(client, make, path):
    _signed_in(client, make)
    _catalogue(make, 2)
    small, small_fragment = _queries(client, path), _queries(client, path, {"HX-Request": "true"})
    _catalogue(make, 30)
    assert _queries(client, path) == small <= 12
    assert _queries(client, path, {"HX-Request": "true"}) == small_fragment


# The course page

def test_the_course_page_shows_the_course_and_its_upcoming_sessions(client, make):
    provider = make.provider(name="Teknikcollege Värmland")
    course = make.course(provider, title="MIG/MAG-svetsning", description="Svetsning av stål i alla lägen.",
                         nominal_minutes=32 * 60 + 30, certified=True,
                         competence_areas=[make.competence_area("welding")])
    upcoming = _in(make, make.session(course, meetings=2, capacity=10, min_participants=4), "Karlstad")
    make.booking(upcoming, make.employee())
    online = _online(make.session(course, starts_at=NOW + timedelta(days=40)))
    done = make.session(course, starts_at=NOW - timedelta(days=40), status=SessionStatus.COMPLETED)
    _signed_in(client, make, Role.PM)
    _english(client)
    page = client.get(f"/catalogue/courses/{course.id}").get_data(as_text=True)
    assert "<h1>MIG/MAG-svetsning</h1>" in page and "Svetsning av stål i alla lägen." in page
    assert "Teknikcollege Värmland" in page and "Welding" in page and "In person" in page
    assert '<dd id="nominal-hours">32.5</dd>' in page and "Introductory" in page and "Swedish" in page
    assert 'id="retired"' not in page
    assert f'id="session-{upcoming.id}"' in page and f'id="session-{online.id}"' in page
    assert f'id="session-{done.id}"' not in page
    assert page.index(f'id="session-{upcoming.id}"') < page.index(f'id="session-{online.id}"')
    assert '<dd class="seats-left">9 of 10</dd>' in page and "<dd>4</dd>" in page
    assert "Sal 1, Karlstad" in page and "Online" in page
    upcoming_part = page[page.index(f'id="session-{upcoming.id}"'):page.index(f'id="session-{online.id}"')]
    assert upcoming_part.count("<tr>") == 1 + 2  # the header and a row per meeting
    assert f'href="/catalogue/sessions/{upcoming.id}.ics"' in page


def test_a_retired_course_still_shows_and_says_so(client, make):
    course = make.course(retired_at=NOW - timedelta(days=3))
    _signed_in(client, make)
    response = client.get(f"/catalogue/courses/{course.id}")
    assert response.status_code == 200 and 'id="retired"' in response.get_data(as_text=True)


@pytest.mark.parametrize("course_id", ["999999", "2147483648", "99999999999999999999", "abc", "-1"])
def test_an_unknown_course_is_not_found(client, make, course_id):
    _signed_in(client, make)
    assert client.get(f"/catalogue/courses/{course_id}").status_code == 404


def _capped(make, cap: int, released_at, course=None):
    return make.session(course, capacity=12, company_seat_cap=cap, seat_cap_released_at=released_at)


def test_hr_sees_its_company_at_its_seat_cap(client, make):
    hr = make.user(Role.HR)
    capped = _capped(make, 2, NOW + timedelta(days=5))
    for _ in range(2):
        make.booking(capped, make.employee(hr.company))
    make.booking(capped, make.employee())  # another company's seat does not count
    sign_in(client, hr.email)
    _english(client)
    page = client.get(f"/catalogue/courses/{capped.course_id}").get_data(as_text=True)
    assert 'class="seat-cap at-cap notice"' in page
    assert "Your company has 2 of 2 seats; the cap is released on" in page


def test_hr_below_the_cap_sees_its_seats_and_a_never_released_cap(client, make):
    hr = make.user(Role.HR)
    capped = _capped(make, 3, None)
    make.booking(capped, make.employee(hr.company))
    make.booking(capped, make.employee(hr.company), BookingStatus.WAITLISTED)
    sign_in(client, hr.email)
    _english(client)
    page = client.get(f"/catalogue/courses/{capped.course_id}").get_data(as_text=True)
    assert 'class="seat-cap"' in page and "at-cap notice" not in page
    assert "Your company has 1 of 3 seats; the cap is never released." in page


def test_a_released_cap_is_not_shown(client, make):
    hr = make.user(Role.HR)
    released = _capped(make, 1, NOW - timedelta(hours=1))
    make.booking(released, make.employee(hr.company))
    sign_in(client, hr.email)
    assert 'class="seat-cap' not in client.get(f"/catalogue/courses/{released.course_id}").get_data(as_text=True)


def test_course_sessions_count_one_company_only(make):
    company = make.company()
    capped = _capped(make, 1, None)
    make.booking(capped, make.employee(company))
    make.booking(capped, make.employee())
    [line] = course_sessions(capped.course, company.id)
    assert (line.booked, line.company_booked, line.seats_left, line.at_company_cap) == (2, 1, 10, True)
    [anonymous] = course_sessions(capped.course)
    assert anonymous.company_booked is None and not anonymous.at_company_cap


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.PM])
def test_provider_and_pm_see_the_cap_but_no_company_seats(client, make, role):
    user = _signed_in(client, make, role)
    capped = _capped(make, 2, None, make.course(user.provider) if user.provider else None)
    _english(client)
    page = client.get(f"/catalogue/courses/{capped.course_id}").get_data(as_text=True)
    assert re.search(r"<dd>\s*At most 2\.\s*</dd>", page) and 'class="seat-cap' not in page


def test_a_provider_reads_another_providers_course_page(client, make):
    _signed_in(client, make, Role.PROVIDER)
    session = make.session()
    assert client.get(f"/catalogue/courses/{session.course_id}").status_code == 200
    assert client.get(f"/catalogue/sessions/{session.id}.ics").status_code == 200


def _course_with_sessions(make, company, size: int):
    course = make.course(competence_areas=[make.competence_area("cnc"), make.competence_area("quality")])
    for n in range(size):
        session = _in(make, make.session(course, meetings=1 + n % 3, company_seat_cap=2), "Västerås", "Köping")
        make.booking(session, make.employee(company))
    return course


def test_the_course_page_issues_the_same_queries_however_many_sessions(client, make):
    hr = _signed_in(client, make)
    small = _queries(client, f"/catalogue/courses/{_course_with_sessions(make, hr.company, 1).id}")
    large = _queries(client, f"/catalogue/courses/{_course_with_sessions(make, hr.company, 12).id}")
    assert small == large <= 10
