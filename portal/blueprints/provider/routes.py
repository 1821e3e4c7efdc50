"""A provider's own catalogue: courses, sessions and their meetings."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from portal.access import load_or_404
from portal.blueprints.helpers import attempt
from portal.blueprints.provider.forms import AddMeetingForm, CourseForm, DatesForm, ReasonForm, SessionForm, SessionSettingsForm
from portal.models import Course, Meeting, Role, Session
from portal.security import gate_blueprint
from portal.services import catalogue as service
from portal.services import provider_views, rescheduling

bp = Blueprint("provider", __name__, url_prefix="/provider")
gate_blueprint(bp, Role.PROVIDER)


def _status(form=None) -> int:
    """A form page shown again after a POST was refused (not merely grown by a row) answers 422."""
    grown = form is not None and form.add_meeting.data
    return 422 if request.method == "POST" and not grown else 200


def _course(course_id: int) -> Course:
    return load_or_404(Course, course_id, current_user, manage=True, options=[selectinload(Course.competence_areas)])


def _session(session_id: int) -> Session:
    return load_or_404(
        Session, session_id, current_user, manage=True,
        options=[selectinload(Session.meetings).joinedload(Meeting.municipality), joinedload(Session.course)],
    )


@bp.route("/courses")
def courses():
    page = provider_views.courses_of(current_user.provider_id, request.args.get("page", 1, type=int))
    return render_template("provider/courses.html", page=page)


@bp.route("/courses/new", methods=["GET", "POST"])
def new_course():
    form = CourseForm()
    if form.validate_on_submit():
        course = attempt(lambda: service.create_course(current_user, form.data_for_service()), form)
        if course:
            flash(_("The course is saved. Now publish its first session."), "success")
            return redirect(url_for(".course", course_id=course.id))
    return render_template("provider/course_form.html", form=form, course=None), _status()


@bp.route("/courses/<int:course_id>")
def course(course_id: int):
    found = _course(course_id)
    return render_template("provider/course.html", course=found, sessions=provider_views.sessions_of_course(found.id),
                           reason_form=ReasonForm())


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
def edit_course(course_id: int):
    found = _course(course_id)
    form = CourseForm() if request.method == "POST" else CourseForm.for_course(found)
    if form.validate_on_submit() and attempt(lambda: service.update_course(found, current_user, form.data_for_service()), form):
        flash(_("The course is saved."), "success")
        return redirect(url_for(".course", course_id=found.id))
    return render_template("provider/course_form.html", form=form, course=found), _status()


@bp.route("/courses/<int:course_id>/retire", methods=["POST"])
def retire_course(course_id: int):
    found = _course(course_id)
    if attempt(lambda: service.retire_course(found, current_user)):
        flash(_("The course is retired: it has left the catalogue and takes no new sessions."), "success")
    return redirect(url_for(".course", course_id=course_id))


@bp.route("/courses/<int:course_id>/reinstate", methods=["POST"])
def reinstate_course(course_id: int):
    found = _course(course_id)
    if attempt(lambda: service.reinstate_course(found, current_user)):
        flash(_("The course is back in the catalogue."), "success")
    return redirect(url_for(".course", course_id=course_id))


@bp.route("/courses/<int:course_id>/sessions/new", methods=["GET", "POST"])
def new_session(course_id: int):
    found = _course(course_id)
    form = SessionForm()
    form.prepare_meetings()
    if request.method == "POST" and not form.grow_if_asked() and form.validate():
        created = attempt(
            lambda: service.create_session(found, current_user, form.data_for_service(), publish=bool(form.publish.data)),
            form,
        )
        if created:
            flash(_("The session is published.") if form.publish.data else _("The session is saved as planned."), "success")
            return redirect(url_for(".session", session_id=created.id))
    return render_template("provider/session_form.html", form=form, course=found), _status(form)


@bp.route("/sessions/<int:session_id>")
def session(session_id: int):
    return _session_page(_session(session_id), AddMeetingForm().prepare())


def _session_page(found: Session, add_form: AddMeetingForm, status: int = 200):
    return render_template(
        "provider/session.html", session=found, seats=provider_views.seats(found.id),
        bookings=provider_views.participants(found.id), add_form=add_form, reason_form=ReasonForm(),
        proposal=rescheduling.proposal_for(found),
    ), status


@bp.route("/sessions/<int:session_id>/proposal/confirm", methods=["POST"])
def confirm_proposal(session_id: int):
    found = _session(session_id)
    proposal = rescheduling.proposal_for(found)
    if proposal is None:
        flash(_("No proposed dates wait for this session."), "error")
        return redirect(url_for(".session", session_id=session_id))
    confirmed = attempt(lambda: rescheduling.confirm_proposal(proposal, current_user))
    if confirmed:
        flash(_("The new dates are confirmed: the session is open again and everyone booked has been told."), "success")
    elif confirmed is False:
        flash(_("The proposed dates no longer fit (the venue or a restriction changed meanwhile). "
                "New dates are proposed below."), "error")
    return redirect(url_for(".session", session_id=session_id))


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
def edit_session(session_id: int):
    found = _session(session_id)
    form = SessionSettingsForm() if request.method == "POST" else SessionSettingsForm.for_session(found)
    if form.validate_on_submit():
        meetings = service.meetings_as_data(found.meetings)
        if attempt(lambda: service.update_session(found, current_user, form.data_for_service(meetings)), form):
            flash(_("The session is saved."), "success")
            return redirect(url_for(".session", session_id=session_id))
    return render_template("provider/session_settings.html", form=form, session=found), _status()


@bp.route("/sessions/<int:session_id>/publish", methods=["POST"])
def publish_session(session_id: int):
    found = _session(session_id)
    if attempt(lambda: service.publish_session(found, current_user)):
        flash(_("The session is published."), "success")
    return redirect(url_for(".session", session_id=session_id))


@bp.route("/sessions/<int:session_id>/meetings", methods=["POST"])
def add_meeting(session_id: int):
    found = _session(session_id)
    form = AddMeetingForm().prepare()
    if form.validate_on_submit():
        # The service names the new meeting's fields `meetings-<n>-…`; here they are `meeting-…`.
        prefix = f"meetings-{len(found.meetings)}-"
        added = attempt(lambda: service.add_meeting(found, current_user, form.meeting.form.meeting_data()), form,
                        key=lambda name: name.replace(prefix, "meeting-"))
        if added:
            flash(_("The meeting is added and everyone booked has been told."), "success")
            return redirect(url_for(".session", session_id=session_id))
        found = _session(session_id)
    return _session_page(found, form, 422)


@bp.route("/sessions/<int:session_id>/meetings/<int:meeting_id>/remove", methods=["POST"])
def remove_meeting(session_id: int, meeting_id: int):
    found = _session(session_id)
    meeting = next((m for m in found.meetings if m.id == meeting_id), None)
    if meeting is None:
        flash(_("That meeting is not part of this session."), "error")
    elif attempt(lambda: service.remove_meeting(found, current_user, meeting)):
        flash(_("The meeting is removed and everyone booked has been told."), "success")
    return redirect(url_for(".session", session_id=session_id))


@bp.route("/sessions/<int:session_id>/dates", methods=["GET", "POST"])
def change_dates(session_id: int):
    found = _session(session_id)
    proposal = rescheduling.proposal_for(found)
    if request.method == "POST":
        form = DatesForm()
    elif proposal is not None and proposal.meetings:  # start from the proposed dates
        form = DatesForm.for_dates(*rescheduling.proposed_dates(proposal, found))
    else:
        form = DatesForm.for_session(found)
    form.prepare_meetings()
    clashes = None
    if request.method == "POST" and not form.grow_if_asked() and form.validate():
        try:
            changed = attempt(lambda: service.change_session_dates(
                found, current_user, form.meetings_data(), *form.deadlines(),
                confirmed_clashes=form.confirmed_count(),
            ), form, passthrough=(service.ClashesToConfirm,))
        except service.ClashesToConfirm as pending:
            # Nothing is saved until the provider has seen how many would clash and saves again.
            clashes = pending.count
            form.confirmed_clashes.data = str(clashes)
        else:
            if changed:
                flash(_("The new dates are saved and everyone booked has been told."), "success")
                return redirect(url_for(".session", session_id=session_id))
            found = _session(session_id)
    return render_template("provider/dates_form.html", form=form, session=found, clashes=clashes), _status(form)


@bp.route("/sessions/<int:session_id>/postpone", methods=["POST"])
def postpone_session(session_id: int):
    found = _session(session_id)
    form = ReasonForm()
    if _valid_reason(form) and attempt(lambda: service.postpone_session(found, current_user, form.reason.data or "")):
        flash(_("The session is postponed; bookings are kept and everyone booked has been told."), "success")
    return redirect(url_for(".session", session_id=session_id))


@bp.route("/sessions/<int:session_id>/cancel", methods=["POST"])
def cancel_session(session_id: int):
    found = _session(session_id)
    form = ReasonForm()
    if _valid_reason(form) and attempt(lambda: service.cancel_session(found, current_user, form.reason.data or "")):
        flash(_("The session is cancelled; everyone booked has been told."), "success")
    return redirect(url_for(".session", session_id=session_id))


def _valid_reason(form: ReasonForm) -> bool:
    if form.validate_on_submit():
        return True
    for message in form.reason.errors:
        flash(message, "error")
    return False
