"""Each user's notifications: listed newest first, counted in the header, marked read, never another's."""
import pytest

from portal.extensions import db
from portal.models import Notification, Role
from tests.conftest import csrf_token, sign_in


@pytest.fixture
def hr(make):
    return make.user(Role.HR)


def note(user, title="Nya datum: CNC", read=False):
    from portal.models.types import utcnow

    created = Notification(user=user, kind="session.dates_changed", title=title, body="Träffarna är nu:\n- 1 mars",
                           link="/catalogue", read_at=utcnow() if read else None)
    db.session.add(created)
    db.session.commit()
    return created


def test_the_header_counts_unread_notifications(client, make, hr):
    note(hr)
    note(hr)
    note(hr, read=True)
    note(make.user(Role.HR))  # someone else's
    sign_in(client, hr.email)
    page = client.get("/").get_data(as_text=True)
    assert '<span class="count">2</span>' in page


def test_the_list_shows_own_notifications_newest_first(client, make, hr):
    note(hr, "Första")
    note(hr, "Andra")
    note(make.user(Role.HR), "Någon annans")
    sign_in(client, hr.email)
    page = client.get("/notifications/").get_data(as_text=True)
    assert page.index("Andra") < page.index("Första")
    assert "Någon annans" not in page


def test_marking_read_without_javascript_redirects_back(client, hr):
    first = note(hr)
    sign_in(client, hr.email)
    response = client.post(f"/notifications/{first.id}/read", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    db.session.expire_all()
    assert first.read_at is not None


def test_marking_read_with_htmx_returns_the_notification_and_the_badge(client, hr):
    first, second = note(hr), note(hr)
    sign_in(client, hr.email)
    token = csrf_token(client, "/")
    response = client.post(f"/notifications/{first.id}/read", headers={"HX-Request": "true", "X-CSRFToken": token})
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment
    assert f'id="notification-{first.id}"' in fragment and 'hx-swap-oob="true"' in fragment
    assert '<span class="count">1</span>' in fragment
    assert second.read_at is None


def test_another_users_notification_answers_404_and_stays_unread(client, make, hr):
    theirs = note(make.user(Role.HR))
    sign_in(client, hr.email)
    response = client.post(f"/notifications/{theirs.id}/read", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 404
    db.session.expire_all()
    assert theirs.read_at is None


def test_mark_all_read(client, hr):
    note(hr)
    note(hr)
    sign_in(client, hr.email)
    client.post("/notifications/read-all", data={"csrf_token": csrf_token(client, "/")})
    assert 'class="count"' not in client.get("/").get_data(as_text=True)


def test_the_badge_fragment_for_polling(client, hr):
    note(hr)
    sign_in(client, hr.email)
    fragment = client.get("/notifications/unread").get_data(as_text=True)
    assert fragment.strip().startswith('<a id="notification-badge"') and '<span class="count">1</span>' in fragment


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get("/notifications/").status_code == 302
