"""Forms for a provider's courses, sessions and meetings. Times are entered in Swedish time."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from sqlalchemy import select
from wtforms import (
    BooleanField, DateField, DateTimeLocalField, DecimalField, FieldList, Form, FormField, HiddenField,
    IntegerField, RadioField, StringField, SubmitField, TextAreaField, TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.blueprints.fields import SelectField, SelectMultipleField
from portal.blueprints.layout import FORMAT_LABELS, LEVEL_LABELS
from portal.extensions import db
from portal.i18n import from_local, swedish_order, to_local
from portal.models import CompetenceArea, CourseFormat, CourseLevel, Meeting, Municipality, Region, Session
from portal.blueprints.validators import optional_int, clean_text, count_seen, existing_local_time, finite, within_years
from portal.services.catalogue import MAX_MEETINGS, CourseData, MeetingData, SessionData

LANGUAGES = [SelectChoice("sv", _l("Swedish")), SelectChoice("en", _l("English"))]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CourseForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)], filters=[clean_text])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)], filters=[clean_text])
    competence_area_ids = MultiCheckboxField(_l("Competence areas"), coerce=int)
    format = RadioField(_l("Format"), choices=[SelectChoice(value, label) for value, label in FORMAT_LABELS.items()],
                        validators=[InputRequired()])
    nominal_hours = DecimalField(_l("Nominal hours"), places=1, validators=[InputRequired(), finite, NumberRange(0.5, 2000)])
    level = SelectField(_l("Level"), choices=[SelectChoice(value, label) for value, label in LEVEL_LABELS.items()])
    language = SelectField(_l("Language"), choices=LANGUAGES)
    certified = BooleanField(_l("Certified (e.g. by Teknikcollege)"))
    shared_niche = BooleanField(_l("Shared niche course (seats employees from several companies)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        areas = db.session.scalars(select(CompetenceArea).order_by(CompetenceArea.name_sv))
        self.competence_area_ids.choices = [SelectChoice(area.id, area.name_sv) for area in areas]

    @classmethod
    def for_course(cls, course):
        return cls(
            obj=course, competence_area_ids=[a.id for a in course.competence_areas],
            format=course.format.value, level=course.level.value, nominal_hours=course.nominal_minutes / 60,
        )

    def data_for_service(self) -> CourseData:
        return CourseData(
            title=self.title.data, description=self.description.data or "",
            competence_area_ids=list(self.competence_area_ids.data or []), format=CourseFormat(self.format.data),
            nominal_minutes=round(float(self.nominal_hours.data) * 60), level=CourseLevel(self.level.data),
            language=self.language.data, certified=self.certified.data, shared_niche=self.shared_niche.data,
        )


def municipality_choices() -> list[SelectChoice]:
    """Every municipality, grouped by region, for a select with optgroups."""
    rows = db.session.execute(
        select(Region.name, Municipality.id, Municipality.name)
        .join(Municipality.region)
        .order_by(Region.name, Municipality.name)
    )
    rows = sorted(rows, key=lambda row: (swedish_order(row[0]), swedish_order(row[2])))
    choices = [SelectChoice("", _l("None: online only"))]
    choices += [SelectChoice(municipality_id, name, optgroup=region) for region, municipality_id, name in rows]
    return choices


class MeetingForm(Form):
    class Meta:
        def get_translations(self, form):
            # A subform is a plain WTForms form: without this its built-in messages ("Not a valid date
            # value.") stayed in English on a Swedish page.
            return wtforms_translations

    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Give a date.")), within_years])
    starts_at = TimeField(_l("Starts"), validators=[InputRequired(message=_l("Give a start time.")), existing_local_time("day")])
    ends_at = TimeField(_l("Ends"), validators=[InputRequired(message=_l("Give an end time.")), existing_local_time("day")])
    venue = StringField(_l("Venue"), validators=[Length(max=200)], filters=[clean_text])
    municipality_id = SelectField(_l("Municipality"), coerce=optional_int, validate_choice=True)
    online_url = URLField(_l("Online link"), validators=[Optional(), URL(message=_l("Give a full link starting with https://.")), Length(max=500)], filters=[clean_text])

    def meeting_data(self) -> MeetingData:
        return MeetingData(
            starts_at=from_local(self.day.data, self.starts_at.data),
            ends_at=from_local(self.day.data, self.ends_at.data),
            venue=self.venue.data or "", municipality_id=self.municipality_id.data,
            online_url=self.online_url.data or "",
        )

    @staticmethod
    def values_of(meeting: Meeting | MeetingData) -> dict:
        starts, ends = to_local(meeting.starts_at), to_local(meeting.ends_at)
        return {"day": starts.date(), "starts_at": starts.time(), "ends_at": ends.time(), "venue": meeting.venue,
                "municipality_id": meeting.municipality_id, "online_url": meeting.online_url or ""}


def _set_municipalities(meeting_forms) -> None:
    choices = municipality_choices()
    for entry in meeting_forms:
        entry.form.municipality_id.choices = choices


class MeetingsMixin:
    """A form with a list of meetings, one more added by the `add_meeting` button."""

    max_meetings = MAX_MEETINGS

    def prepare_meetings(self) -> None:
        _set_municipalities(self.meetings.entries)

    def meetings_data(self) -> list[MeetingData]:
        return [entry.form.meeting_data() for entry in self.meetings.entries]

    def grow_if_asked(self) -> bool:
        """The 'add a meeting' button: one more empty row, nothing saved."""
        if not self.add_meeting.data:
            return False
        if len(self.meetings.entries) < MAX_MEETINGS:
            self.meetings.append_entry()
            self.prepare_meetings()
        return True


class SessionForm(MeetingsMixin, FlaskForm):
    capacity = IntegerField(_l("Capacity (seats)"), validators=[InputRequired(), NumberRange(1, 10000)])
    min_participants = IntegerField(_l("Minimum participants"), default=0, validators=[InputRequired(), NumberRange(0, 10000)])
    company_seat_cap = IntegerField(_l("Seat cap per company"), validators=[Optional(), NumberRange(1, 10000)])
    seat_cap_released_at = DateTimeLocalField(_l("Seat cap released at"), validators=[Optional(), within_years])
    booking_deadline = DateTimeLocalField(_l("Booking deadline"), validators=[InputRequired(message=_l("Give a date and time.")), within_years])
    cancellation_deadline = DateTimeLocalField(_l("Cancellation deadline"), validators=[InputRequired(message=_l("Give a date and time.")), within_years])
    note = TextAreaField(_l("Note to participants"), validators=[Length(max=2000)], filters=[clean_text])
    meetings = FieldList(FormField(MeetingForm), min_entries=1, max_entries=MAX_MEETINGS + 1)
    add_meeting = SubmitField(_l("Add another meeting"))
    publish = SubmitField(_l("Publish"))
    save_planned = SubmitField(_l("Save as planned (not yet bookable)"))

    @classmethod
    def for_session(cls, session: Session, **kwargs):
        form = cls(data={
            "capacity": session.capacity, "min_participants": session.min_participants,
            "company_seat_cap": session.company_seat_cap,
            "seat_cap_released_at": to_local(session.seat_cap_released_at) if session.seat_cap_released_at else None,
            "booking_deadline": to_local(session.booking_deadline),
            "cancellation_deadline": to_local(session.cancellation_deadline),
            "note": session.note, "meetings": [MeetingForm.values_of(m) for m in session.meetings],
        }, **kwargs)
        return form

    def data_for_service(self, meetings: list[MeetingData] | None = None) -> SessionData:
        return SessionData(
            capacity=self.capacity.data, min_participants=self.min_participants.data,
            company_seat_cap=self.company_seat_cap.data,
            seat_cap_released_at=_utc(self.seat_cap_released_at.data),
            booking_deadline=_utc(self.booking_deadline.data),
            cancellation_deadline=_utc(self.cancellation_deadline.data),
            note=self.note.data or "", meetings=self.meetings_data() if meetings is None else meetings,
        )


class SessionSettingsForm(SessionForm):
    """The same settings without the meetings, which change on their own."""

    meetings = None
    add_meeting = None
    publish = None
    save_planned = None
    save = SubmitField(_l("Save"))

    def prepare_meetings(self) -> None:
        pass


class DatesForm(MeetingsMixin, FlaskForm):
    booking_deadline = SessionForm.booking_deadline
    cancellation_deadline = SessionForm.cancellation_deadline
    meetings = FieldList(FormField(MeetingForm), min_entries=1, max_entries=MAX_MEETINGS + 1)
    add_meeting = SubmitField(_l("Add another meeting"))
    confirmed_clashes = HiddenField()
    save = SubmitField(_l("Save the new dates"))

    @classmethod
    def for_session(cls, session: Session, **kwargs):
        return cls.for_dates(session.meetings, session.booking_deadline, session.cancellation_deadline, **kwargs)

    @classmethod
    def for_dates(cls, meetings, booking_deadline, cancellation_deadline, **kwargs):
        """Meetings (or MeetingData) and deadlines as the form's starting values."""
        return cls(data={
            "booking_deadline": to_local(booking_deadline), "cancellation_deadline": to_local(cancellation_deadline),
            "meetings": [MeetingForm.values_of(m) for m in meetings],
        }, **kwargs)

    def deadlines(self):
        return _utc(self.booking_deadline.data), _utc(self.cancellation_deadline.data)

    def confirmed_count(self) -> int | None:
        return count_seen(self.confirmed_clashes.data)


class AddMeetingForm(FlaskForm):
    meeting = FormField(MeetingForm)
    add = SubmitField(_l("Add the meeting"))

    def prepare(self) -> "AddMeetingForm":
        _set_municipalities([self.meeting])
        return self


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason (sent to everyone booked)"), validators=[Length(max=1000)], filters=[clean_text])


def _utc(value):
    return from_local(value.date(), value.time()) if value else None
