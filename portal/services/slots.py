"""Finding new dates for a postponed session: plain data in, a slot out, nothing read from the database.

The rules (DESIGN.md, "Restrictions and rescheduling"): the earliest start on or after a given day,
on Swedish working days, at the same wall-clock times, keeping the meetings' order and the days
between them; never a provider's venue used twice at once; never past the programme period;
every in-person meeting allowed by the restrictions in force on its day; and, among the first
feasible starts, the one with the fewest clashes for the booked employees (the earliest on a tie).
"""
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

Span = tuple[datetime, datetime]
# How many feasible starts, from the earliest on, are weighed against each other for clashes.
CHOICES = 10


@lru_cache(maxsize=64)
def _swedish_holidays(year: int) -> frozenset[date]:
    # Public holidays, and the eves everyone takes off (Midsummer, Christmas and New Year's Eve).
    return frozenset(holidays.country_holidays("SE", years=year, categories=(holidays.PUBLIC, holidays.DE_FACTO)))


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a Swedish public holiday or Midsummer, Christmas or New Year's Eve."""
    return day.weekday() < 5 and day not in _swedish_holidays(day.year)


@dataclass(frozen=True)
class Rule:
    """A restriction as the slot finder sees it. `municipalities` None: the whole country."""

    municipalities: frozenset[int] | None
    in_force_from: date
    lifted_on: date | None
    limits: tuple[tuple[date, int | None], ...]  # from each date, the largest group (None: none at all)

    def covers(self, municipality_id: int | None) -> bool:
        return municipality_id is not None and (self.municipalities is None or municipality_id in self.municipalities)

    def group_size_on(self, day: date) -> int | None:
        size = None
        for starts, limit in self.limits:
            if starts <= day:
                size = limit
        return size

    def limit_on(self, municipality_id: int | None, day: date) -> int | None:
        """How many may meet in person here on this day under the rule (0: no one), or None if it does not apply."""
        if not self.covers(municipality_id) or day < self.in_force_from:
            return None
        if self.lifted_on is not None and day >= self.lifted_on:
            return None
        return self.group_size_on(day) or 0

    def forbids(self, municipality_id: int | None, day: date, booked: int) -> bool:
        """Would an in-person meeting of `booked` people here on this day break the rule?"""
        limit = self.limit_on(municipality_id, day)
        return limit is not None and booked > limit

    def allows_from(self, booked: int) -> date | None:
        """The first day from which the rule never again stops `booked` people meeting in person:
        None while it has no end for them, date.min if it never stops them."""
        bounds = [starts for starts, _ in self.limits[1:]] + [self.lifted_on]
        free_from = date.min
        for (starts, limit), ends in zip(self.limits, bounds):
            if self.lifted_on is not None:
                if starts >= self.lifted_on:
                    break  # a change dated after the lift never applies
                ends = self.lifted_on if ends is None else min(ends, self.lifted_on)
            if booked > (limit or 0) and (ends is None or starts < ends):
                if ends is None:
                    return None
                free_from = max(free_from, ends)
        return free_from


@dataclass(frozen=True)
class Sitting:
    """One meeting to move, relative to the first one's new day."""

    day_offset: int  # days after the first meeting's day
    starts: time  # local wall-clock time
    ends_offset: int  # days from this meeting's day to its end (0, or 1 past midnight)
    ends: time
    venue: str | None  # a provider's venue key (in-person meetings); None online
    municipality_id: int | None


@dataclass(frozen=True)
class SlotRequest:
    sittings: tuple[Sitting, ...]
    earliest: date
    latest: date  # the programme period's last day
    booked: int
    not_before: datetime | None = None  # the end of the last meeting that keeps its date


@dataclass
class Constraints:
    """What else is on: the provider's venues in use, the restrictions, the booked employees' other meetings."""

    zone: ZoneInfo
    venue_busy: Mapping[str, list[Span]] = field(default_factory=dict)  # sorted by start
    rules: tuple[Rule, ...] = ()
    employee_busy: Mapping[int, list[Span]] = field(default_factory=dict)


@dataclass(frozen=True)
class Slot:
    spans: tuple[Span, ...]  # UTC, one per sitting, in order
    clashes: int


def sittings_of(meetings: Iterable[tuple[Span, str | None, int | None]], zone: ZoneInfo) -> tuple[Sitting, ...]:
    """Meetings (their span, venue key and municipality) as sittings relative to the first one's day."""
    meetings = sorted(meetings, key=lambda m: m[0])
    if not meetings:
        return ()
    first_day = meetings[0][0][0].astimezone(zone).date()
    sittings = []
    for (starts, ends), venue, municipality_id in meetings:
        local_start, local_end = starts.astimezone(zone), ends.astimezone(zone)
        sittings.append(Sitting(
            day_offset=(local_start.date() - first_day).days, starts=local_start.time().replace(tzinfo=None),
            ends_offset=(local_end.date() - local_start.date()).days, ends=local_end.time().replace(tzinfo=None),
            venue=venue, municipality_id=municipality_id,
        ))
    return tuple(sittings)


def spans_from(sittings: tuple[Sitting, ...], first_day: date, zone: ZoneInfo) -> tuple[Span, ...]:
    spans = []
    for sitting in sittings:
        day = first_day + timedelta(days=sitting.day_offset)
        starts = datetime.combine(day, sitting.starts, tzinfo=zone).astimezone(timezone.utc)
        ends = datetime.combine(day + timedelta(days=sitting.ends_offset), sitting.ends, tzinfo=zone).astimezone(timezone.utc)
        spans.append((starts, ends))
    return tuple(spans)


def find_slot(request: SlotRequest, constraints: Constraints, choices: int = CHOICES) -> Slot | None:
    """The slot to propose, or None when none fits before the programme period ends."""
    if not request.sittings:
        return None
    length = max(s.day_offset + s.ends_offset for s in request.sittings)
    feasible: list[Slot] = []
    day = request.earliest
    while day + timedelta(days=length) <= request.latest and len(feasible) < choices:
        spans = spans_from(request.sittings, day, constraints.zone)
        if not breaches(request, constraints, spans):
            feasible.append(Slot(spans, clash_count(spans, constraints.employee_busy)))
        day += timedelta(days=1)
    return min(feasible, key=lambda slot: slot.clashes) if feasible else None  # min keeps the earliest on a tie


def breaches(request: SlotRequest, constraints: Constraints, spans: tuple[Span, ...]) -> list[tuple[int, str]]:
    """Every rule these spans (one per sitting) break, as (sitting index, rule name)."""
    found = []
    zone = constraints.zone
    for index, (sitting, (starts, ends)) in enumerate(zip(request.sittings, spans)):
        local_day = starts.astimezone(zone).date()
        if not is_working_day(local_day):
            found.append((index, "working_day"))
        if local_day < request.earliest:
            found.append((index, "too_early"))
        if ends.astimezone(zone).date() > request.latest:
            found.append((index, "past_period"))
        if request.not_before is not None and starts < request.not_before:
            found.append((index, "before_held"))
        if sitting.venue is not None and _overlaps_any(constraints.venue_busy.get(sitting.venue, ()), starts, ends):
            found.append((index, "venue_taken"))
        if any(rule.forbids(sitting.municipality_id, local_day, request.booked) for rule in constraints.rules):
            found.append((index, "restricted"))
    return found


def clash_count(spans: Iterable[Span], employee_busy: Mapping[int, list[Span]]) -> int:
    """How many employees have another meeting overlapping any of the spans."""
    spans = list(spans)
    return sum(
        1 for busy in employee_busy.values()
        if any(starts < other_ends and other_starts < ends for starts, ends in spans for other_starts, other_ends in busy)
    )


def _overlaps_any(busy: list[Span] | tuple, starts: datetime, ends: datetime) -> bool:
    # Sorted by start: only the spans starting before `ends` can overlap.
    return any(other_ends > starts for _other_starts, other_ends in busy[:bisect_left(busy, (ends,))])


def release_day(rules: Iterable[Rule], municipalities: set[int], booked: int) -> date | None:
    """The first day from which no rule covering these municipalities stops the session: None while
    one has no end, date.min if none ever did."""
    latest = date.min
    for rule in rules:
        if not any(rule.covers(m) for m in municipalities):
            continue
        free_from = rule.allows_from(booked)
        if free_from is None:
            return None
        latest = max(latest, free_from)
    return latest

