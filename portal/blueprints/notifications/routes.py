"""Each user's own notifications: the list, the unread count in the header, marking read."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.access import load_or_404
from portal.extensions import db, htmx
from portal.models import Notification
from portal.services import notifications as service

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.before_request
@login_required
def _signed_in():
    return None


@bp.route("/")
def index():
    page = service.notifications_of(current_user, request.args.get("page", 1, type=int))
    return render_template("notifications/index.html", page=page)


@bp.route("/unread")
def unread():
    """The header's badge, which htmx refreshes now and then."""
    return render_template("notifications/_badge.html", unread=service.unread_count(current_user))


@bp.route("/<int:notification_id>/read", methods=["POST"])
def read(notification_id: int):
    note = load_or_404(Notification, notification_id, current_user)
    service.mark_read(current_user, note.id)
    db.session.commit()
    if htmx:
        # The notification, now read, and the header's badge out of band.
        return render_template("notifications/_read.html", note=note, unread=service.unread_count(current_user))
    return redirect(url_for(".index", page=request.args.get("page", 1, type=int)))


@bp.route("/read-all", methods=["POST"])
def read_all():
    service.mark_all_read(current_user)
    db.session.commit()
    return redirect(url_for(".index"))
