"""Sending the mail outbox over SMTP, so that two senders at once never send one message twice."""
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from flask import current_app
from sqlalchemy import select, update

from portal.extensions import db
from portal.models import OutboxEmail, OutboxStatus
from portal.models.types import utcnow

log = logging.getLogger("portal.mail")

CLAIM_EXPIRES_AFTER = timedelta(minutes=15)  # a sender still "sending" after this has died
MAX_ATTEMPTS = 14  # 1, 2, 4 … minutes, then every 6 hours: about a day and a half of outage
FIRST_RETRY_AFTER = timedelta(minutes=1)  # doubled after every failure
LONGEST_RETRY_AFTER = timedelta(hours=6)
SMTP_TIMEOUT = 10  # seconds


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    reclaimed: int = 0


def send_pending(worker: str, *, limit: int = 50, now: datetime | None = None) -> SendReport:
    """Send up to `limit` due messages, longest due first, as `worker` (a name unique to the process).

    Unlike the other services this one commits: each claim is committed before the SMTP server is
    contacted and each outcome right after, so that no message is sent by two senders at once and
    none is sent again once it went out. The run stops at the first failure: the server is most
    likely down, and the other messages would only wait out the same timeout; they keep their turn.
    `now` is the time the run acts at (tests pass one). Jobs call it; it never reads `request`.
    """
    # A long run moves on through time: each claim and send is stamped when it happens.
    clock = (lambda: now) if now else utcnow
    report = SendReport(reclaimed=_reclaim_abandoned(clock()))
    db.session.commit()
    postman = _Postman()
    try:
        while report.sent + report.retried + report.failed < limit:
            outgoing = _claim_next(worker, clock())
            if outgoing is None:
                break
            try:
                postman.deliver(outgoing)
            except (smtplib.SMTPException, OSError, ValueError) as error:
                # ValueError: a header the email package refuses; it fails for good after the retries.
                _record_failure(outgoing, error, clock(), report)
                db.session.commit()
                break
            outgoing.status = OutboxStatus.SENT
            outgoing.sent_at = clock()
            report.sent += 1
            db.session.commit()
    finally:
        postman.close()
    return report


def _reclaim_abandoned(now: datetime) -> int:
    reclaimed = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.status == OutboxStatus.SENDING, OutboxEmail.claimed_at < now - CLAIM_EXPIRES_AFTER)
        .values(status=OutboxStatus.PENDING, last_error="Its sender stopped while sending it; it may arrive twice.")
    ).rowcount
    if reclaimed:
        log.warning("Reclaimed %d mail(s) abandoned while sending", reclaimed)
    return reclaimed


def _claim_next(worker: str, now: datetime) -> OutboxEmail | None:
    """Claim the next due message for this worker and commit the claim; None when none is due."""
    while True:
        candidate = db.session.scalar(
            select(OutboxEmail.id)
            .where(OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now)
            .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
            .limit(1)
            # PostgreSQL: concurrent senders pick different rows. SQLite ignores it; the guarded update suffices.
            .with_for_update(skip_locked=True)
        )
        if candidate is None:
            db.session.commit()
            return None
        claimed = db.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == candidate, OutboxEmail.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING, claimed_by=worker, claimed_at=now)
        ).rowcount == 1
        db.session.commit()
        if claimed:  # otherwise another sender took it first: try the next one
            return db.session.get(OutboxEmail, candidate)


def _record_failure(outgoing: OutboxEmail, error: Exception, now: datetime, report: SendReport) -> None:
    outgoing.attempts += 1
    outgoing.last_error = f"{type(error).__name__}: {error}"
    if outgoing.attempts >= MAX_ATTEMPTS:
        outgoing.status = OutboxStatus.FAILED
        report.failed += 1
        log.error("Gave up mail %d to %s after %d attempts: %s", outgoing.id, outgoing.to_address,
                  outgoing.attempts, outgoing.last_error)
        return
    outgoing.status = OutboxStatus.PENDING
    outgoing.next_attempt_at = now + min(FIRST_RETRY_AFTER * 2 ** (outgoing.attempts - 1), LONGEST_RETRY_AFTER)
    report.retried += 1
    log.warning("Mail %d to %s not sent (attempt %d), retrying at %s: %s", outgoing.id, outgoing.to_address,
                outgoing.attempts, outgoing.next_attempt_at.isoformat(timespec="seconds"), outgoing.last_error)


class _Postman:
    """Delivers over one SMTP connection per run, opened at the first message; without a
    MAIL_SERVER (development) it writes each message to the log instead."""

    def __init__(self) -> None:
        self.config = current_app.config
        self.smtp: smtplib.SMTP | None = None

    def deliver(self, outgoing: OutboxEmail) -> None:
        if not self.config["MAIL_SERVER"]:
            attached = f"\n[attachment: {outgoing.attachment_name}]" if outgoing.attachment_name else ""
            log.info("Mail to %s: %s\n%s%s", outgoing.to_address, outgoing.subject, outgoing.body_text, attached)
            return
        message = _email_message(outgoing, self.config["MAIL_SENDER"])
        if self.smtp is None:
            self.smtp = smtplib.SMTP(self.config["MAIL_SERVER"], self.config["MAIL_PORT"], timeout=SMTP_TIMEOUT)
            if self.config["MAIL_USE_TLS"]:
                # An explicit context: without one smtplib does not verify the server's certificate.
                self.smtp.starttls(context=ssl.create_default_context())
            if self.config["MAIL_USERNAME"]:
                self.smtp.login(self.config["MAIL_USERNAME"], self.config["MAIL_PASSWORD"])
        self.smtp.send_message(message)

    def close(self) -> None:
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()
        self.smtp = None


def _email_message(outgoing: OutboxEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = outgoing.to_address
    message["Subject"] = outgoing.subject
    message["Date"] = format_datetime(outgoing.created_at)
    # The same id on every attempt lets mail clients drop a copy that an abandoned sender already sent.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<outbox.{outgoing.id}.{outgoing.created_at:%Y%m%d%H%M%S}@{domain}>"
    message.set_content(outgoing.body_text)
    if outgoing.attachment_content is not None:
        # Attachments are stored as text, so they go out as text/<subtype> in UTF-8.
        subtype = outgoing.attachment_type.partition("/")[2] if outgoing.attachment_type else "plain"
        message.add_attachment(outgoing.attachment_content, subtype=subtype, filename=outgoing.attachment_name)
    return message
