"""Configuration defaults; environment variables override them in production."""
import os
from pathlib import Path


DEVELOPMENT_SECRET_KEY = "dev-only-secret-change-me"


class Config:
    # PORTAL_ENV=production: a real secret key is required, debugging refused, cookies secure, HSTS sent.
    PRODUCTION = os.environ.get("PORTAL_ENV") == "production"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None: SQLite in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    PROGRAMME_TIMEZONE = "Europe/Stockholm"
    BABEL_DEFAULT_LOCALE = "sv"
    BABEL_DEFAULT_TIMEZONE = "Europe/Stockholm"
    LANGUAGES = ("sv", "en")
    PASSWORD_HASH_METHOD = "scrypt"
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 30
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = PRODUCTION or os.environ.get("PORTAL_SECURE_COOKIES") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    WTF_CSRF_HEADERS = ["X-CSRFToken"]
    # How many reverse proxies (nginx, a load balancer) stand in front of gunicorn. Sign-in
    # throttling counts attempts per client address: behind a proxy, without this, every visitor
    # would share the proxy's address. 0 (the default) trusts no X-Forwarded-* header at all.
    PORTAL_PROXIES = int(os.environ.get("PORTAL_PROXIES", "0"))
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the signed session
    # Where people reach the portal; links in mail sent by scheduled jobs start with it.
    PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:5000")
    # The scheduler: when the daily rescheduling runs (local time), and how many days ahead meetings are reminded.
    PORTAL_RESCHEDULE_AT = os.environ.get("PORTAL_RESCHEDULE_AT", "05:30")
    PORTAL_REMINDER_DAYS = int(os.environ.get("PORTAL_REMINDER_DAYS", "2"))
    PORTAL_PURGE_AT = os.environ.get("PORTAL_PURGE_AT", "03:15")
    # bench/run.py only: count SQL statements per response and serve the floor route (portal/bench.py).
    PORTAL_BENCH = os.environ.get("PORTAL_BENCH") == "1"
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")  # empty: mail is written to the log
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "portal@kompetenslyft.example")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")  # empty: no login
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS") == "1"  # STARTTLS after connecting


def sqlite_uri(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "portal.sqlite")
