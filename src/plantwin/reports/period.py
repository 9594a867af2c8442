"""Which twin and which production day or shift a report covers, from what a user typed."""

from __future__ import annotations

import difflib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from plantwin.core.clock import NS_PER_S
from plantwin.core.errors import QueryError
from plantwin.model.plant import Plant
from plantwin.processing.kpis.periods import Period, day_periods, shift_periods


def resolve_scope(plant: Plant, text: str) -> str:
    """A twin id from a full id (``changwon.L1``) or a unique last part of one (``L1``)."""
    if text in plant.twins:
        return text
    found = [t for t in plant.twins if t.endswith("." + text)]
    if len(found) == 1:
        return found[0]
    if found:
        msg = f"scope '{text}' is ambiguous: {', '.join(found)}; give the full twin id"
        raise QueryError(msg)
    close = difflib.get_close_matches(text, list(plant.twins), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    msg = f"no twin '{text}' in plant '{plant.name}'{hint}"
    raise QueryError(msg)


def report_period(plant: Plant, twin_id: str, day: date, shift: str | None) -> Period:
    """The production day (or one shift of it) of ``twin_id``'s site calendar."""
    calendar = plant.calendar(twin_id)
    zone = ZoneInfo(calendar.zone)
    lo = int(datetime.combine(day, time(0), tzinfo=zone).timestamp()) * NS_PER_S
    hi = int(datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).timestamp())
    hi *= NS_PER_S
    if shift is None:
        days = [p for p in day_periods(calendar, lo, hi) if p.label == day.isoformat()]
        if not days:
            msg = f"{day.isoformat()} is not a production day of {twin_id} (no shift starts on it)"
            raise QueryError(msg)
        return days[0]
    if not calendar.shifts:
        msg = f"{twin_id} has no shift calendar (planned around the clock); leave out the shift"
        raise QueryError(msg)
    shifts = [p for p in shift_periods(calendar, lo, hi) if p.label.startswith(day.isoformat())]
    wanted = f"{day.isoformat()} {shift}"
    for period in shifts:
        if period.label == wanted:
            return period
    names = ", ".join(p.label.split(" ", 1)[1] for p in shifts) or "none"
    msg = f"no shift '{shift}' starts on {day.isoformat()} at {twin_id} (shifts that day: {names})"
    raise QueryError(msg)
