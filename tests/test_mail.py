"""Sending the mail outbox: over a real SMTP server, to the log in development, retried with backoff,
claimed so that two senders at once send every message exactly once; and the scheduler that runs it."""
import logging
import socket
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from email import message_from_bytes, policy
from threading import Barrier

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from apscheduler.triggers.interval import IntervalTrigger
from icalendar import Calendar
from sqlalchemy import select

from portal.extensions import db
from portal.jobs.outbox import send_outbox
from portal.jobs.scheduler import build_scheduler
from portal.models import Notification, OutboxEmail, OutboxStatus, Role
from portal.models.types import utcnow
from portal.services import notifications
from portal.services.mail import MAX_ATTEMPTS, SendReport, send_pending

CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//portal//test//SV\r\nBEGIN:VEVENT\r\n"
    "UID:session-7@portal\r\nDTSTAMP:20261121T090000Z\r\nDTSTART:20261201T080000Z\r\n"
    "SUMMARY:Svetsning för nybörjare\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


class Inbox:
    """An aiosmtpd handler that keeps what arrives, and who logged in."""

    def __init__(self):
        self.envelopes = []
        self.logins = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        if session.authenticated:
            self.logins.append(session.auth_data)
        return "250 Message accepted for delivery"

    def messages(self):
        return [message_from_bytes(envelope.content, policy=policy.default) for envelope in self.envelopes]


def accept_any_login(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True, auth_data=auth_data)


@contextmanager
def smtp_server(port: int, **options):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, server_hostname="localhost", **options)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_port(app, monkeypatch) -> int:
    """A free localhost port the app mails to; nothing listens there until a test starts a server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    return port


@pytest.fixture
def inbox(smtp_port):
    with smtp_server(smtp_port) as inbox:
        yield inbox


@pytest.fixture
def no_mail_server(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")


def queue(to="anna@a.se", subject="Nya datum: Svetsning för nybörjare", body="Träffarna är nu:\n- 1 december 09:00",
          attachment=None) -> OutboxEmail:
    outgoing = notifications.email(to, subject, body, attachment)
    db.session.commit()
    return outgoing


def test_due_mail_arrives_over_smtp_with_its_calendar_file(ctx, app, inbox):
    outgoing = queue(attachment=notifications.Attachment("kurstillfalle-7.ics", "text/calendar", CALENDAR))

    assert send_pending("sender-1") == SendReport(sent=1)

    [envelope] = inbox.envelopes
    assert envelope.mail_from == app.config["MAIL_SENDER"]
    assert envelope.rcpt_tos == ["anna@a.se"]
    [message] = inbox.messages()
    assert message["Subject"] == "Nya datum: Svetsning för nybörjare"
    assert message["To"] == "anna@a.se"
    assert message.get_body(("plain",)).get_content().splitlines() == ["Träffarna är nu:", "- 1 december 09:00"]
    [attachment] = message.iter_attachments()
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "kurstillfalle-7.ics"
    event = Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Svetsning för nybörjare"
    db.session.expire_all()
    assert outgoing.status == OutboxStatus.SENT and outgoing.sent_at is not None
    assert outgoing.claimed_by == "sender-1" and outgoing.attempts == 0


def test_the_sender_logs_in_when_a_username_is_set(ctx, app, smtp_port, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "portal")
    monkeypatch.setitem(app.config, "MAIL_PASSWORD", "hemligt")
    queue()
    with smtp_server(smtp_port, authenticator=accept_any_login, auth_require_tls=False) as inbox:
        assert send_pending("sender-1").sent == 1
    [login] = inbox.logins
    assert (login.login, login.password) == (b"portal", b"hemligt")


def test_one_connection_carries_a_whole_run_oldest_first(ctx, inbox):
    for n in range(3):
        queue(subject=f"Meddelande {n}")

    assert send_pending("sender-1").sent == 3
    assert [message["Subject"] for message in inbox.messages()] == ["Meddelande 0", "Meddelande 1", "Meddelande 2"]


def test_without_a_mail_server_mail_is_written_to_the_log(ctx, no_mail_server, caplog):
    caplog.set_level(logging.INFO, logger="portal.mail")
    outgoing = queue()

    assert send_pending("sender-1").sent == 1

    [record] = [record for record in caplog.records if record.name == "portal.mail"]
    logged = record.getMessage()
    assert "anna@a.se" in logged and "Nya datum: Svetsning för nybörjare" in logged and "1 december 09:00" in logged
    db.session.expire_all()
    assert outgoing.status == OutboxStatus.SENT


def test_an_unreachable_server_keeps_mail_pending_until_a_later_run_succeeds(ctx, make, smtp_port):
    user = make.user(Role.HR, email="hr@a.se")
    notifications.notify(user, "session.postponed", "Uppskjutet: CNC")
    db.session.commit()
    outgoing = db.session.scalars(select(OutboxEmail)).one()
    now = utcnow()

    assert send_pending("sender-1", now=now) == SendReport(retried=1)
    db.session.expire_all()
    assert outgoing.status == OutboxStatus.PENDING and outgoing.attempts == 1
    assert "ConnectionRefusedError" in outgoing.last_error
    assert outgoing.next_attempt_at == now + timedelta(minutes=1)
    assert db.session.scalars(select(Notification)).one().title == "Uppskjutet: CNC"  # the change itself stays

    assert send_pending("sender-1", now=now + timedelta(seconds=30)) == SendReport()  # not due yet
    with smtp_server(smtp_port) as inbox:
        assert send_pending("sender-1", now=now + timedelta(minutes=1)) == SendReport(sent=1)
    assert [message["Subject"] for message in inbox.messages()] == ["Uppskjutet: CNC"]
    db.session.expire_all()
    assert outgoing.status == OutboxStatus.SENT and outgoing.attempts == 1


def test_retries_back_off_doubling_up_to_six_hours_and_then_give_up(ctx, smtp_port):
    outgoing = queue()
    now = utcnow()
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        assert send_pending("sender-1", now=now) == SendReport(retried=1)
        db.session.expire_all()
        waits.append(outgoing.next_attempt_at - now)
        now = outgoing.next_attempt_at

    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360, 360, 360)]
    assert sum(waits, timedelta()) > timedelta(days=1)  # a mail server down for a day loses nothing
    assert send_pending("sender-1", now=now) == SendReport(failed=1)
    db.session.expire_all()
    assert outgoing.status == OutboxStatus.FAILED and outgoing.attempts == MAX_ATTEMPTS
    assert send_pending("sender-1", now=now + timedelta(days=1)) == SendReport()


def test_a_run_stops_at_the_first_failure_and_the_rest_keep_their_turn(ctx, smtp_port):
    first, second = queue(subject="Först"), queue(subject="Sedan")

    assert send_pending("sender-1") == SendReport(retried=1)
    db.session.expire_all()
    assert (first.attempts, second.attempts) == (1, 0)
    assert second.status == OutboxStatus.PENDING


def test_a_claim_abandoned_for_15_minutes_is_sent_again_and_a_fresh_one_is_left_alone(ctx, inbox):
    abandoned, in_progress = queue(subject="Övergiven"), queue(subject="Pågår")
    now = utcnow()
    abandoned.status = in_progress.status = OutboxStatus.SENDING
    abandoned.claimed_by = in_progress.claimed_by = "a-sender-that-died"
    abandoned.claimed_at = now - timedelta(minutes=16)
    in_progress.claimed_at = now - timedelta(minutes=5)
    db.session.commit()

    assert send_pending("sender-1", now=now) == SendReport(sent=1, reclaimed=1)

    assert [message["Subject"] for message in inbox.messages()] == ["Övergiven"]
    db.session.expire_all()
    assert (abandoned.status, abandoned.claimed_by) == (OutboxStatus.SENT, "sender-1")
    assert (in_progress.status, in_progress.claimed_by) == (OutboxStatus.SENDING, "a-sender-that-died")


def test_two_senders_at_once_send_every_message_exactly_once(app, inbox):
    with app.app_context():
        for n in range(60):
            notifications.email(f"person{n}@a.se", f"Meddelande {n}", "Hej")
        db.session.commit()
    start = Barrier(2)

    def sender(name: str) -> SendReport:
        with app.app_context():
            start.wait()
            return send_pending(name, limit=100)

    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(sender, ["sender-1", "sender-2"]))

    arrivals = Counter(recipient for envelope in inbox.envelopes for recipient in envelope.rcpt_tos)
    assert len(arrivals) == 60 and set(arrivals.values()) == {1}
    assert sum(report.sent for report in reports) == 60
    with app.app_context():
        statuses = db.session.scalars(select(OutboxEmail.status)).all()
    assert set(statuses) == {OutboxStatus.SENT}


def test_the_outbox_job_sends_and_logs_a_summary(app, no_mail_server, caplog):
    caplog.set_level(logging.INFO, logger="portal.jobs.outbox")
    with app.app_context():
        queue()

    send_outbox(app)

    assert "Outbox: 1 sent, 0 to retry, 0 given up, 0 reclaimed" in caplog.messages
    with app.app_context():
        assert db.session.scalars(select(OutboxEmail.status)).one() == OutboxStatus.SENT


def test_the_scheduler_runs_the_outbox_job_every_minute_one_run_at_a_time(app):
    scheduler = build_scheduler(app)

    job = scheduler.get_job("send_outbox")
    assert job.func is send_outbox and job.args == (app,)
    assert isinstance(job.trigger, IntervalTrigger) and job.trigger.interval == timedelta(minutes=1)
    assert (job.max_instances, job.coalesce) == (1, True)
    assert str(scheduler.timezone) == "Europe/Stockholm"
    assert not scheduler.running


def test_the_scheduler_command_runs_the_scheduler(app, monkeypatch):
    started = []
    monkeypatch.setattr("portal.jobs.scheduler.run_scheduler", started.append)

    result = app.test_cli_runner().invoke(args=["portal", "scheduler"])

    assert result.exit_code == 0 and started == [app]
