"""The slot finder for postponed sessions (portal/services/slots.py): property tests against an
independent, brute-force model of the rules, and plain examples of what a provider relies on.

Nothing here needs the app or a database: the finder is plain data in, a slot out."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.services.slots import (
    CHOICES, Constraints, Rule, Sitting, Slot, SlotRequest, find_slot, release_day, sittings_of, spans_from,
)

ZONE = ZoneInfo("Europe/Stockholm")
UTC = timezone.utc
# The test's own calendar: Swedish public holidays as the holidays package lists them by default,
# and the eves that count as Sundays under the Annual Leave Act (computed here, not taken from the package).
SE_HOLIDAYS = holidays.country_holidays("SE")

MUNICIPALITIES = (1, 2, 3)
VENUES = ("1:sal a", "1:sal b", "2:aulan", "3:verkstaden")
EMPLOYEES = range(101, 109)

PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# The independent model

def days_off_eve(day: date) -> bool:
    """Midsummer Eve (the Friday from 19 to 25 June), Christmas Eve, New Year's Eve."""
    midsummer_eve = day.month == 6 and 19 <= day.day <= 25 and day.weekday() == 4
    return midsummer_eve or (day.month, day.day) in ((12, 24), (12, 31))


def working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in SE_HOLIDAYS and not days_off_eve(day)


def local(day: date, clock: time) -> datetime:
    return datetime(day.year, day.month, day.day, clock.hour, clock.minute, tzinfo=ZONE)


def candidate_spans(sittings: tuple[Sitting, ...], first_day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The sittings placed with their first meeting on `first_day`, in UTC."""
    spans = []
    for sitting in sittings:
        day = first_day + timedelta(days=sitting.day_offset)
        spans.append((
            local(day, sitting.starts).astimezone(UTC),
            local(day + timedelta(days=sitting.ends_offset), sitting.ends).astimezone(UTC),
        ))
    return tuple(spans)


def overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


def rule_stops(rule: Rule, municipality_id: int | None, day: date, booked: int) -> bool:
    """Does the rule stop `booked` people meeting in person in this municipality on this day?"""
    if municipality_id is None:  # online
        return False
    if rule.municipalities is not None and municipality_id not in rule.municipalities:
        return False
    if day < rule.in_force_from or (rule.lifted_on is not None and day >= rule.lifted_on):
        return False
    in_effect = [size for starts, size in sorted(rule.limits, key=lambda limit: limit[0]) if starts <= day]
    if not in_effect:
        return True  # in force without a size yet: the strictest reading
    size = in_effect[-1]
    largest = 0 if size is None else size  # None: no in-person meetings at all
    return booked > largest


def place_of(venue: str | None) -> int | None:
    return None if venue is None else int(venue.split(":")[0])


def feasible(request: SlotRequest, constraints: Constraints, spans) -> bool:
    for sitting, (starts, ends) in zip(request.sittings, spans):
        local_day = starts.astimezone(ZONE).date()
        if not working_day(local_day) or local_day < request.earliest:
            return False
        if ends.astimezone(ZONE).date() > request.latest:
            return False
        if request.not_before is not None and starts < request.not_before:
            return False
        if sitting.venue is not None and any(
            overlaps(starts, ends, b_start, b_end) for b_start, b_end in constraints.venue_busy.get(sitting.venue, [])
        ):
            return False
        if sitting.venue is not None and any(
            rule_stops(rule, sitting.municipality_id, local_day, request.booked) for rule in constraints.rules
        ):
            return False
    return True


def clashes_of(spans, employee_busy) -> int:
    return sum(
        1 for busy in employee_busy.values()
        if any(overlaps(s, e, b_start, b_end) for s, e in spans for b_start, b_end in busy)
    )


def feasible_starts(request: SlotRequest, constraints: Constraints) -> list[tuple[date, tuple, int]]:
    """Every start day from `earliest` to `latest` that keeps all the rules, with its spans and clashes."""
    found = []
    day = request.earliest
    while day <= request.latest:  # a start after `latest` cannot end by `latest`
        spans = candidate_spans(request.sittings, day)
        if feasible(request, constraints, spans):
            found.append((day, spans, clashes_of(spans, constraints.employee_busy)))
        day += timedelta(days=1)
    return found


# Strategies

ANCHORS = [
    date(2026, 6, 19), date(2027, 6, 25), date(2028, 6, 23),  # Midsummer Eve
    date(2026, 12, 24), date(2027, 12, 24), date(2028, 12, 24),  # Christmas Eve
    date(2026, 12, 31), date(2027, 12, 31),  # New Year's Eve
    date(2026, 4, 3), date(2027, 3, 26), date(2028, 4, 14),  # Good Friday
    date(2026, 5, 14), date(2027, 5, 6), date(2028, 5, 25),  # Ascension Day
    date(2026, 6, 6), date(2027, 6, 6), date(2028, 6, 6),  # National Day
    date(2028, 5, 1), date(2027, 1, 6),
]

earliest_days = st.one_of(
    st.dates(date(2026, 1, 1), date(2028, 12, 31)),
    st.builds(lambda anchor, shift: anchor + timedelta(days=shift), st.sampled_from(ANCHORS), st.integers(-7, 7)),
)


@st.composite
def sittings(draw) -> tuple[Sitting, ...]:
    count = draw(st.integers(1, 5))
    offsets = [0] + sorted(draw(st.lists(st.integers(0, 14), min_size=count - 1, max_size=count - 1)))
    found = []
    for offset in offsets:
        start_q = draw(st.integers(7 * 4, 18 * 4 - 1))  # quarter hours from 07:00 to 17:45
        end_q = draw(st.integers(start_q + 1, 18 * 4))  # ends by 18:00 the same day
        venue = draw(st.one_of(st.none(), st.sampled_from(VENUES)))
        found.append(Sitting(
            day_offset=offset, starts=time(start_q // 4, start_q % 4 * 15), ends_offset=0,
            ends=time(end_q // 4, end_q % 4 * 15),
            venue=venue, municipality_id=place_of(venue),
        ))
    return tuple(found)


def busy_spans(base: date, days: int, edges: tuple[time, ...] = ()):
    """Spans of other meetings in the first `days` of the search window (and just before), sorted by
    start; some start or end exactly at one of `edges` (the sittings' times), to touch a sitting."""
    @st.composite
    def build(draw):
        spans = []
        for _ in range(draw(st.integers(0, 8))):
            day = base + timedelta(days=draw(st.one_of(st.integers(-2, days), st.integers(0, min(days, 14)))))
            minutes = draw(st.one_of(st.integers(1, 40).map(lambda q: q * 15), st.integers(1, 3).map(lambda d: d * 1440)))
            how = draw(st.sampled_from(["free", "starts_at_edge", "ends_at_edge"] if edges else ["free"]))
            if how == "free":
                start_q = draw(st.integers(6 * 4, 19 * 4))
                starts = local(day, time(start_q // 4, start_q % 4 * 15)).astimezone(UTC)
            else:
                edge = local(day, draw(st.sampled_from(edges))).astimezone(UTC)
                starts = edge if how == "starts_at_edge" else edge - timedelta(minutes=minutes)
            spans.append((starts, starts + timedelta(minutes=minutes)))
        return sorted(spans)
    return build()


@st.composite
def rules(draw, base: date, booked: int | None = None) -> Rule:
    """A restriction around `base`: a first group size from in_force_from, up to two changes (one may
    fall on in_force_from itself, or on or after the lift), perhaps lifted (maybe the day it came into
    force); sizes are often just at or below `booked`, where the rule's edge is."""
    scope = draw(st.one_of(st.none(), st.frozensets(st.sampled_from(MUNICIPALITIES), max_size=3)))
    in_force_from = base + timedelta(days=draw(st.one_of(st.integers(-30, 90), st.integers(-3, 10))))
    lifted_on = draw(st.one_of(
        st.none(), st.just(in_force_from), st.integers(0, 100).map(lambda n: in_force_from + timedelta(days=n)),
        st.integers(-3, 10).map(lambda n: max(in_force_from, base + timedelta(days=n))),
    ))
    sizes = st.one_of(st.none(), st.integers(1, 40))
    if booked:
        sizes = st.one_of(sizes, st.sampled_from([booked, max(booked - 1, 1)]))
    change_days = sorted(set(draw(st.lists(st.integers(0, 100), max_size=2))))
    limits = [(in_force_from, draw(sizes))] + [(in_force_from + timedelta(days=n), draw(sizes)) for n in change_days]
    return Rule(municipalities=scope, in_force_from=in_force_from, lifted_on=lifted_on, limits=tuple(limits))


@st.composite
def problems(draw):
    """A slot request and what else is on."""
    earliest = draw(earliest_days)
    latest = earliest + timedelta(days=draw(st.integers(0, 120)))
    not_before = None
    if draw(st.booleans()):
        day = earliest + timedelta(days=draw(st.integers(-3, 5)))
        not_before = local(day, time(draw(st.integers(6, 20)), draw(st.sampled_from([0, 30])))).astimezone(UTC)
    request = SlotRequest(
        sittings=draw(sittings()), earliest=earliest, latest=latest, booked=draw(st.integers(0, 30)),
        not_before=not_before,
    )
    edges = tuple(sorted({s.starts for s in request.sittings} | {s.ends for s in request.sittings}))
    used = sorted({s.venue for s in request.sittings if s.venue is not None})
    venues = sorted(set(draw(st.lists(st.sampled_from(VENUES)))) | set(draw(st.lists(st.sampled_from(used)) if used else st.just([]))))
    employees = draw(st.lists(st.sampled_from(EMPLOYEES), unique=True, max_size=8))
    constraints = Constraints(
        zone=ZONE,
        venue_busy={venue: draw(busy_spans(earliest, 135, edges)) for venue in venues},
        rules=tuple(draw(st.lists(rules(earliest, request.booked), max_size=3))),
        employee_busy={employee: draw(busy_spans(earliest, 30, edges)) for employee in employees},
    )
    return request, constraints


# Properties

@PROPERTY_SETTINGS
@given(problems())
def test_a_proposed_slot_keeps_every_rule(problem):
    """Whatever is proposed falls on working days inside the window, at the sessions's own times and
    spacing, after the meetings already held, with the provider's venues free and no restriction
    stopping an in-person meeting; its clash count is the number of booked employees it clashes for."""
    request, constraints = problem
    slot = find_slot(request, constraints)
    if slot is None:
        return
    assert len(slot.spans) == len(request.sittings)
    first_local_day = slot.spans[0][0].astimezone(ZONE).date()
    for sitting, (starts, ends) in zip(request.sittings, slot.spans):
        assert starts.utcoffset() == timedelta(0) and ends.utcoffset() == timedelta(0)
        local_start, local_end = starts.astimezone(ZONE), ends.astimezone(ZONE)
        # 1. working days only
        assert working_day(local_start.date()), local_start
        # 2. inside the window
        assert local_start.date() >= request.earliest
        assert local_end.date() <= request.latest
        # 3. same wall-clock times, same spacing and order
        assert local_start.time() == sitting.starts and local_end.time() == sitting.ends
        assert (local_start.date() - first_local_day).days == sitting.day_offset
        assert (local_end.date() - local_start.date()).days == sitting.ends_offset
        # 4. the venue is free
        if sitting.venue is not None:
            for b_start, b_end in constraints.venue_busy.get(sitting.venue, []):
                assert not overlaps(starts, ends, b_start, b_end), (sitting.venue, b_start, b_end)
        # 5. no restriction stops the in-person meeting
        if sitting.venue is not None:
            for rule in constraints.rules:
                assert not rule_stops(rule, sitting.municipality_id, local_start.date(), request.booked), rule
        # 6. after the meetings that keep their dates
        if request.not_before is not None:
            assert starts >= request.not_before
    # 7. clashes counted per employee
    assert slot.clashes == clashes_of(slot.spans, constraints.employee_busy)


@PROPERTY_SETTINGS
@given(problems(), st.integers(1, 12))
def test_the_slot_is_the_fewest_clashes_among_the_first_feasible_starts(problem, choices):
    """Among the first `choices` feasible start days, the one with the fewest clashes is proposed
    (the earliest on a tie); None only when no start between earliest and latest works."""
    request, constraints = problem
    slot = find_slot(request, constraints, choices=choices)
    starts = feasible_starts(request, constraints)
    if not starts:
        assert slot is None
        return
    assert slot is not None, f"feasible starts exist, e.g. {starts[0][0]}"
    best_day, best_spans, best_clashes = min(starts[:choices], key=lambda start: (start[2], start[0]))
    assert slot.spans[0][0].astimezone(ZONE).date() == best_day
    assert slot.spans == best_spans
    assert slot.clashes == best_clashes


@PROPERTY_SETTINGS
@given(problems(), st.randoms(use_true_random=False))
def test_the_same_question_gets_the_same_answer(problem, random):
    """Asking twice, or with venues, employees and rules listed in another order, proposes the same slot."""
    request, constraints = problem
    first = find_slot(request, constraints)
    assert find_slot(request, constraints) == first

    def shuffled(mapping):
        keys = list(mapping)
        random.shuffle(keys)
        return {key: list(mapping[key]) for key in keys}

    rules = list(constraints.rules)
    random.shuffle(rules)
    reordered = Constraints(
        zone=ZONE, venue_busy=shuffled(constraints.venue_busy), rules=tuple(rules),
        employee_busy=shuffled(constraints.employee_busy),
    )
    assert find_slot(request, reordered) == first


@PROPERTY_SETTINGS
@given(sittings(), earliest_days)
def test_sittings_read_back_from_their_spans(sittings_, first_day):
    """Meetings placed on a day and read back give the same sittings (times, spacing, places)."""
    ordered = tuple(sorted(sittings_, key=lambda s: (s.day_offset, s.starts, s.ends)))
    spans = spans_from(ordered, first_day, ZONE)
    assert spans == candidate_spans(ordered, first_day)
    meetings = [(span, s.venue, s.municipality_id) for span, s in zip(spans, ordered)]
    back = sittings_of(meetings, ZONE)
    assert [(s.day_offset, s.starts, s.ends_offset, s.ends) for s in back] == \
        [(s.day_offset, s.starts, s.ends_offset, s.ends) for s in ordered]


@PROPERTY_SETTINGS
@given(st.data(), earliest_days, st.integers(0, 40), st.one_of(st.none(), st.sampled_from(MUNICIPALITIES)))
def test_a_rule_stops_a_meeting_only_in_its_scope_period_and_beyond_its_group_size(data, base, booked, place):
    """Rule.forbids agrees with the rule read from its fields, on and around each of its dates."""
    rule = data.draw(rules(base, booked))
    edges = [rule.in_force_from, *(starts for starts, _ in rule.limits)] + ([rule.lifted_on] if rule.lifted_on else [])
    for edge in edges:
        for day in (edge - timedelta(days=1), edge, edge + timedelta(days=1)):
            assert rule.forbids(place, day, booked) == rule_stops(rule, place, day, booked), day


@PROPERTY_SETTINGS
@given(st.data(), earliest_days, st.integers(0, 40))
def test_a_rule_stops_the_group_exactly_until_the_day_it_allows(data, base, booked):
    """Rule.allows_from is exact: from it on, the rule stops no meeting of that many people, and the
    day before it still does (None: some day however late is stopped; date.min: no day ever is).
    Changes dated on or after the lift, and a lift on the first day, are among the cases."""
    rule = data.draw(rules(base, booked))
    place = 1 if rule.municipalities is None else next(iter(sorted(rule.municipalities)), None)
    if place is None:
        return  # covers nowhere
    free_from = rule.allows_from(booked)
    horizon = rule.in_force_from + timedelta(days=220)
    stopped = [day for day in (rule.in_force_from + timedelta(days=n) for n in range(221)) if rule_stops(rule, place, day, booked)]
    if free_from is None:
        assert rule_stops(rule, place, date(2100, 1, 1), booked)
        return
    assert all(day < free_from for day in stopped)
    assert not rule_stops(rule, place, max(free_from, horizon), booked)
    if free_from == date.min:
        assert stopped == []
    else:
        assert stopped and stopped[-1] == free_from - timedelta(days=1)


@PROPERTY_SETTINGS
@given(st.data(), earliest_days, st.integers(0, 40), st.frozensets(st.sampled_from(MUNICIPALITIES), max_size=3))
def test_release_day_frees_every_place_of_the_session(data, base, booked, places):
    """From release_day on, no rule stops the group in any of its places, and the day before one does;
    None while one has no end."""
    rules_ = data.draw(st.lists(rules(base, booked), max_size=3))
    released = release_day(rules_, set(places), booked)
    days = [base + timedelta(days=n) for n in range(-30, 250)]
    if released is None:
        assert any(rule_stops(rule, m, date(2100, 1, 1), booked) for rule in rules_ for m in places)
        return
    for day in days:
        if day >= released:
            assert not any(rule_stops(rule, m, day, booked) for rule in rules_ for m in places), day
    if released != date.min:
        before = released - timedelta(days=1)
        assert any(rule_stops(rule, m, before, booked) for rule in rules_ for m in places)


# Examples

def one_day(start: time = time(9), end: time = time(12), venue: str | None = "1:sal a", offset: int = 0) -> Sitting:
    return Sitting(day_offset=offset, starts=start, ends_offset=0, ends=end, venue=venue, municipality_id=place_of(venue))


def request_for(sittings_, earliest: date, latest: date | None = None, booked: int = 8, not_before=None) -> SlotRequest:
    return SlotRequest(sittings=tuple(sittings_), earliest=earliest, latest=latest or earliest + timedelta(days=90),
                       booked=booked, not_before=not_before)


def first_local_day(slot: Slot) -> date:
    return slot.spans[0][0].astimezone(ZONE).date()


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return local(day, time(hour, minute)).astimezone(UTC)


def test_a_three_day_course_from_a_thursday_starts_the_next_monday():
    """Three consecutive days cannot run Thu–Sat: the whole course moves to Mon–Wed."""
    thursday = date(2026, 3, 5)
    course = [one_day(offset=n) for n in range(3)]
    slot = find_slot(request_for(course, thursday), Constraints(zone=ZONE))
    assert slot is not None
    assert [s.astimezone(ZONE).date() for s, _ in slot.spans] == [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)]
    assert [(s.astimezone(ZONE).time(), e.astimezone(ZONE).time()) for s, e in slot.spans] == [(time(9), time(12))] * 3


@pytest.mark.parametrize(("holiday", "expected"), [
    pytest.param(date(2026, 6, 19), date(2026, 6, 22), id="midsummer-eve-2026"),
    pytest.param(date(2027, 12, 24), date(2027, 12, 27), id="christmas-eve-2027"),
    pytest.param(date(2026, 12, 31), date(2027, 1, 4), id="new-years-eve-2026"),
    pytest.param(date(2028, 6, 6), date(2028, 6, 7), id="national-day-2028"),
    pytest.param(date(2026, 4, 3), date(2026, 4, 7), id="good-friday-to-after-easter-monday-2026"),
    pytest.param(date(2026, 12, 25), date(2026, 12, 28), id="christmas-day-2026"),
    pytest.param(date(2027, 5, 6), date(2027, 5, 7), id="ascension-day-2027"),
])
def test_swedish_holidays_are_skipped(holiday, expected):
    """A meeting is never proposed on a Swedish public holiday, nor on Midsummer, Christmas or
    New Year's Eve, which everyone takes off (nor on the weekend after)."""
    slot = find_slot(request_for([one_day()], holiday), Constraints(zone=ZONE))
    assert slot is not None and first_local_day(slot) == expected


def test_a_busy_venue_pushes_the_slot_to_the_next_free_day():
    """The provider's room is never booked twice: a meeting there at the same time moves the slot on."""
    monday = date(2026, 3, 9)
    constraints = Constraints(zone=ZONE, venue_busy={"1:sal a": [(utc(monday, 10), utc(monday, 11))]})
    slot = find_slot(request_for([one_day()], monday), constraints)
    assert slot is not None and first_local_day(slot) == date(2026, 3, 10)


def test_a_meeting_that_ends_as_ours_starts_does_not_block_the_venue():
    """Back-to-back use of the room is fine: a meeting ending at 09:00 leaves it free from 09:00."""
    monday = date(2026, 3, 9)
    constraints = Constraints(zone=ZONE, venue_busy={"1:sal a": [(utc(monday, 8), utc(monday, 9))]})
    slot = find_slot(request_for([one_day()], monday), constraints)
    assert slot is not None and first_local_day(slot) == monday


def test_another_venue_or_an_online_meeting_is_not_blocked():
    """Only the same venue counts: an online meeting or another room the same hour is free."""
    monday = date(2026, 3, 9)
    constraints = Constraints(zone=ZONE, venue_busy={"1:sal a": [(utc(monday, 9), utc(monday, 12))]})
    for sitting in (one_day(venue="1:sal b"), one_day(venue=None)):
        slot = find_slot(request_for([sitting], monday), constraints)
        assert slot is not None and first_local_day(slot) == monday


def test_fewer_clashes_win_within_the_first_choices():
    """A later feasible day with fewer booked employees busy beats an earlier one, within CHOICES days."""
    monday = date(2026, 3, 9)
    busy = {
        1: [(utc(monday, 9), utc(monday, 10)), (utc(monday + timedelta(days=1), 11), utc(monday + timedelta(days=1), 12))],
        2: [(utc(monday, 10), utc(monday, 11))],
        3: [],
    }
    constraints = Constraints(zone=ZONE, employee_busy=busy)
    slot = find_slot(request_for([one_day()], monday), constraints)
    assert slot is not None and first_local_day(slot) == date(2026, 3, 11) and slot.clashes == 0
    # Weighing only the first two feasible days: Tuesday's one clash beats Monday's two.
    slot = find_slot(request_for([one_day()], monday), constraints, choices=2)
    assert slot is not None and first_local_day(slot) == date(2026, 3, 10) and slot.clashes == 1


def test_a_free_day_beyond_the_first_choices_does_not_win():
    """Only the first CHOICES feasible days are weighed; on a tie the earliest wins."""
    monday = date(2026, 3, 2)
    working = [monday + timedelta(days=n) for n in range(40) if working_day(monday + timedelta(days=n))]
    busy = {7: [(utc(day, 9), utc(day, 10)) for day in working[:CHOICES]]}
    slot = find_slot(request_for([one_day()], monday), Constraints(zone=ZONE, employee_busy=busy))
    assert slot is not None and first_local_day(slot) == monday and slot.clashes == 1


def test_no_slot_when_the_period_ends_first():
    """None when the course does not fit before the programme period ends (here: a weekend only)."""
    saturday = date(2026, 3, 7)
    assert find_slot(request_for([one_day()], saturday, latest=saturday + timedelta(days=1)), Constraints(zone=ZONE)) is None
    three_days = [one_day(offset=n) for n in range(3)]
    assert find_slot(request_for(three_days, date(2026, 3, 9), latest=date(2026, 3, 10)), Constraints(zone=ZONE)) is None


def test_a_restriction_in_force_moves_in_person_meetings_but_not_online_ones():
    """An in-person meeting waits until the rule lets the group meet; an online one does not."""
    monday = date(2026, 3, 9)
    rule = Rule(municipalities=frozenset({1}), in_force_from=date(2026, 3, 1), lifted_on=date(2026, 3, 16),
                limits=((date(2026, 3, 1), 5),))
    constraints = Constraints(zone=ZONE, rules=(rule,))
    slot = find_slot(request_for([one_day()], monday, booked=8), constraints)
    assert slot is not None and first_local_day(slot) == date(2026, 3, 16)
    slot = find_slot(request_for([one_day()], monday, booked=5), constraints)
    assert slot is not None and first_local_day(slot) == monday
    slot = find_slot(request_for([one_day(venue=None)], monday, booked=8), constraints)
    assert slot is not None and first_local_day(slot) == monday
    slot = find_slot(request_for([one_day(venue="2:aulan")], monday, booked=8), constraints)
    assert slot is not None and first_local_day(slot) == monday


def test_new_dates_come_after_the_meetings_already_held():
    """A start before the end of the last held meeting is not proposed, even on the earliest day."""
    monday = date(2026, 3, 9)
    slot = find_slot(request_for([one_day()], monday, not_before=utc(monday, 10)), Constraints(zone=ZONE))
    assert slot is not None and first_local_day(slot) == date(2026, 3, 10)


def test_a_session_with_nothing_to_move_gets_no_slot():
    assert find_slot(request_for([], date(2026, 3, 9)), Constraints(zone=ZONE)) is None


D0, D1, D2 = date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)


def test_a_lifted_restriction_frees_from_its_lift_date():
    rule = Rule(municipalities=None, in_force_from=D0, lifted_on=D1, limits=((D0, None),))
    assert rule.allows_from(12) == D1
    assert release_day([rule], {1, 2}, 12) == D1


def test_an_easing_to_a_size_the_group_fits_frees_from_the_easing_date():
    rule = Rule(municipalities=frozenset({1}), in_force_from=D0, lifted_on=None, limits=((D0, 5), (D1, 20)))
    assert rule.allows_from(10) == D1
    assert rule.allows_from(20) == D1
    assert release_day([rule], {1, 3}, 10) == D1


def test_an_open_ended_limit_too_small_for_the_group_gives_none():
    rule = Rule(municipalities=frozenset({1}), in_force_from=D0, lifted_on=None, limits=((D0, 5), (D1, 20)))
    assert rule.allows_from(21) is None
    assert release_day([rule], {1}, 21) is None
    closed = Rule(municipalities=None, in_force_from=D0, lifted_on=None, limits=((D0, None),))
    assert closed.allows_from(1) is None


def test_a_rule_that_never_stops_the_group_gives_date_min():
    rule = Rule(municipalities=frozenset({1}), in_force_from=D0, lifted_on=None, limits=((D0, 20),))
    assert rule.allows_from(20) == date.min
    assert release_day([rule], {1}, 20) == date.min
    assert release_day([rule], {2, 3}, 500) == date.min  # the rule covers none of the places
    assert release_day([], {1}, 500) == date.min


def test_release_day_is_the_latest_of_the_rules():
    early = Rule(municipalities=frozenset({1}), in_force_from=D0, lifted_on=D1, limits=((D0, None),))
    late = Rule(municipalities=frozenset({2}), in_force_from=D0, lifted_on=D2, limits=((D0, None),))
    assert release_day([early, late], {1, 2}, 3) == D2
    assert release_day([early, late], {1}, 3) == D1


def test_a_tightening_scheduled_after_the_lift_never_stops_anyone():
    """Lifted on 15 March, a tightening due 1 April never takes effect: 5 people (limit 10 until then)
    were never stopped, so the rule frees them from the start (date.min)."""
    rule = Rule(municipalities=None, in_force_from=D0, lifted_on=date(2026, 3, 15),
                limits=((D0, 10), (D1, None)))
    assert not any(rule.forbids(1, D0 + timedelta(days=n), 5) for n in range(120))
    assert rule.allows_from(5) == date.min
