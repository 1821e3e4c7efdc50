"""What every response carries for the browser's protection, and the settings production refuses."""
from flask import Flask

from portal.config import DEVELOPMENT_SECRET_KEY

# No inline script, no eval (htmx is told so in base.html), nothing framed, no plugins; only our own files.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"


def init_headers(app: Flask) -> None:
    @app.after_request
    def _protect(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        # Same-origin requests keep their Referer, which the CSRF check needs over HTTPS; others get none.
        headers["Referrer-Policy"] = "same-origin"
        if app.config["PRODUCTION"]:
            headers["Strict-Transport-Security"] = HSTS
        return response


def refuse_unsafe_production(app: Flask) -> None:
    """In production the app does not start with the development secret key or with debugging on."""
    if not app.config["PRODUCTION"]:
        return
    if app.config["SECRET_KEY"] in (None, "", DEVELOPMENT_SECRET_KEY) or len(app.config["SECRET_KEY"]) < 32:
        raise RuntimeError("PORTAL_ENV=production needs SECRET_KEY set to a long random value (32 characters or more).")
    if app.debug or app.config.get("DEBUG"):
        raise RuntimeError("PORTAL_ENV=production refuses to run with debugging on (FLASK_DEBUG).")
    if app.config.get("PORTAL_BENCH"):
        raise RuntimeError("PORTAL_ENV=production refuses the benchmark instrumentation (PORTAL_BENCH).")
