"""Signing in and out: the right people get in, nobody learns which emails exist."""
from http.cookies import SimpleCookie

from sqlalchemy import select

from portal.extensions import db
from portal.models import Role, User
from tests.conftest import PASSWORD, csrf_token, sign_in

WRONG = "Fel e-postadress eller lösenord."


def test_each_role_signs_in_and_reaches_its_start_page(client, make):
    hr = make.user(Role.HR)
    provider = make.user(Role.PROVIDER)
    pm = make.user(Role.PM)
    for user, heading in ((hr, hr.company.name), (provider, provider.provider.name), (pm, "Programöversikt")):
        response = sign_in(client, user.email)
        assert response.status_code == 302 and response.headers["Location"] == "/"
        page = client.get("/").get_data(as_text=True)
        assert f"<h1>{heading}</h1>" in page
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_email_is_matched_without_regard_to_case_or_spaces(client, make):
    user = make.user(email="karin@verkstad.se")
    assert sign_in(client, "  Karin@Verkstad.SE ").status_code == 302
    assert client.get("/").status_code == 200
    assert user.email == "karin@verkstad.se"


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make):
    make.user(email="karin@verkstad.se")
    wrong_password = sign_in(client, "karin@verkstad.se", "not the password")
    unknown_email = sign_in(client, "nobody@verkstad.se", "not the password")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 422
        assert WRONG in response.get_data(as_text=True)
    assert wrong_password.get_data(as_text=True).count(WRONG) == 1
    assert client.get("/").status_code == 302  # still signed out


def test_deactivated_user_cannot_sign_in(client, make):
    make.user(email="gone@verkstad.se", is_active=False)
    response = sign_in(client, "gone@verkstad.se")
    assert response.status_code == 422 and WRONG in response.get_data(as_text=True)


def test_empty_fields_are_marked_next_to_the_field(client, make):
    response = sign_in(client, "", "")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert page.count('class="field-error"') == 2
    assert 'aria-invalid="true"' in page


def test_sign_in_without_csrf_token_is_refused_and_signs_nobody_in(client, make):
    user = make.user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Inget sparades" in response.get_data(as_text=True) or "sparades" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_last_sign_in_time_is_recorded(client, make, app):
    user = make.user()
    assert user.last_login_at is None
    sign_in(client, user.email)
    with app.app_context():
        assert db.session.get(User, user.id).last_login_at is not None


def test_remember_me_sets_a_lasting_http_only_cookie(client, make):
    user = make.user()
    response = sign_in(client, user.email, remember="y")
    cookies = [SimpleCookie(header) for header in response.headers.getlist("Set-Cookie")]
    remember = next(c["remember_token"] for c in cookies if "remember_token" in c)
    assert remember["httponly"] and remember["expires"]
    assert remember["samesite"] == "Lax"


def test_without_remember_me_no_remember_cookie(client, make):
    response = sign_in(client, make.user().email)
    assert not any("remember_token" in h for h in response.headers.getlist("Set-Cookie"))


def test_sign_out_needs_a_post_with_csrf(client, make):
    sign_in(client, make.user().email)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_signed_out_user_is_sent_to_sign_in_and_back(client, make):
    user = make.user(Role.PM)
    response = client.get("/companies/1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    token = csrf_token(client)
    response = client.post(
        "/login?next=/companies/1", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/companies/1"


def test_next_never_leads_off_the_site(client, make):
    user = make.user()
    token = csrf_token(client)
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(f"/login?next={target}", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert response.headers["Location"] == "/"
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
        token = csrf_token(client)


def test_changing_the_session_version_ends_existing_sessions(client, make, app):
    user = make.user()
    sign_in(client, user.email)
    assert client.get("/").status_code == 200
    with app.app_context():
        db.session.get(User, user.id).session_version += 1
        db.session.commit()
    assert client.get("/").status_code == 302


def test_passwords_are_stored_with_a_modern_kdf(app, ctx):
    from portal.services.accounts import hash_password

    assert app.config["PASSWORD_HASH_METHOD"].startswith("pbkdf2")  # tests use a cheap setting
    from portal.config import Config

    assert Config.PASSWORD_HASH_METHOD == "scrypt"
    with app.test_request_context():
        app.config["PASSWORD_HASH_METHOD"] = Config.PASSWORD_HASH_METHOD
        try:
            assert hash_password("kompetenslyft-demo").startswith("scrypt:")
        finally:
            app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"


def test_users_are_unique_by_email(make, ctx):
    make.user(email="same@verkstad.se")
    assert db.session.scalars(select(User).where(User.email == "same@verkstad.se")).one()


def test_a_cookie_captured_before_sign_out_is_useless_after_it(app, make, ctx):
    user = make.user(Role.PM)
    client = app.test_client()
    sign_in(client, user.email, remember="y")
    captured = {cookie.key: cookie.value for cookie in client._cookies.values()}
    assert "session" in captured and "remember_token" in captured
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    thief = app.test_client()
    for name, value in captured.items():
        thief.set_cookie(name, value)
    response = thief.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
