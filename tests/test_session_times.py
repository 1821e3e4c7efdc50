"""A session's dates (its first meeting's start, its last meeting's end) follow its meetings in every flush,
whichever way the meetings change, so the lists that filter and order by them never go stale."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select

from portal.extensions import db
from portal.models import Meeting, Role, Session, SessionStatus
from portal.services import catalogue
from portal.services.catalogue import MeetingData
from portal.services.search import CatalogueFilters, search_sessions

SOON = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(days=30)


@pytest.fixture
def req(app, ctx):
    with app.test_request_context():
        yield


def stored(session: Session) -> tuple[datetime | None, datetime | None]:
    """The dates as the database holds them, not as the object in memory has them."""
    db.session.expire_all()
    return db.session.execute(select(Session.starts_at, Session.ends_at).where(Session.id == session.id)).one()


def meeting_data(make, day: int, start_hour: int = 8, hours: int = 6) -> MeetingData:
    starts = SOON + timedelta(days=day, hours=start_hour)
    return MeetingData(starts_at=starts, ends_at=starts + timedelta(hours=hours), venue="Verkstaden",
                       municipality_id=make.municipality("Karlstad").id)


def test_a_new_session_carries_its_first_start_and_last_end(make):
    session = make.session(starts_at=SOON, meetings=3)
    assert stored(session) == (SOON, SOON + timedelta(days=2, hours=6))


def test_meetings_added_moved_and_removed_move_the_dates(make):
    session = make.session(starts_at=SOON, meetings=2)
    earlier = Meeting(starts_at=SOON - timedelta(days=5), ends_at=SOON - timedelta(days=5, hours=-2))
    session.meetings.append(earlier)
    db.session.commit()
    assert stored(session) == (SOON - timedelta(days=5), SOON + timedelta(days=1, hours=6))

    last = db.session.scalars(select(Meeting).where(Meeting.session_id == session.id).order_by(Meeting.starts_at.desc())).first()
    last.starts_at, last.ends_at = SOON + timedelta(days=20), SOON + timedelta(days=20, hours=3)
    db.session.commit()
    assert stored(session) == (SOON - timedelta(days=5), SOON + timedelta(days=20, hours=3))

    session = db.session.get(Session, session.id)
    session.meetings.remove(session.meetings[0])  # the earliest: an orphan, deleted
    db.session.commit()
    assert stored(session) == (SOON, SOON + timedelta(days=20, hours=3))

    db.session.delete(db.session.scalars(select(Meeting).where(Meeting.session_id == session.id)
                                         .order_by(Meeting.starts_at.desc())).first())
    db.session.commit()
    assert stored(session) == (SOON, SOON + timedelta(hours=6))


def test_the_providers_changes_move_the_dates_and_the_catalogue_order(make, req):
    provider_user = make.user(Role.PROVIDER)
    course = make.course(provider_user.provider)
    later = make.session(course, starts_at=SOON + timedelta(days=10, hours=8))
    moved = make.session(course, starts_at=SOON + timedelta(days=2, hours=8))
    assert [row.session_id for row in search_sessions(CatalogueFilters()).items] == [moved.id, later.id]

    catalogue.change_session_dates(moved, provider_user, [meeting_data(make, 20)], moved.booking_deadline,
                                   moved.cancellation_deadline)
    db.session.commit()
    assert stored(moved) == (SOON + timedelta(days=20, hours=8), SOON + timedelta(days=20, hours=14))
    assert [row.session_id for row in search_sessions(CatalogueFilters()).items] == [later.id, moved.id]

    later = db.session.get(Session, later.id)
    catalogue.add_meeting(later, provider_user, meeting_data(make, 30))
    db.session.commit()
    assert stored(later) == (SOON + timedelta(days=10, hours=8), SOON + timedelta(days=30, hours=14))
    catalogue.remove_meeting(later, provider_user, later.meetings[0])
    db.session.commit()
    assert stored(later) == (SOON + timedelta(days=30, hours=8), SOON + timedelta(days=30, hours=14))


def test_a_session_whose_meetings_are_untouched_is_not_read_again(make):
    """Booking, postponing or cancelling changes a session, not its meetings: the flush reads nothing more."""
    session = make.session(starts_at=SOON, meetings=2)
    db.session.expire_all()
    session = db.session.get(Session, session.id)
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731  (conn, cursor, statement, ...)
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        session.status = SessionStatus.POSTPONED
        db.session.flush()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert [s.split()[0] for s in statements] == ["UPDATE"]
    assert stored(session)[0] == SOON


def test_a_meeting_added_or_moved_by_its_session_id_dates_both_sessions(make):
    first = make.session(starts_at=SOON, meetings=2)
    other = make.session(starts_at=SOON + timedelta(days=20), meetings=1)
    db.session.add(Meeting(session_id=first.id, starts_at=SOON + timedelta(days=9), ends_at=SOON + timedelta(days=9, hours=2)))
    db.session.commit()
    assert stored(first) == (SOON, SOON + timedelta(days=9, hours=2))

    db.session.expire_all()  # neither session's meetings loaded: only the meeting's own column changes
    moved = db.session.scalars(select(Meeting).where(Meeting.session_id == first.id).order_by(Meeting.starts_at.desc())).first()
    moved.session_id = other.id
    db.session.commit()
    assert stored(first) == (SOON, SOON + timedelta(days=1, hours=6))
    assert stored(other) == (SOON + timedelta(days=9), SOON + timedelta(days=20, hours=6))

    moved = db.session.get(Meeting, moved.id)
    moved.session = db.session.get(Session, first.id)  # the other way, through the relationship
    db.session.commit()
    assert stored(first) == (SOON, SOON + timedelta(days=9, hours=2))
    assert stored(other) == (SOON + timedelta(days=20), SOON + timedelta(days=20, hours=6))


def test_a_meeting_deleted_earlier_in_the_transaction_stays_out(make):
    session = make.session(starts_at=SOON, meetings=3)
    session = db.session.get(Session, session.id)
    db.session.delete(session.meetings[-1])
    db.session.flush()  # the loaded collection still holds the deleted meeting
    session.meetings[0].starts_at = SOON - timedelta(hours=1)
    db.session.commit()
    assert stored(session) == (SOON - timedelta(hours=1), SOON + timedelta(days=1, hours=6))


def test_the_session_in_memory_has_its_new_dates_after_the_flush(make):
    session = make.session(starts_at=SOON, meetings=1)
    session.meetings.append(Meeting(starts_at=SOON + timedelta(days=3), ends_at=SOON + timedelta(days=3, hours=2)))
    db.session.flush()
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        dates = (session.starts_at, session.ends_at)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert dates == (SOON, SOON + timedelta(days=3, hours=2)) and statements == []


def test_a_session_without_meetings_has_no_dates(make):
    session = make.session(starts_at=SOON, meetings=1)
    session.meetings.clear()
    db.session.commit()
    assert stored(session) == (None, None)
