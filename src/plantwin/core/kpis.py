"""Stored KPI results: one record per twin and period, with the inputs that give the numbers.

Every number a user sees can be traced: a record keeps its time range, the time elements and
quantities it was computed from, and data-quality flags next to the KPI values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

KpiValue = float | None  # None: not defined for this period (e.g. no parts, no failures)


@dataclass(frozen=True, slots=True, kw_only=True)
class KpiRecord:
    """KPIs of one twin over [start, end) (ns UTC).

    ``period`` names how the range was chosen: ``shift``, ``day`` (production day), a fixed
    bucket width as ISO 8601 duration (``PT1H``), or ``range`` for an arbitrary window.
    ``label`` says which one (``2026-11-27 A`` for a shift). ``computed`` is the plant time
    of the computation; a record is final when it was computed after ``end``.
    """

    twin: str
    period: str
    start: int
    end: int
    label: str = ""
    computed: int
    values: Mapping[str, KpiValue] = field(default_factory=dict)
    inputs: Mapping[str, float] = field(default_factory=dict)
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class KpiQuery:
    """Stored KPI records of one twin and period kind whose start is in [start, end)."""

    twin: str
    period: str
    start: int
    end: int
    limit: int = 10_000
