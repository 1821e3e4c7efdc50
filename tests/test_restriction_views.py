"""The restriction pages (pm), the provider's side of proposed dates, the jobs page and the
rescheduling settings, over HTTP: what each role sees, what a post saves, and what it refuses."""
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from flask_babel import force_locale
from icalendar import Calendar
from sqlalchemy import func, select

from portal.extensions import db
from portal.i18n import moment
from portal.jobs.scheduler import JOBS
from portal.models import (
    Booking, Notification, Programme, ProposalStatus, Restriction, RestrictionChange, RestrictionScope,
    Role, Session, SessionStatus, User,
)
from portal.services import restrictions as service
from portal.services.restrictions import RestrictionData
from tests.conftest import count_queries, csrf_token, sign_in
from tests.test_restrictions import (  # noqa: F401 - programme, pm and provider_user are fixtures
    country, in_person, local, pm, programme, proposal_of, provider_user, record, today,
)

STAT = re.compile(r'<span class="stat-value">([^<]*)</span>')
CONFIRMED = re.compile(r'<input[^>]*name="confirmed_sessions"[^>]*>')


# Helpers

def browser(app, user, english: bool = False):
    """A client signed in as `user` (in its own cookie jar), optionally with the English UI."""
    client = app.test_client()
    assert sign_in(client, user.email).status_code == 302
    if english:
        client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    return client


def post(client, path, data, page="/"):
    """Post a form as the browser would: with the CSRF token the page carries."""
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def restriction_fields(**overrides) -> dict:
    fields = {"scope": "country", "in_force_from": today().isoformat(), "max_group_size": "8",
              "description": "Folkhälsomyndigheten: högst 8 deltagare"}
    return fields | overrides


def confirmed_value(page: str) -> str | None:
    found = CONFIRMED.search(page)
    if not found:
        return None
    value = re.search(r'value="([^"]*)"', found.group(0))
    return value.group(1) if value else ""


def stats(page: str) -> list[str]:
    """The impact box's three numbers: sessions, companies, booked employees."""
    box = page[page.index('id="impact"'):]
    return STAT.findall(box)[:3]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def postponed_ids() -> set[int]:
    return set(db.session.scalars(select(Session.id).where(Session.status == SessionStatus.POSTPONED)))


def hr_of(session: Session) -> User:
    company_id = db.session.scalars(
        select(Booking.company_id).where(Booking.session_id == session.id).order_by(Booking.id).limit(1)
    ).one()
    return db.session.scalars(select(User).where(User.role == Role.HR, User.company_id == company_id)).one()


def shown(app, when) -> str:
    """A date and time as the Swedish pages print it."""
    with app.test_request_context(), force_locale("sv"):
        return moment(when)


class _FormValues(HTMLParser):
    """The values a browser would submit from the page's (first) POST form: inputs, textareas, selects."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "checkbox", "radio"):
            self.values[name] = attrs.get("value") or ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value") or ""
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


def form_values(page: str) -> dict[str, str]:
    start = page.index('<form method="post" novalidate')
    parser = _FormValues()
    parser.feed(page[start:page.index("</form>", start)])
    return parser.values


def ics_events(client, session_id: int):
    response = client.get(f"/catalogue/sessions/{session_id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data).walk("VEVENT")


# 1. Who may see and use the pages

GET_ROUTES = ["/restrictions", "/restrictions/new", "/restrictions/{id}", "/jobs"]
POST_ROUTES = [
    "/restrictions/new", "/restrictions/{id}/group-size", "/restrictions/{id}/lift", "/restrictions/settings",
]


class TestRoleGates:
    @pytest.fixture
    def restriction(self, pm):
        return record(pm, country(8))

    @pytest.mark.parametrize("path", GET_ROUTES)
    def test_anonymous_visitors_are_sent_to_sign_in(self, client, restriction, path):
        response = client.get(path.format(id=restriction.id))
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")

    @pytest.mark.parametrize("path", POST_ROUTES)
    def test_anonymous_posts_are_sent_to_sign_in_and_change_nothing(self, client, restriction, path):
        response = client.post(path.format(id=restriction.id), data={
            "csrf_token": csrf_token(client, "/login"), **restriction_fields(), "save": "1", "confirmed_sessions": "0",
            "lifted_on": today().isoformat(), "effective_from": today().isoformat(), "notice_days": "3",
        })
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
        db.session.expire_all()
        assert count(Restriction) == 1 and restriction.lifted_on is None
        assert db.session.scalars(select(Programme.notice_days)).one() == 14

    @pytest.mark.parametrize("role", [Role.HR, Role.PROVIDER])
    def test_hr_and_providers_are_refused(self, app, make, restriction, role):
        client = browser(app, make.user(role))
        for path in GET_ROUTES:
            assert client.get(path.format(id=restriction.id)).status_code == 403, path
        token = csrf_token(client, "/")
        for path in POST_ROUTES:
            response = client.post(path.format(id=restriction.id), data={
                "csrf_token": token, **restriction_fields(), "save": "1", "confirmed_sessions": "0",
                "lifted_on": today().isoformat(), "notice_days": "3",
            })
            assert response.status_code == 403, path
        db.session.expire_all()
        assert count(Restriction) == 1 and restriction.lifted_on is None
        assert db.session.scalars(select(Programme.notice_days)).one() == 14

    def test_pm_sees_every_page(self, app, pm, restriction):
        client = browser(app, pm)
        for path in GET_ROUTES:
            assert client.get(path.format(id=restriction.id)).status_code == 200, path

    def test_an_unknown_restriction_is_404(self, app, pm):
        client = browser(app, pm)
        assert client.get("/restrictions/999999").status_code == 404
        assert client.get(f"/restrictions/{2**40}").status_code == 404


# 2–4. Recording a restriction

class TestRecording:
    def test_preview_shows_the_impact_and_saves_nothing_then_save_postpones_and_tells_hr(self, app, make, pm,
                                                                                         provider_user):
        provider = provider_user.provider
        first = in_person(make, provider, booked=12, companies=3)
        second = in_person(make, provider, booked=9, companies=2, days_ahead=40)
        under = in_person(make, provider, booked=8)  # within the limit
        client = browser(app, pm)

        preview = post(client, "/restrictions/new", restriction_fields(preview="1"), page="/restrictions/new")

        page = preview.get_data(as_text=True)
        assert preview.status_code == 200 and 'id="impact"' in page
        assert stats(page) == ["2", "5", "21"]
        assert confirmed_value(page) == "2"
        assert first.course.title in page and second.course.title in page and under.course.title not in page
        assert count(Restriction) == 0 and postponed_ids() == set()

        saved = post(client, "/restrictions/new", restriction_fields(save="1", confirmed_sessions="2"),
                     page="/restrictions/new")

        restriction = db.session.scalars(select(Restriction)).one()
        assert saved.status_code == 302 and saved.headers["Location"] == f"/restrictions/{restriction.id}"
        assert restriction.scope == RestrictionScope.COUNTRY and restriction.max_group_size == 8
        assert restriction.in_force_from == today()
        assert postponed_ids() == {first.id, second.id}
        db.session.expire_all()
        assert first.postponed_by_id == restriction.id and under.status == SessionStatus.OPEN
        shown_page = client.get(saved.headers["Location"]).get_data(as_text=True)
        assert first.course.title in shown_page and second.course.title in shown_page
        assert "Folkhälsomyndigheten: högst 8 deltagare" in shown_page

        hr = hr_of(first)
        notes = browser(app, hr).get("/notifications/")
        text = notes.get_data(as_text=True)
        assert notes.status_code == 200
        assert first.course.title in text and "Folkhälsomyndigheten: högst 8 deltagare" in text
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == hr.id, Notification.kind == "session.postponed")) == 1

    def test_a_stale_count_saves_nothing_and_shows_the_new_preview(self, app, make, pm, provider_user):
        over = in_person(make, provider_user.provider, booked=12)
        at_limit = in_person(make, provider_user.provider, booked=8, venue="Sal 2")
        client = browser(app, pm)
        preview = post(client, "/restrictions/new", restriction_fields(preview="1"), page="/restrictions/new")
        assert confirmed_value(preview.get_data(as_text=True)) == "1"

        # Meanwhile one more employee books the session at the limit: it is now over it too.
        make.booking(at_limit, make.employee())
        response = post(client, "/restrictions/new", restriction_fields(save="1", confirmed_sessions="1"),
                        page="/restrictions/new")

        page = response.get_data(as_text=True)
        assert response.status_code == 200 and 'id="impact"' in page
        assert stats(page)[0] == "2" and confirmed_value(page) == "2"
        assert count(Restriction) == 0 and postponed_ids() == set()
        # Saving again with what the new preview showed goes ahead.
        again = post(client, "/restrictions/new", restriction_fields(save="1", confirmed_sessions="2"),
                     page="/restrictions/new")
        assert again.status_code == 302 and postponed_ids() == {over.id, at_limit.id}

    def test_save_without_a_preview_only_previews(self, app, make, pm, provider_user):
        in_person(make, provider_user.provider, booked=12)
        client = browser(app, pm)
        response = post(client, "/restrictions/new", restriction_fields(save="1"), page="/restrictions/new")
        assert response.status_code == 200 and 'id="impact"' in response.get_data(as_text=True)
        assert count(Restriction) == 0 and postponed_ids() == set()

    def test_regions_and_municipalities_scopes_are_saved_with_their_places(self, app, make, pm, provider_user):
        köping = in_person(make, provider_user.provider, booked=2, place="Köping")
        västerås = in_person(make, provider_user.provider, booked=2, place="Västerås")
        client = browser(app, pm)
        municipality = make.municipality("Köping")
        fields = restriction_fields(scope="municipalities", municipality_ids=[str(municipality.id)], max_group_size="",
                                    description="Inga fysiska möten i Köping")
        preview = post(client, "/restrictions/new", fields | {"preview": "1"}, page="/restrictions/new")
        assert stats(preview.get_data(as_text=True))[0] == "1"
        saved = post(client, "/restrictions/new", fields | {"save": "1", "confirmed_sessions": "1"},
                     page="/restrictions/new")
        assert saved.status_code == 302
        restriction = db.session.scalars(select(Restriction)).one()
        assert [m.id for m in restriction.municipalities] == [municipality.id] and restriction.max_group_size is None
        assert postponed_ids() == {köping.id} and västerås.id not in postponed_ids()

        region = make.municipality("Västerås").region_id
        fields = restriction_fields(scope="regions", region_ids=[str(region)], description="Västmanland")
        saved = post(client, "/restrictions/new", fields | {"save": "1", "confirmed_sessions": "0"},
                     page="/restrictions/new")
        assert saved.status_code == 302
        second = db.session.scalars(select(Restriction).order_by(Restriction.id.desc()).limit(1)).one()
        assert [r.id for r in second.regions] == [region]

    @pytest.mark.parametrize("change, field", [
        ({"in_force_from": ""}, "in_force_from"),
        ({"in_force_from": "0001-01-01"}, "in_force_from"),
        ({"in_force_from": "9999-12-31"}, "in_force_from"),
        ({"in_force_from": "31/12/2030"}, "in_force_from"),
        ({"in_force_from": "2030-01-01\x00"}, "in_force_from"),
        ({"max_group_size": "0"}, "max_group_size"),
        ({"max_group_size": "-3"}, "max_group_size"),
        ({"max_group_size": "abc"}, "max_group_size"),
        ({"max_group_size": str(10**30)}, "max_group_size"),
        ({"max_group_size": "8\x00"}, "max_group_size"),
        ({"scope": "regions"}, "region_ids"),
        ({"scope": "regions", "region_ids": ["999999"]}, "region_ids"),
        ({"scope": "regions", "region_ids": ["abc"]}, "region_ids"),
        ({"scope": "municipalities"}, "municipality_ids"),
        ({"scope": "municipalities", "municipality_ids": ["999999"]}, "municipality_ids"),
        ({"scope": "municipalities", "municipality_ids": ["x"]}, "municipality_ids"),
        ({"scope": "planet"}, "scope"),
        ({"scope": ""}, "scope"),
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "\x00\x00"}, "description"),
        ({"description": "x" * 2001}, "description"),
    ])
    @pytest.mark.parametrize("action", ["preview", "save"])
    def test_bad_input_is_refused_next_to_its_field_and_saves_nothing(self, app, make, pm, provider_user, change,
                                                                      field, action):
        in_person(make, provider_user.provider, booked=12)
        client = browser(app, pm)
        extra = {"preview": "1"} if action == "preview" else {"save": "1", "confirmed_sessions": "1"}
        data = restriction_fields(**change) | extra
        response = post(client, "/restrictions/new", data, page="/restrictions/new")
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert f'id="{field}-error"' in page and 'class="field-error"' in page
        assert 'id="impact"' not in page
        assert count(Restriction) == 0 and postponed_ids() == set()

    @pytest.mark.parametrize("ids, scope", [
        ([str(10**20)], "regions"),
        ([str(10**20)], "municipalities"),
    ])
    def test_a_place_id_too_large_for_the_database_is_a_field_message(self, app, pm, ids, scope):
        client = browser(app, pm)
        field = "region_ids" if scope == "regions" else "municipality_ids"
        response = post(client, "/restrictions/new", restriction_fields(scope=scope, **{field: ids}, preview="1"),
                        page="/restrictions/new")
        assert response.status_code == 422 and f'id="{field}-error"' in response.get_data(as_text=True)
        assert count(Restriction) == 0

    def test_nul_characters_in_the_description_are_dropped(self, app, make, pm):
        client = browser(app, pm)
        response = post(client, "/restrictions/new", restriction_fields(
            description="Högst\x00 8", save="1", confirmed_sessions="0"), page="/restrictions/new")
        assert response.status_code == 302
        assert db.session.scalars(select(Restriction.description)).one() == "Högst 8"

    @pytest.mark.parametrize("confirmed", [
        "abc", "-1", "",
        "²",
        "9" * 5000,
    ])
    def test_a_tampered_confirmed_count_only_shows_the_preview_again(self, app, make, pm, provider_user, confirmed):
        in_person(make, provider_user.provider, booked=12)
        client = browser(app, pm)
        response = post(client, "/restrictions/new", restriction_fields(save="1", confirmed_sessions=confirmed),
                        page="/restrictions/new")
        assert response.status_code == 200 and 'id="impact"' in response.get_data(as_text=True)
        assert count(Restriction) == 0 and postponed_ids() == set()


# 5. Easing and tightening

class TestGroupSize:
    def test_tightening_previews_then_postpones_and_easing_into_the_past_is_refused(self, app, make, pm, provider_user):
        ten = in_person(make, provider_user.provider, booked=10, days_ahead=30)
        six = in_person(make, provider_user.provider, booked=6, days_ahead=30, venue="Sal 2")
        restriction = record(pm, country(12))
        assert postponed_ids() == set()
        client = browser(app, pm)
        path, page = f"/restrictions/{restriction.id}/group-size", f"/restrictions/{restriction.id}"
        day = today() + timedelta(days=5)

        preview = post(client, path, {"effective_from": day.isoformat(), "max_group_size": "5", "preview": "1"}, page)

        text = preview.get_data(as_text=True)
        assert preview.status_code == 200 and stats(text) == ["2", "4", "16"] and confirmed_value(text) == "2"
        assert count(RestrictionChange) == 0 and postponed_ids() == set()

        saved = post(client, path, {"effective_from": day.isoformat(), "max_group_size": "5", "save": "1",
                                    "confirmed_sessions": "2"}, page)

        assert saved.status_code == 302 and saved.headers["Location"] == page
        assert postponed_ids() == {ten.id, six.id}
        change = db.session.scalars(select(RestrictionChange)).one()
        assert (change.effective_from, change.max_group_size) == (day, 5)

        eased = post(client, path, {"effective_from": (today() - timedelta(days=1)).isoformat(),
                                    "max_group_size": "20", "preview": "1"}, page)
        assert eased.status_code == 422 and 'id="effective_from-error"' in eased.get_data(as_text=True)
        assert count(RestrictionChange) == 1

    def test_a_stale_count_saves_no_new_size(self, app, make, pm, provider_user):
        in_person(make, provider_user.provider, booked=10, days_ahead=30)
        restriction = record(pm, country(12))
        client = browser(app, pm)
        response = post(client, f"/restrictions/{restriction.id}/group-size", {
            "effective_from": today().isoformat(), "max_group_size": "5", "save": "1", "confirmed_sessions": "0",
        }, f"/restrictions/{restriction.id}")
        assert response.status_code == 200 and confirmed_value(response.get_data(as_text=True)) == "1"
        assert count(RestrictionChange) == 0 and postponed_ids() == set()

    @pytest.mark.parametrize("fields, field", [
        ({"effective_from": ""}, "effective_from"),
        ({"effective_from": "0001-01-01"}, "effective_from"),
        ({"effective_from": "9999-12-31"}, "effective_from"),
        ({"max_group_size": "0"}, "max_group_size"),
        ({"max_group_size": "abc"}, "max_group_size"),
        ({"max_group_size": str(10**30)}, "max_group_size"),
    ])
    def test_bad_group_size_input_is_refused_next_to_its_field(self, app, pm, fields, field):
        restriction = record(pm, country(12))
        client = browser(app, pm)
        data = {"effective_from": today().isoformat(), "max_group_size": "5", "preview": "1"} | fields
        response = post(client, f"/restrictions/{restriction.id}/group-size", data, f"/restrictions/{restriction.id}")
        assert response.status_code == 422 and f'id="{field}-error"' in response.get_data(as_text=True)
        assert count(RestrictionChange) == 0


# 6–8. Lifting, proposed dates, confirming

class TestLiftingAndConfirming:
    @pytest.fixture
    def postponed(self, make, pm, provider_user):
        session = in_person(make, provider_user.provider, booked=12, days=(0, 2), days_ahead=5)
        restriction = record(pm, country(8))
        assert postponed_ids() == {session.id}
        return session, restriction

    @pytest.fixture
    def proposed(self, app, postponed, pm):
        session, restriction = postponed
        client = browser(app, pm)
        response = post(client, f"/restrictions/{restriction.id}/lift", {"lifted_on": today().isoformat()},
                        f"/restrictions/{restriction.id}")
        assert response.status_code == 302 and response.headers["Location"] == f"/restrictions/{restriction.id}"
        db.session.expire_all()
        proposal = proposal_of(session)
        assert proposal is not None and proposal.status == ProposalStatus.PROPOSED
        return session, restriction, proposal

    def test_lifting_proposes_dates_at_once_and_the_provider_confirms_them(self, app, postponed, pm, provider_user):
        session, restriction = postponed
        hr = hr_of(session)
        hr_client = browser(app, hr)
        sequence_before = max(int(e["SEQUENCE"]) for e in ics_events(hr_client, session.id))
        old_starts = sorted(m.starts_at for m in session.meetings)
        pm_client = browser(app, pm)

        lifted = post(pm_client, f"/restrictions/{restriction.id}/lift", {"lifted_on": today().isoformat()},
                      f"/restrictions/{restriction.id}")

        assert lifted.status_code == 302
        db.session.expire_all()
        assert restriction.lifted_on == today()
        proposal = proposal_of(session)
        assert proposal.status == ProposalStatus.PROPOSED and len(proposal.meetings) == 2
        spans = sorted((m.starts_at, m.ends_at) for m in proposal.meetings)
        assert spans[0][0].date() >= today() + timedelta(days=14) and [s for s, _ in spans] != old_starts

        provider = browser(app, provider_user)
        page = provider.get(f"/provider/sessions/{session.id}").get_data(as_text=True)
        assert 'id="postponed-by"' in page and 'id="proposed-dates"' in page
        dates_box = page[page.index('id="proposed-dates"'):page.index("</ul>", page.index('id="proposed-dates"'))]
        for starts, _ in spans:
            assert shown(app, starts) in dates_box
        assert f"/provider/sessions/{session.id}/proposal/confirm" in page
        start = provider.get("/").get_data(as_text=True)
        assert 'id="needing-dates"' in start
        assert f"/provider/sessions/{session.id}" in start[start.index('id="needing-dates"'):]

        confirmed = post(provider, f"/provider/sessions/{session.id}/proposal/confirm", {},
                         f"/provider/sessions/{session.id}")

        assert confirmed.status_code == 302 and confirmed.headers["Location"] == f"/provider/sessions/{session.id}"
        db.session.expire_all()
        assert session.status == SessionStatus.OPEN and session.postponed_by_id is None
        assert sorted((m.starts_at, m.ends_at) for m in session.meetings) == spans
        assert proposal_of(session).status == ProposalStatus.CONFIRMED
        assert proposal_of(session).decided_by_id == provider_user.id
        after = provider.get(f"/provider/sessions/{session.id}").get_data(as_text=True)
        assert 'id="postponed-by"' not in after and 'id="proposed-dates"' not in after
        assert 'id="needing-dates"' not in provider.get("/").get_data(as_text=True)

        notes = hr_client.get("/notifications/").get_data(as_text=True)
        for starts, _ in spans:
            assert shown(app, starts) in notes
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == hr.id, Notification.kind == "session.dates_changed")) == 1

        events = ics_events(hr_client, session.id)
        assert sorted(e.decoded("DTSTART") for e in events) == [s for s, _ in spans]
        assert all(int(e["SEQUENCE"]) > sequence_before for e in events)
        assert all(str(e["STATUS"]) == "CONFIRMED" for e in events)

    def test_the_change_dates_form_starts_from_the_proposed_days(self, app, proposed, provider_user):
        session, _, proposal = proposed

        old_days = [local(m.starts_at).date().isoformat() for m in session.meetings]
        new_days = [local(m.starts_at).date().isoformat() for m in sorted(proposal.meetings, key=lambda m: m.starts_at)]
        page = browser(app, provider_user).get(f"/provider/sessions/{session.id}/dates")
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        for index, day in enumerate(new_days):
            field = re.search(rf'<input[^>]*name="meetings-{index}-day"[^>]*>', text).group(0)
            assert f'value="{day}"' in field
        assert not any(f'value="{day}"' in text for day in old_days if day not in new_days)

    def test_saving_the_prefilled_change_dates_form_gives_the_proposed_dates(self, app, proposed, provider_user):
        session, _, proposal = proposed
        spans = sorted((m.starts_at, m.ends_at) for m in proposal.meetings)
        provider = browser(app, provider_user)
        values = form_values(provider.get(f"/provider/sessions/{session.id}/dates").get_data(as_text=True))

        response = provider.post(f"/provider/sessions/{session.id}/dates", data=values | {"save": "1"})

        assert response.status_code == 302 and response.headers["Location"] == f"/provider/sessions/{session.id}"
        db.session.expire_all()
        assert session.status == SessionStatus.OPEN and session.postponed_by_id is None
        assert sorted((m.starts_at, m.ends_at) for m in session.meetings) == spans
        assert proposal_of(session).status == ProposalStatus.REPLACED

    def test_a_tampered_clash_count_on_the_change_dates_form_is_no_crash(self, app, proposed, provider_user):
        session, _, _ = proposed
        provider = browser(app, provider_user)
        values = form_values(provider.get(f"/provider/sessions/{session.id}/dates").get_data(as_text=True))
        response = provider.post(f"/provider/sessions/{session.id}/dates",
                                 data=values | {"save": "1", "confirmed_clashes": "²"})
        assert response.status_code in (200, 302, 422)

    def test_another_provider_gets_404_and_hr_and_pm_403(self, app, make, proposed, pm):
        session, _, proposal = proposed
        other = browser(app, make.user(Role.PROVIDER))
        path = f"/provider/sessions/{session.id}/proposal/confirm"
        assert post(other, path, {}).status_code == 404
        assert other.get(f"/provider/sessions/{session.id}").status_code == 404
        assert other.get(f"/provider/sessions/{session.id}/dates").status_code == 404
        assert post(browser(app, hr_of(session)), path, {}).status_code == 403
        assert post(browser(app, pm), path, {}).status_code == 403
        db.session.expire_all()
        assert session.status == SessionStatus.POSTPONED and proposal.status == ProposalStatus.PROPOSED

    def test_confirming_twice_is_harmless(self, app, proposed, provider_user):
        session, _, _ = proposed
        provider = browser(app, provider_user)
        path = f"/provider/sessions/{session.id}/proposal/confirm"
        assert post(provider, path, {}).status_code == 302
        sequence = db.session.scalar(select(Session.ical_sequence).where(Session.id == session.id))
        again = post(provider, path, {})
        assert again.status_code == 302
        assert db.session.scalar(select(Session.ical_sequence).where(Session.id == session.id)) == sequence

    @pytest.mark.parametrize("lifted_on", ["", "0001-01-01", "9999-12-31", "not a date"])
    def test_bad_lift_dates_are_refused_next_to_the_field(self, app, postponed, pm, lifted_on):
        _, restriction = postponed
        response = post(browser(app, pm), f"/restrictions/{restriction.id}/lift", {"lifted_on": lifted_on},
                        f"/restrictions/{restriction.id}")
        assert response.status_code == 422 and 'id="lifted_on-error"' in response.get_data(as_text=True)
        db.session.expire_all()
        assert restriction.lifted_on is None and proposal_of(postponed[0]) is None

    def test_a_lift_before_it_came_into_force_is_refused_next_to_the_field(self, app, make, pm):
        restriction = record(pm, country(8, from_day=today() + timedelta(days=3)))
        response = post(browser(app, pm), f"/restrictions/{restriction.id}/lift", {"lifted_on": today().isoformat()},
                        f"/restrictions/{restriction.id}")
        assert response.status_code == 422 and 'id="lifted_on-error"' in response.get_data(as_text=True)
        db.session.expire_all()
        assert restriction.lifted_on is None


# 9. The jobs page

def test_the_jobs_page_shows_not_run_yet_and_then_the_last_runs_counts(app, make, pm, provider_user):
    session = in_person(make, provider_user.provider, booked=12)
    restriction = record(pm, country(8))
    service.lift_restriction(restriction, pm, today())  # lifted, but nothing proposed until the job runs
    db.session.commit()
    client = browser(app, pm, english=True)

    before = client.get("/jobs").get_data(as_text=True)
    assert 'id="job-runs"' in before and before.count("Not run yet") == len(JOBS)
    assert "Reschedule postponed sessions" in before

    result = app.test_cli_runner().invoke(args=["portal", "run-job", "reschedule_postponed"])
    assert result.exit_code == 0, result.output

    after = client.get("/jobs").get_data(as_text=True)
    assert after.count("Not run yet") == len(JOBS) - 1
    row = re.search(r"<tr>\s*<th scope=\"row\">Reschedule postponed sessions</th>.*?</tr>", after, re.S).group(0)
    assert "Succeeded" in row and "1 proposed" in row
    db.session.expire_all()
    assert proposal_of(session).status == ProposalStatus.PROPOSED


# 10. Settings

class TestSettings:
    def test_pm_sets_the_notice_and_auto_confirm(self, app, pm, programme):
        client = browser(app, pm)
        response = post(client, "/restrictions/settings", {"notice_days": "7", "auto_confirm_reschedule": "y"},
                        "/restrictions")
        assert response.status_code == 302 and response.headers["Location"] == "/restrictions"
        db.session.expire_all()
        assert (programme.notice_days, programme.auto_confirm_reschedule) == (7, True)
        page = client.get("/restrictions").get_data(as_text=True)
        assert re.search(r'<input[^>]*name="notice_days"[^>]*value="7"', page)
        assert re.search(r'<input[^>]*checked[^>]*name="auto_confirm_reschedule"|'
                         r'<input[^>]*name="auto_confirm_reschedule"[^>]*checked', page)

        post(client, "/restrictions/settings", {"notice_days": "0"}, "/restrictions")  # unticked: off again
        db.session.expire_all()
        assert (programme.notice_days, programme.auto_confirm_reschedule) == (0, False)

    @pytest.mark.parametrize("notice_days", ["-1", "400", "x", "", str(10**30), "7\x00"])
    def test_bad_notice_days_leave_the_programme_unchanged(self, app, pm, programme, notice_days):
        client = browser(app, pm, english=True)
        response = post(client, "/restrictions/settings",
                        {"notice_days": notice_days, "auto_confirm_reschedule": "y"}, "/restrictions")
        assert response.status_code == 302
        db.session.expire_all()
        assert (programme.notice_days, programme.auto_confirm_reschedule) == (14, False)
        page = client.get("/restrictions").get_data(as_text=True)
        assert 'class="flash flash-error"' in page and 'class="flash flash-success"' not in page
        assert re.search(r'<input[^>]*name="notice_days"[^>]*value="14"', page)

    def test_a_lift_after_auto_confirm_opens_the_session_at_once(self, app, make, pm, provider_user, programme):
        session = in_person(make, provider_user.provider, booked=12)
        restriction = record(pm, country(8))
        client = browser(app, pm)
        post(client, "/restrictions/settings", {"notice_days": "7", "auto_confirm_reschedule": "y"}, "/restrictions")
        response = post(client, f"/restrictions/{restriction.id}/lift", {"lifted_on": today().isoformat()},
                        f"/restrictions/{restriction.id}")
        assert response.status_code == 302
        db.session.expire_all()
        assert session.status == SessionStatus.OPEN and proposal_of(session).status == ProposalStatus.CONFIRMED

        assert local(min(m.starts_at for m in session.meetings)).date() >= today() + timedelta(days=7)


# 11. Queries do not grow with the rows

class TestQueryCounts:
    def _queries(self, app, user, path, *expected: str) -> int:
        client = browser(app, user)
        with count_queries() as statements:
            response = client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and all(text in page for text in expected)
        return len(statements)

    def _restrictions(self, make, pm, n: int, offset: int) -> None:
        regions = [make.municipality("Västerås").region_id, make.municipality("Karlstad").region_id]
        municipalities = [make.municipality("Köping").id, make.municipality("Västerås").id]
        for i in range(offset, offset + n):
            scope = [RestrictionScope.COUNTRY, RestrictionScope.REGIONS, RestrictionScope.MUNICIPALITIES][i % 3]
            data = RestrictionData(
                scope=scope, region_ids=regions if scope == RestrictionScope.REGIONS else [],
                municipality_ids=municipalities if scope == RestrictionScope.MUNICIPALITIES else [],
                in_force_from=today() - timedelta(days=i), max_group_size=100 + i, description=f"Restriktion {i}",
            )
            restriction = record(pm, data)
            if i % 2:
                service.change_group_size(restriction, pm, today() + timedelta(days=3), 200, confirmed_sessions=0)
                db.session.commit()

    def test_the_index_runs_as_many_queries_for_2_as_for_20_restrictions(self, app, make, pm):
        self._restrictions(make, pm, 2, 0)
        few = self._queries(app, pm, "/restrictions")
        self._restrictions(make, pm, 18, 2)
        assert count(Restriction) == 20
        assert self._queries(app, pm, "/restrictions", *(f"Restriktion {i}<" for i in range(20))) == few

    def test_a_restriction_page_runs_as_many_queries_for_2_as_for_20_postponed_sessions(self, app, make, pm,
                                                                                          provider_user):
        def sessions(n: int, offset: int) -> list[int]:
            return [in_person(make, provider_user.provider, booked=1, companies=1, days_ahead=21 + i,
                              venue=f"Sal {i}").id for i in range(offset, offset + n)]

        sessions(2, 0)
        restriction = record(pm, country(None, description="Inga fysiska möten"))
        assert len(postponed_ids()) == 2
        few = self._queries(app, pm, f"/restrictions/{restriction.id}")
        more = sessions(18, 2)
        for session in db.session.scalars(select(Session).where(Session.id.in_(more))):
            session.status, session.postponed_by_id = SessionStatus.POSTPONED, restriction.id
        db.session.commit()
        titles = [row.course for row in service.sessions_postponed_by(restriction.id)]
        assert len(titles) == 20
        assert self._queries(app, pm, f"/restrictions/{restriction.id}", *titles) == few


def test_a_restriction_not_yet_in_force_shows_the_group_it_will_allow_and_from_when(app, pm):
    record(pm, country(6, from_day=today() + timedelta(days=10), description="Högst 6 från nästa vecka"))
    page = browser(app, pm).get("/restrictions").get_data(as_text=True)
    row = page[page.index("Högst 6 från nästa vecka"):]
    assert re.search(r"6 personer från \d+ \w+\.? \d{4}", row[:600]), row[:600]
