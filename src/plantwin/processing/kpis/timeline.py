"""ISO 22400 time elements of one unit from its state history.

A unit's state changes become intervals tagged with the state's category (production = APT,
setup = AUST, idle = ADOT, fault = ADET, planned = PDOT, off = outside POT). Only the part
of each interval inside planned time (shifts minus breaks) counts.

Micro-stops: with ``minor_stop_s`` > 0 a fault or idle interval shorter than it (its whole
length, also beyond the window) is counted as production time, a speed loss (Nakajima
style); with 0 every stop counts as a stop (strict ISO 22400: minor stoppages are ADET).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plantwin.core.clock import NS_PER_S
from plantwin.model.schema import StateCategory

Span = tuple[int, int]

# Category codes of the interval arrays; UNKNOWN: before the first recorded state.
CATEGORIES: tuple[StateCategory, ...] = (
    StateCategory.PRODUCTION,
    StateCategory.SETUP,
    StateCategory.IDLE,
    StateCategory.FAULT,
    StateCategory.PLANNED,
    StateCategory.OFF,
)
CODE = {c: i for i, c in enumerate(CATEGORIES)}
UNKNOWN = len(CATEGORIES)
_PROD, _SETUP, _IDLE, _FAULT, _PLANNED, _OFF = range(6)


@dataclass(frozen=True, slots=True)
class Timeline:
    """Consecutive intervals [start[i], end[i]) with one category code each."""

    start: NDArray[np.int64]
    end: NDArray[np.int64]
    code: NDArray[np.int64]

    @classmethod
    def of(cls, changes: Sequence[tuple[int, StateCategory | None]], until: int) -> Timeline:
        """From (time, category) changes sorted by time; None: a state of unknown category.

        The last state lasts until ``until``; time before the first change is unknown.
        """
        if not changes:
            return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64))
        ts = np.array([t for t, _ in changes], np.int64)
        code = np.array([UNKNOWN if c is None else CODE[c] for _, c in changes], np.int64)
        end = np.append(ts[1:], max(until, int(ts[-1])))
        return cls(ts, end, code)._merged()

    def _merged(self) -> Timeline:
        """Adjacent intervals of one category joined (two fault states are one stop)."""
        if self.code.shape[0] == 0:
            return self
        keep = np.ones(self.code.shape[0], np.bool_)
        keep[1:] = self.code[1:] != self.code[:-1]
        starts = np.flatnonzero(keep)
        ends = np.append(starts[1:], self.code.shape[0]) - 1
        return Timeline(self.start[starts], self.end[ends], self.code[starts])

    def between(self, lo: int, hi: int) -> Timeline:
        """The intervals that overlap [lo, hi) (both arrays are sorted: intervals follow
        each other), so a short window does not scan a long history."""
        first = int(np.searchsorted(self.end, lo, side="right"))
        last = int(np.searchsorted(self.start, hi, side="left"))
        return Timeline(self.start[first:last], self.end[first:last], self.code[first:last])

    def with_minor_stops(self, threshold_s: float) -> tuple[Timeline, Timeline]:
        """Stops (fault, idle) shorter than the threshold turned into production time.

        Returns the new timeline and the minor stops themselves (for the record).
        """
        length = self.end - self.start
        minor = np.isin(self.code, (_FAULT, _IDLE)) & (length < threshold_s * NS_PER_S)
        if not minor.any():
            return self, Timeline(self.start[minor], self.end[minor], self.code[minor])
        code = np.where(minor, _PROD, self.code)
        stops = Timeline(self.start[minor], self.end[minor], self.code[minor])
        return Timeline(self.start, self.end, code)._merged(), stops


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeElements:
    """Seconds of each ISO 22400 time element in one window, and the failure events.

    ``pbt = apt + aust + adet + adot``; ``pot = pbt + pdot + unknown``.
    """

    pot: float
    pdot: float
    apt: float
    aust: float
    adet: float
    adot: float
    unknown: float
    minor_stops: float  # production time that was short stops (already inside apt)
    failures: int  # fault intervals starting inside planned time of the window

    @property
    def pbt(self) -> float:
        return self.apt + self.aust + self.adet + self.adot


def overlap(
    starts: NDArray[np.int64], ends: NDArray[np.int64], spans: list[Span]
) -> NDArray[np.int64]:
    """Length (ns) of each interval inside the union of ``spans`` (disjoint)."""
    total = np.zeros(starts.shape[0], np.int64)
    for lo, hi in spans:
        total += np.maximum(np.minimum(ends, hi) - np.maximum(starts, lo), 0)
    return total


def subtract(spans: list[Span], holes: list[Span]) -> list[Span]:
    """``spans`` minus ``holes`` (both sorted and disjoint)."""
    out: list[Span] = []
    for lo, hi in spans:
        cursor = lo
        for h_lo, h_hi in holes:
            if h_hi <= cursor or h_lo >= hi:
                continue
            if h_lo > cursor:
                out.append((cursor, h_lo))
            cursor = max(cursor, h_hi)
        if cursor < hi:
            out.append((cursor, hi))
    return out


def time_elements(
    timeline: Timeline, minor: Timeline, scheduled: list[Span], breaks: list[Span]
) -> TimeElements:
    """Time elements of a window whose scheduled time and breaks are given (clipped to it)."""
    open_time = subtract(scheduled, breaks)
    timeline = timeline.between(scheduled[0][0], scheduled[-1][1]) if scheduled else timeline
    minor = minor.between(scheduled[0][0], scheduled[-1][1]) if scheduled else minor
    inside = overlap(timeline.start, timeline.end, open_time)
    weights = inside.astype(np.float64) / NS_PER_S
    sums = np.bincount(timeline.code, weights=weights, minlength=UNKNOWN + 1).astype(np.float64)
    covered = float(inside.sum()) / NS_PER_S
    open_s = sum(hi - lo for lo, hi in open_time) / NS_PER_S
    unknown = float(sums[UNKNOWN]) + (open_s - covered)  # also time before the first state
    scheduled_s = sum(hi - lo for lo, hi in scheduled) / NS_PER_S
    breaks_s = sum(hi - lo for lo, hi in breaks) / NS_PER_S
    starts_inside = np.zeros(timeline.start.shape[0], np.bool_)
    for lo, hi in open_time:
        starts_inside |= (timeline.start >= lo) & (timeline.start < hi)
    failures = int(np.count_nonzero(starts_inside & (timeline.code == _FAULT)))
    minor_s = float(overlap(minor.start, minor.end, open_time).sum()) / NS_PER_S
    return TimeElements(
        pot=scheduled_s - float(sums[_OFF]),
        pdot=breaks_s + float(sums[_PLANNED]),
        apt=float(sums[_PROD]),
        aust=float(sums[_SETUP]),
        adet=float(sums[_FAULT]),
        adot=float(sums[_IDLE]),
        unknown=unknown,
        minor_stops=minor_s,
        failures=failures,
    )
