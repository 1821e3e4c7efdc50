"""Blueprints: thin HTTP adapters over the services, one folder per area."""
from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError


def register_blueprints(app: Flask) -> None:
    from portal.blueprints.attendance.routes import bp as attendance_bp
    from portal.blueprints.auth.routes import bp as auth_bp
    from portal.blueprints.booking.routes import bp as booking_bp
    from portal.blueprints.catalogue.routes import bp as catalogue_bp
    from portal.blueprints.hours.routes import bp as hours_bp
    from portal.blueprints.jobs import bp as jobs_bp
    from portal.blueprints.layout import init_layout
    from portal.blueprints.restriction_labels import init_restriction_labels
    from portal.blueprints.main.routes import bp as main_bp
    from portal.blueprints.notifications.routes import bp as notifications_bp
    from portal.blueprints.plans.routes import bp as plans_bp
    from portal.blueprints.privacy.routes import bp as privacy_bp
    from portal.blueprints.provider.routes import bp as provider_bp
    from portal.blueprints.reports.routes import bp as reports_bp
    from portal.blueprints.restrictions.routes import bp as restrictions_bp
    from portal.blueprints.roster.routes import bp as roster_bp
    from portal.blueprints.users.routes import bp as users_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(provider_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(booking_bp)
    app.register_blueprint(roster_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(hours_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(restrictions_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(users_bp)
    app.register_blueprint(privacy_bp)
    init_layout(app)
    init_restriction_labels(app)
    _register_error_pages(app)

    @app.after_request
    def _vary_on_htmx(response):
        # The same URL answers a fragment to htmx and a full page otherwise.
        response.vary.add("HX-Request")
        return response


def _register_error_pages(app: Flask) -> None:
    for code in (400, 403, 404, 405, 500):
        app.register_error_handler(code, _error_page(code))

    @app.errorhandler(OperationalError)
    def _busy(error):
        # A lock not had in time (another booking holds the session), or the database away.
        from portal.extensions import db

        db.session.rollback()
        app.logger.warning("database busy or unavailable: %s", error)
        return render_template("errors/error.html", code=503), 503

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        return render_template("errors/error.html", code=400, csrf=True), 400


def _error_page(code: int):
    def handler(error):
        if code == 500:
            from portal.extensions import db

            db.session.rollback()
        return render_template("errors/error.html", code=code), code

    return handler
