"""Checking a site's shift calendar: local times, weekdays, breaks inside shifts, no overlaps."""

from __future__ import annotations

import difflib
import re
from datetime import time

from plantwin.model.plant import Calendar, ShiftDef
from plantwin.model.problems import Path, ProblemLog
from plantwin.model.schema import ShiftSpec

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_DAY_MIN = 24 * 60
_WEEK_MIN = 7 * _DAY_MIN


def parse_clock(text: object, path: Path, log: ProblemLog) -> time | None:
    if isinstance(text, str):
        match = _TIME.match(text.strip())
        if match:
            return time(int(match.group(1)), int(match.group(2)))
    log.add(path, f"{text!r} is not a local time; write 'HH:MM' in quotes, e.g. \"06:00\"")
    return None


def minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def span(start: time, end: time) -> tuple[int, int]:
    """Minutes from the local midnight the span starts on; an end at or before start is the
    next day (so "22:00"-"06:00" is 480 minutes, and "06:00"-"06:00" a whole day)."""
    a, b = minutes(start), minutes(end)
    return a, b if b > a else b + _DAY_MIN


def check_calendar(
    zone: str, shifts: dict[str, ShiftSpec] | None, path: Path, log: ProblemLog
) -> Calendar:
    """The calendar of one site; problems are logged at the shift, day or break concerned."""
    checked: list[ShiftDef] = []
    for name, spec in (shifts or {}).items():
        shift = _shift(name, spec, (*path, "shifts", name), log)
        if shift is not None:
            checked.append(shift)
    _overlaps(checked, (*path, "shifts"), log)
    return Calendar(zone=zone, shifts=tuple(checked))


def _shift(name: str, spec: ShiftSpec, path: Path, log: ProblemLog) -> ShiftDef | None:
    start = parse_clock(spec.start, (*path, "start"), log)
    end = parse_clock(spec.end, (*path, "end"), log)
    days = _days(spec.days, (*path, "days"), log)
    if start is None or end is None or days is None:
        return None
    lo, hi = span(start, end)
    breaks: list[tuple[time, time]] = []
    taken: list[tuple[int, int, int]] = []
    for i, brk in enumerate(spec.breaks):
        where: Path = (*path, "breaks", i)
        b_start = parse_clock(brk.start, (*where, "start"), log)
        b_end = parse_clock(brk.end, (*where, "end"), log)
        if b_start is None or b_end is None:
            continue
        b_lo, b_hi = span(b_start, b_end)
        if b_lo < lo:  # a break after midnight in a night shift
            b_lo, b_hi = b_lo + _DAY_MIN, b_hi + _DAY_MIN
        if not (lo <= b_lo and b_hi <= hi):
            log.add(
                where, f"break {brk.start}-{brk.end} is not inside shift {spec.start}-{spec.end}"
            )
            continue
        clash = next((j for a, b, j in taken if b_lo < b and a < b_hi), None)
        if clash is not None:
            log.add(where, f"break {brk.start}-{brk.end} overlaps break {clash + 1} of this shift")
            continue
        taken.append((b_lo, b_hi, i))
        breaks.append((b_start, b_end))
    return ShiftDef(name=name, start=start, end=end, days=days, breaks=tuple(breaks))


def _days(days: list[str] | None, path: Path, log: ProblemLog) -> frozenset[int] | None:
    if days is None:
        return frozenset(range(7))
    found: set[int] = set()
    ok = True
    for i, day in enumerate(days):
        key = day.strip().lower()[:3]
        if day.strip().lower() in (*WEEKDAYS, *_LONG) and key in WEEKDAYS:
            found.add(WEEKDAYS.index(key))
            continue
        hint = difflib.get_close_matches(day.lower(), WEEKDAYS, n=1) or difflib.get_close_matches(
            day.lower(), _LONG, n=1
        )
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        log.add((*path, i), f"unknown weekday '{day}' (mon, tue, ... sun){suggestion}")
        ok = False
    if ok and not found:
        log.add(path, "a shift needs at least one day (leave 'days' out for every day)")
        ok = False
    return frozenset(found) if ok else None


_LONG = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _overlaps(shifts: list[ShiftDef], path: Path, log: ProblemLog) -> None:
    """Shifts may not overlap in the week (a night shift runs into the next day)."""
    spans: list[tuple[int, int, str]] = []
    for shift in shifts:
        lo, hi = span(shift.start, shift.end)
        for day in sorted(shift.days):
            spans.append((day * _DAY_MIN + lo, day * _DAY_MIN + hi, shift.name))
    reported: set[tuple[str, str]] = set()
    for i, (a_lo, a_hi, a) in enumerate(spans):
        for b_lo, b_hi, b in spans[i + 1 :]:
            if a == b and a_lo == b_lo:
                continue
            for shift_by in (0, _WEEK_MIN, -_WEEK_MIN):  # Sunday night runs into Monday
                if b_lo + shift_by < a_hi and a_lo < b_hi + shift_by:
                    pair = (min(a, b), max(a, b))
                    if pair not in reported:
                        reported.add(pair)
                        log.add((*path, b), f"shift '{b}' overlaps shift '{a}'")
                    break
