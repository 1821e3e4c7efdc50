"""Pooled demand: plan needs that no booked or open session covers, pooled across companies by
competence area and region, so providers and the programme office see where a shared session
would fill. Only companies and head counts leave this module, never employees' names."""
from collections import defaultdict
from dataclasses import dataclass

from flask_babel import force_locale, gettext as _
from sqlalchemy import func, insert, select

from portal.extensions import db
from portal.models import (
    Booking, BookingStatus, Company, CompetenceArea, Course, Meeting, Municipality, NeedNotice, PlanItem, Region,
    Session, SessionStatus, TrainingPlan,
)
from portal.models.catalogue import course_competence_areas
from portal.models.plans import plan_item_employees
from portal.models.types import utcnow
from portal.services import notifications
from portal.urls import external_url

LIVE = (BookingStatus.BOOKED, BookingStatus.WAITLISTED)


@dataclass(frozen=True)
class Need:
    """What one plan item still needs: how many people, where, in which area and quarter."""

    item_id: int
    company_id: int
    region_id: int
    area_id: int
    course_id: int | None
    people: int
    year: int
    quarter: int


@dataclass(frozen=True)
class Pool:
    area: str
    region: str
    companies: int
    people: int
    by_quarter: dict[str, int]  # "2027 K1" -> people


def open_needs(except_session_id: int | None = None) -> list[Need]:
    """Every plan item with people still unbooked and no open session of its area in its region
    (not counting `except_session_id`)."""
    rows = db.session.execute(
        select(PlanItem.id, TrainingPlan.company_id, Municipality.region_id, PlanItem.competence_area_id,
               PlanItem.course_id, PlanItem.head_count, PlanItem.target_year, PlanItem.target_quarter)
        .join(TrainingPlan, TrainingPlan.id == PlanItem.plan_id)
        .join(Company, Company.id == TrainingPlan.company_id)
        .join(Municipality, Municipality.id == Company.municipality_id)
    ).all()
    named = dict(db.session.execute(
        select(plan_item_employees.c.plan_item_id, func.count()).group_by(plan_item_employees.c.plan_item_id)
    ).all())
    covered = dict(db.session.execute(
        select(Booking.plan_item_id, func.count(func.distinct(Booking.employee_id)))
        .where(Booking.plan_item_id.is_not(None), Booking.status.in_(LIVE))
        .group_by(Booking.plan_item_id)
    ).all())
    offered = open_offers(except_session_id)
    needs = []
    for item_id, company_id, region_id, area_id, course_id, head_count, year, quarter in rows:
        people = (named.get(item_id) or head_count or 0) - covered.get(item_id, 0)
        on_offer = (area_id, region_id) in offered["areas"] or (course_id, region_id) in offered["courses"] \
            or area_id in offered["digital_areas"]
        if people > 0 and not on_offer:
            needs.append(Need(item_id, company_id, region_id, area_id, course_id, people, year, quarter))
    return needs


def open_offers(except_session_id: int | None) -> dict[str, set]:
    """Open, coming sessions with seats left, by (area, region) and (course, region); digital ones serve everywhere."""
    statement = (
        select(course_competence_areas.c.competence_area_id, Course.id, Municipality.region_id)
        .select_from(Session)
        .join(Course, Course.id == Session.course_id)
        .join(course_competence_areas, course_competence_areas.c.course_id == Course.id)
        .join(Meeting, Meeting.session_id == Session.id)
        .outerjoin(Municipality, Municipality.id == Meeting.municipality_id)
        .where(Session.status == SessionStatus.OPEN, Session.seats_taken < Session.capacity,
               Meeting.starts_at > utcnow(), Course.retired_at.is_(None))
        .distinct()
    )
    if except_session_id is not None:
        statement = statement.where(Session.id != except_session_id)
    rows = db.session.execute(statement).all()
    offers: dict[str, set] = {"areas": set(), "courses": set(), "digital_areas": set()}
    for area_id, course_id, region_id in rows:
        if region_id is None:
            offers["digital_areas"].add(area_id)
        else:
            offers["areas"].add((area_id, region_id))
            offers["courses"].add((course_id, region_id))
    return offers


def pooled(area_ids: set[int] | None = None) -> list[Pool]:
    """Open needs pooled by area and region, the biggest first; `area_ids` limits to a provider's areas."""
    needs = [n for n in open_needs() if area_ids is None or n.area_id in area_ids]
    areas = dict(db.session.execute(select(CompetenceArea.id, CompetenceArea.name_sv)).all())
    regions = dict(db.session.execute(select(Region.id, Region.name)).all())
    groups: dict[tuple[int, int], list[Need]] = defaultdict(list)
    for need in needs:
        groups[(need.area_id, need.region_id)].append(need)
    pools = []
    for (area_id, region_id), group in groups.items():
        by_quarter: dict[str, int] = defaultdict(int)
        for need in sorted(group, key=lambda n: (n.year, n.quarter)):
            by_quarter[f"{need.year} K{need.quarter}"] += need.people
        pools.append(Pool(areas[area_id], regions[region_id], len({n.company_id for n in group}),
                          sum(n.people for n in group), dict(by_quarter)))
    return sorted(pools, key=lambda p: (-p.companies, -p.people, p.area, p.region))


def provider_areas(provider_id: int) -> set[int]:
    """The competence areas a provider teaches: those of its courses."""
    return set(db.session.scalars(
        select(course_competence_areas.c.competence_area_id)
        .join(Course, Course.id == course_competence_areas.c.course_id)
        .where(Course.provider_id == provider_id)
    ))


def tell_companies_of_new_session(session: Session) -> int:
    """A session just published: tell the HR of each company whose open need it meets, once per
    need and session. Returns how many needs were told."""
    area_ids = {area.id for area in session.course.competence_areas}
    regions = {m.municipality.region_id for m in session.meetings if m.municipality is not None}
    digital = any(m.municipality is None for m in session.meetings)
    told = set(db.session.scalars(select(NeedNotice.plan_item_id).where(NeedNotice.session_id == session.id)))
    needs = [
        n for n in open_needs(except_session_id=session.id)
        if n.area_id in area_ids and (n.course_id in (None, session.course_id))
        and (digital or n.region_id in regions) and n.item_id not in told
    ]
    if not needs:
        return 0
    db.session.execute(insert(NeedNotice), [{"plan_item_id": n.item_id, "session_id": session.id} for n in needs])
    link = external_url("catalogue.course", course_id=session.course_id)
    with force_locale("sv"):
        title = _("A session for a need in your plan: %(course)s", course=session.course.title)
        body = _("%(provider)s has published a session of %(course)s, which meets a need in your training plan. "
                 "Book from the course page.", provider=session.course.provider.name, course=session.course.title)
        for hr in notifications.hr_users_of({n.company_id for n in needs}):
            notifications.notify(hr, "demand.session_published", title, body, link)
    return len(needs)
