"""The reminder job: tell everyone booked of their meetings a few days ahead (PORTAL_REMINDER_DAYS)."""
from flask import Flask, current_app

from portal.jobs import run_in
from portal.services.reminders import send_reminders


def send_meeting_reminders(app: Flask) -> None:
    run_in(app, "send_meeting_reminders",
           lambda: {"reminded": send_reminders(days_before=current_app.config["PORTAL_REMINDER_DAYS"])})
