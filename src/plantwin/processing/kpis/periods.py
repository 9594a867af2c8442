"""Periods of a KPI query and the planned time inside them, from the site's shift calendar.

Shift times are local to the site's IANA zone and turned into UTC with ``zoneinfo``, one
date at a time, so a shift keeps its wall-clock start and end across a DST change (a night
shift over the spring change is an hour shorter, over the autumn change an hour longer).
A shift that ends at or before its start ends the next day; it belongs to the production
day (the local date) it starts on. Without shifts a unit is planned around the clock and a
production day runs from local midnight to local midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from plantwin.core.clock import NS_PER_S
from plantwin.model.plant import Calendar, ShiftDef

Span = tuple[int, int]  # [start, end) in ns UTC

_MARGIN_DAYS = 2  # a night shift may start the day before the range; DST shifts offsets


class PeriodKind(StrEnum):
    SHIFT = "shift"
    DAY = "day"
    EVERY = "every"  # fixed buckets aligned to multiples of a width since the epoch
    RANGE = "range"  # one arbitrary window, e.g. the last 8 hours


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """One KPI period: [start, end) in ns UTC, with the name stored records use."""

    kind: PeriodKind
    name: str  # "shift", "day", "PT1H", "range": the stored record's period
    label: str  # "2026-11-27 A", "2026-11-27", or the start time for buckets
    start: int
    end: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ShiftSpan:
    """A shift on one production day: its span and its breaks, ns UTC."""

    shift: str
    day: date
    start: int
    end: int
    breaks: tuple[Span, ...]


def _ns(day: date, at: time, zone: ZoneInfo) -> int:
    local = datetime.combine(day, at, tzinfo=zone)
    return int(local.timestamp()) * NS_PER_S


def _span(day: date, start: time, end: time, zone: ZoneInfo) -> Span:
    next_day = (
        day + timedelta(days=1) if (end.hour, end.minute) <= (start.hour, start.minute) else day
    )
    return _ns(day, start, zone), _ns(next_day, end, zone)


def shift_spans(calendar: Calendar, start: int, end: int) -> list[ShiftSpan]:
    """Shifts overlapping [start, end), in time order."""
    zone = ZoneInfo(calendar.zone)
    first = _local_date(start, zone) - timedelta(days=_MARGIN_DAYS)
    last = _local_date(end, zone) + timedelta(days=1)
    out: list[ShiftSpan] = []
    day = first
    while day <= last:
        for shift in calendar.shifts:
            if day.weekday() in shift.days:
                span = _shift_span(shift, day, zone)
                if span.start < end and start < span.end:
                    out.append(span)
        day += timedelta(days=1)
    out.sort(key=lambda s: s.start)
    return out


def _shift_span(shift: ShiftDef, day: date, zone: ZoneInfo) -> ShiftSpan:
    lo, hi = _span(day, shift.start, shift.end, zone)
    breaks: list[Span] = []
    for b_start, b_end in shift.breaks:
        # a break before the shift's start time lies after midnight, on the next date
        b_day = day + timedelta(days=1) if b_start < shift.start else day
        breaks.append(_span(b_day, b_start, b_end, zone))
    return ShiftSpan(shift=shift.name, day=day, start=lo, end=hi, breaks=tuple(breaks))


def _local_date(ns: int, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(ns // NS_PER_S, tz=zone).date()


def planned(calendar: Calendar, start: int, end: int) -> tuple[list[Span], list[Span]]:
    """Scheduled time (shifts) and breaks inside [start, end), each as sorted spans.

    Without shifts the whole range is scheduled and there are no breaks.
    """
    if not calendar.shifts:
        return [(start, end)], []
    scheduled: list[Span] = []
    breaks: list[Span] = []
    for span in shift_spans(calendar, start, end):
        scheduled.append((max(span.start, start), min(span.end, end)))
        for b_lo, b_hi in span.breaks:
            if b_lo < end and start < b_hi:
                breaks.append((max(b_lo, start), min(b_hi, end)))
    return scheduled, sorted(breaks)


def shift_periods(calendar: Calendar, start: int, end: int) -> list[Period]:
    """Each shift overlapping [start, end) (whole shifts); a 24/7 unit has day periods."""
    if not calendar.shifts:
        return day_periods(calendar, start, end)
    return [
        Period(
            kind=PeriodKind.SHIFT,
            name=PeriodKind.SHIFT.value,
            label=f"{s.day.isoformat()} {s.shift}",
            start=s.start,
            end=s.end,
        )
        for s in shift_spans(calendar, start, end)
    ]


def day_periods(calendar: Calendar, start: int, end: int) -> list[Period]:
    """Production days overlapping [start, end).

    With shifts a day runs from its first shift's start to its last shift's end; without,
    from local midnight to local midnight.
    """
    zone = ZoneInfo(calendar.zone)
    days: dict[date, Span] = {}
    if calendar.shifts:
        wanted = {s.day for s in shift_spans(calendar, start, end)}
        if not wanted:
            return []
        # every shift of those days, also the ones outside [start, end)
        lo_all = _ns(min(wanted), time(0), zone)
        hi_all = _ns(max(wanted) + timedelta(days=2), time(0), zone)
        for s in shift_spans(calendar, lo_all, hi_all):
            if s.day in wanted:
                lo, hi = days.get(s.day, (s.start, s.end))
                days[s.day] = (min(lo, s.start), max(hi, s.end))
    else:
        day = _local_date(start, zone)
        while True:
            lo = _ns(day, time(0), zone)
            if lo >= end:
                break
            days[day] = (lo, _ns(day + timedelta(days=1), time(0), zone))
            day += timedelta(days=1)
    return [
        Period(
            kind=PeriodKind.DAY, name=PeriodKind.DAY.value, label=d.isoformat(), start=lo, end=hi
        )
        for d, (lo, hi) in sorted(days.items())
        if lo < end and start < hi
    ]


def bucket_periods(every: int, name: str, start: int, end: int) -> list[Period]:
    """Buckets of ``every`` ns aligned to multiples since the epoch, overlapping [start, end)."""
    first = start // every * every
    return [
        Period(kind=PeriodKind.EVERY, name=name, label="", start=lo, end=lo + every)
        for lo in range(first, end, every)
    ]


def range_period(start: int, end: int) -> Period:
    return Period(
        kind=PeriodKind.RANGE, name=PeriodKind.RANGE.value, label="", start=start, end=end
    )
