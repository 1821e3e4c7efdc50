"""Accounts: the password policy, throttled sign-in, one-time links to set a password (reset and
invitation) through the outbox, and sessions ended by a password change or deactivation."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AccountToken, OutboxEmail, Role, SignInAttempt, User
from portal.models.types import utcnow
from portal.services import accounts
from portal.services.passwords import password_problem
from tests.conftest import PASSWORD, csrf_token, sign_in

GOOD = "korvgubbe trampolin vinter"


class TestPasswordPolicy:
    @pytest.mark.parametrize("password", ["kort", "elva tecken", "password1234", "QwertyUiop123", "aaaaaaaaaaaaaa",
                                          "ababababababab", "  1234567890123  "])
    def test_short_common_or_repetitive_passwords_are_refused(self, app, password):
        with app.test_request_context():
            assert password_problem(password) is not None

    @pytest.mark.parametrize("password", [GOOD, "Tolv tecken!", "ett långt lösenord med åäö och mellanslag " * 20])
    def test_twelve_characters_and_long_passphrases_are_accepted(self, app, password):
        with app.test_request_context():
            assert password_problem(password, "anna@verkstad.example") is None

    def test_the_email_is_no_password(self, app):
        with app.test_request_context():
            assert password_problem("annasvensson2026", "annasvensson@verkstad.example") is not None
            assert password_problem("x" * 1001) is not None


class TestThrottling:
    def attempt(self, client, email, password="fel lösenord igen"):
        return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})

    def test_failures_are_slowed_then_refused_for_a_while_with_one_message_for_known_and_unknown(
            self, client, make, monkeypatch):
        user = make.user()
        # The clock stands still: "too soon" must not depend on how fast a loaded machine answers (the
        # fourth failure waits one second after the third).
        now = utcnow()
        monkeypatch.setattr(accounts, "utcnow", lambda: now)
        for email in (user.email, "ingen.alls@example.se"):
            answers = [self.attempt(client, email).status_code for _ in range(4)]
            assert answers[:3] == [422, 422, 422] and answers[3] == 429  # the fourth comes too soon
        # The right password is refused too while the account is held back.
        response = self.attempt(client, user.email, PASSWORD)
        assert response.status_code == 429

    def test_after_ten_failures_sign_in_waits_for_the_window_and_then_works(self, client, make, ctx):
        user = make.user()
        now = utcnow()
        db.session.add_all([SignInAttempt(email=user.email, address="10.0.0.1", at=now - timedelta(minutes=10 - i / 10),
                                          succeeded=False) for i in range(10)])
        db.session.commit()
        response = self.attempt(client, user.email, PASSWORD)
        assert response.status_code == 429
        assert re.search(r"\b[45] minut", response.get_data(as_text=True))  # about five minutes left
        # Nothing lasts for good: once the failures leave the window, the account signs in.
        db.session.execute(SignInAttempt.__table__.update().values(at=now - timedelta(minutes=20)))
        db.session.commit()
        assert self.attempt(client, user.email, PASSWORD).status_code == 302

    def test_one_address_trying_many_accounts_is_refused(self, ctx):
        now = utcnow()
        db.session.add_all([SignInAttempt(email=f"p{i}@example.se", address="10.9.9.9", at=now - timedelta(minutes=1),
                                          succeeded=False) for i in range(accounts.ADDRESS_REFUSE_AFTER)])
        db.session.commit()
        with pytest.raises(accounts.TooManyAttempts):
            accounts.check_attempts("someone.new@example.se", "10.9.9.9")
        accounts.check_attempts("someone.new@example.se", "10.9.9.10")  # another address goes on

    def test_a_success_clears_the_count_and_every_attempt_is_logged(self, client, make, ctx):
        user = make.user()
        for _ in range(2):
            self.attempt(client, user.email)
        assert self.attempt(client, user.email, PASSWORD).status_code == 302
        rows = db.session.execute(select(SignInAttempt.email, SignInAttempt.succeeded).order_by(SignInAttempt.id)).all()
        assert rows == [(user.email, False), (user.email, False), (user.email, True)]
        accounts.check_attempts(user.email, "127.0.0.1")  # not held back


class TestReset:
    def test_a_reset_link_is_mailed_through_the_outbox_without_saying_whether_the_address_exists(self, client, make, ctx):
        user = make.user()
        answers = []
        for email in (user.email, "okand@example.se"):
            response = client.post("/password/forgot", data={"email": email, "csrf_token": csrf_token(client, "/password/forgot")},
                                   follow_redirects=True)
            # The pages' CSRF tokens carry the second they were made in; the rest must not differ.
            page = re.sub(r'(name="csrf[-_]token" (?:content|value)=")[^"]+', r"\1TOKEN", response.get_data(as_text=True))
            answers.append(page.replace(email, "EMAIL"))
        assert answers[0] == answers[1]
        mail = db.session.scalars(select(OutboxEmail)).one()
        assert mail.to_address == user.email
        link = re.search(r"/password/set/(\S+)", mail.body_text).group(1)
        assert db.session.scalar(select(AccountToken.token_hash)) != link  # only a digest is stored

        page = client.get(f"/password/set/{link}")
        assert page.status_code == 200
        token = csrf_token(client, f"/password/set/{link}")
        weak = client.post(f"/password/set/{link}", data={"password": "password1234", "confirm": "password1234", "csrf_token": token})
        assert weak.status_code == 422
        done = client.post(f"/password/set/{link}", data={"password": GOOD, "confirm": GOOD, "csrf_token": token})
        assert done.status_code == 302
        assert client.get(f"/password/set/{link}").status_code == 404  # once only
        assert sign_in(client, user.email, GOOD).status_code == 302

    def test_an_expired_link_does_not_work(self, client, make, ctx):
        user = make.user()
        token = accounts.issue_link(user, accounts.TokenPurpose.RESET)
        db.session.execute(AccountToken.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert client.get(f"/password/set/{token}").status_code == 404

    def test_a_new_link_ends_the_older_one(self, make, ctx):
        user = make.user()
        first = accounts.issue_link(user, accounts.TokenPurpose.RESET)
        second = accounts.issue_link(user, accounts.TokenPurpose.RESET)
        db.session.commit()
        assert accounts.valid_link(first) is None and accounts.valid_link(second) is not None


class TestSessionsEnd:
    def test_changing_the_password_ends_the_other_sessions_but_not_this_one(self, app, make, ctx):
        user = make.user()
        here, elsewhere = app.test_client(), app.test_client()
        sign_in(here, user.email), sign_in(elsewhere, user.email)
        token = csrf_token(here, "/account/password")
        response = here.post("/account/password", data={"current_password": PASSWORD, "password": GOOD, "confirm": GOOD,
                                                         "csrf_token": token})
        assert response.status_code == 302
        assert here.get("/").status_code == 200
        assert elsewhere.get("/").status_code == 302

    def test_a_wrong_current_password_changes_nothing(self, client, make, ctx):
        user = make.user()
        sign_in(client, user.email)
        token = csrf_token(client, "/account/password")
        response = client.post("/account/password", data={"current_password": "inte det", "password": GOOD, "confirm": GOOD,
                                                           "csrf_token": token})
        assert response.status_code == 422
        db.session.expire_all()
        assert sign_in(client.application.test_client(), user.email).status_code == 302

    def test_deactivation_ends_the_users_sessions(self, app, make, ctx):
        user, pm = make.user(), make.user(Role.PM)
        theirs, office = app.test_client(), app.test_client()
        sign_in(theirs, user.email), sign_in(office, pm.email)
        assert office.post(f"/users/{user.id}/deactivate", data={"csrf_token": csrf_token(office, "/users")}).status_code == 302
        assert theirs.get("/").status_code == 302
        assert sign_in(app.test_client(), user.email).status_code == 422


class TestInvitations:
    def test_pm_invites_and_the_person_chooses_a_password(self, app, make, ctx):
        pm, company = make.user(Role.PM), make.company()
        office = app.test_client()
        sign_in(office, pm.email)
        token = csrf_token(office, "/users/invite")
        response = office.post("/users/invite", data={"email": "Ny.Person@Verkstad.example", "name": "Ny Person", "role": "hr",
                                                      "company_id": company.id, "csrf_token": token})
        assert response.status_code == 302
        invited = db.session.scalars(select(User).where(User.email == "ny.person@verkstad.example")).one()
        assert invited.company_id == company.id and invited.role == Role.HR
        link = re.search(r"/password/set/(\S+)", db.session.scalars(select(OutboxEmail.body_text)).one()).group(1)
        newcomer = app.test_client()
        token = csrf_token(newcomer, f"/password/set/{link}")
        newcomer.post(f"/password/set/{link}", data={"password": GOOD, "confirm": GOOD, "csrf_token": token})
        assert sign_in(newcomer, invited.email, GOOD).status_code == 302

    @pytest.mark.parametrize("fields, field", [
        ({"role": "hr", "company_id": ""}, "company_id"),
        ({"role": "provider", "provider_id": "999999"}, "provider_id"),
        ({"name": ""}, "name"),
    ])
    def test_an_invitation_without_its_organisation_or_name_is_refused(self, app, make, ctx, fields, field):
        pm = make.user(Role.PM)
        office = app.test_client()
        sign_in(office, pm.email)
        data = {"email": "ny@example.se", "name": "Ny", "role": "pm", "csrf_token": csrf_token(office, "/users/invite")} | fields
        response = office.post("/users/invite", data=data)
        assert response.status_code == 422 and f'id="{field}-error"' in response.get_data(as_text=True)
        assert db.session.scalar(select(func.count(User.id))) == 1

    def test_an_existing_email_is_refused(self, app, make, ctx):
        pm, other = make.user(Role.PM), make.user()
        office = app.test_client()
        sign_in(office, pm.email)
        response = office.post("/users/invite", data={"email": other.email.upper(), "name": "X", "role": "pm",
                                                      "csrf_token": csrf_token(office, "/users/invite")})
        assert response.status_code == 422


def test_two_invitations_of_one_address_at_once_give_one_account_and_a_message(app, make, ctx):
    """The second request passes the early check but meets the unique email: a message, not a 500."""
    from unittest import mock

    pm, company = make.user(Role.PM), make.company()
    invitation = accounts.Invitation(email="samma@example.se", name="Samma", role=Role.HR, company_id=company.id)
    accounts.invite_user(pm, invitation)
    db.session.commit()
    with mock.patch.object(db.session, "scalar", return_value=None):  # as if the first were not yet committed
        with pytest.raises(accounts.InvalidInput) as refused:
            accounts.invite_user(pm, invitation)
    assert "email" in refused.value.errors
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id)).where(User.email == "samma@example.se")) == 1
