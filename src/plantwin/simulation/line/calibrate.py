"""Calibrate a line model from the twin's own history: fitted distributions with their data range.

From each station's state changes (categories of the plant file's state model):
- time between failures: production time between the starts of consecutive fault
  intervals (operating time, as the model counts it), fitted with a Weibull (maximum
  likelihood, location 0); the stretch before the first and after the last fault are
  censored and left out, which biases short histories towards shorter times;
- repair: the lengths of fault intervals (a fault still open at the end left out), fitted
  log-normal (sample mean and the standard deviation of the logarithms);
- setup: the lengths of setup intervals, log-normal, and parts between setups from the
  production time between them over the mean cycle;
- cycle: the asset's ``cycle_time`` signal when it has one, log-normal.
A parameter is replaced only when at least ``min_samples`` values were found; every fit
records how many values over which time range, so a scenario's numbers can be traced.
Failure history mixes every failure mode into one (bearings, tools, random faults).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from scipy import stats

from plantwin.core.records import StateChange
from plantwin.core.store import HistoryQuery, RecordQuery, RecordStore, SampleStore
from plantwin.model.plant import Plant
from plantwin.model.schema import StateCategory
from plantwin.processing.kpis.timeline import CODE, Timeline
from plantwin.simulation.line.distributions import Distribution, FloatArray, LogNormal, Weibull
from plantwin.simulation.line.plant_line import BuiltLine, Provenance
from plantwin.simulation.line.spec import FailureSpec, SetupSpec, StationSpec

NS = 1_000_000_000
PAGE = 50_000
_PROD, _SETUP, _FAULT = (
    CODE[StateCategory.PRODUCTION],
    CODE[StateCategory.SETUP],
    CODE[StateCategory.FAULT],
)


class HistorySource(SampleStore, RecordStore, Protocol):
    """What calibration reads from: samples (cycle times) and records (state changes)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Fitted:
    """One fitted parameter of one station and the data behind it."""

    station: str
    parameter: str  # "time_between_failures", "repair", "setup", "setup_every", "cycle"
    value: Distribution | int
    n: int
    start_ns: int  # first and last data point used
    end_ns: int


def fit_weibull(x: FloatArray) -> Weibull:
    shape, _, scale = stats.weibull_min.fit(x, floc=0)
    return Weibull(shape=float(shape), scale=float(scale))


def fit_lognormal(x: FloatArray) -> LogNormal:
    logs = np.log(x)
    return LogNormal(mean=float(x.mean()), sigma=float(logs.std(ddof=1)) if x.size > 1 else 0.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Samples:
    """Durations (seconds) found in a timeline, with the time each one ended (ns)."""

    tbf_s: FloatArray
    tbf_at: FloatArray
    repair_s: FloatArray
    repair_at: FloatArray
    setup_s: FloatArray
    setup_at: FloatArray
    production_between_setups_s: FloatArray


def samples(timeline: Timeline, until: int) -> Samples:
    """Reliability samples of one station's timeline (see the module docstring)."""
    start, end, code = timeline.start, timeline.end, timeline.code
    length = (end - start).astype(np.float64) / NS
    closed = end < until  # the last interval may still be open
    produced = np.where(code == _PROD, length, 0.0)
    before = np.cumsum(produced) - produced  # production time before each interval
    faults = np.flatnonzero(code == _FAULT)
    setups = np.flatnonzero(code == _SETUP)
    repairs = faults[closed[faults]]
    done_setups = setups[closed[setups]]
    return Samples(
        tbf_s=np.diff(before[faults]),
        tbf_at=start[faults][1:].astype(np.float64),
        repair_s=length[repairs],
        repair_at=end[repairs].astype(np.float64),
        setup_s=length[done_setups],
        setup_at=end[done_setups].astype(np.float64),
        production_between_setups_s=np.diff(before[setups]),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    fits: tuple[Fitted, ...]

    def apply(self, built: BuiltLine) -> BuiltLine:
        """The line with fitted parameters in place of the defaults, provenance updated."""
        by_station: dict[str, dict[str, Fitted]] = {}
        for fit in self.fits:
            by_station.setdefault(fit.station, {})[fit.parameter] = fit
        stations = []
        notes = list(built.provenance)
        for station in built.spec.stations:
            found = by_station.get(station.name, {})
            stations.append(_applied(station, found))
            for fit in found.values():
                notes.append(
                    Provenance(
                        station=station.name,
                        parameter=fit.parameter,
                        source="history",
                        detail=f"{fit.n} values, {_iso(fit.start_ns)} .. {_iso(fit.end_ns)}",
                    )
                )
        spec = replace(built.spec, stations=tuple(stations))
        return replace(built, spec=spec, provenance=tuple(notes))


def _applied(station: StationSpec, fits: dict[str, Fitted]) -> StationSpec:
    tbf, repair = fits.get("time_between_failures"), fits.get("repair")
    if tbf is not None and repair is not None:
        assert not isinstance(tbf.value, int)
        assert not isinstance(repair.value, int)
        failure = FailureSpec(between=tbf.value, repair=repair.value, name="history")
        station = replace(station, failures=(failure,))
    setup, every = fits.get("setup"), fits.get("setup_every")
    if setup is not None and not isinstance(setup.value, int):
        parts = every.value if every is not None and isinstance(every.value, int) else None
        if parts is None and station.setup is not None:
            parts = station.setup.every_parts
        if parts is not None:
            station = replace(station, setup=SetupSpec(every_parts=parts, duration=setup.value))
    cycle = fits.get("cycle")
    if cycle is not None and not isinstance(cycle.value, int):
        station = replace(station, cycle=cycle.value)
    return station


def _iso(ns: int) -> str:
    from datetime import UTC, datetime  # noqa: PLC0415 - only for the provenance text

    return datetime.fromtimestamp(ns / NS, UTC).strftime("%Y-%m-%dT%H:%MZ")


async def calibrate(
    built: BuiltLine,
    plant: Plant,
    store: HistorySource,
    *,
    start_ns: int,
    end_ns: int,
    min_samples: int = 5,
) -> Calibration:
    """Fit each station's failures, repairs, setups and cycle from [start_ns, end_ns)."""
    fits: list[Fitted] = []
    for station in built.spec.stations:
        twin = plant.twins[built.assets[station.name]]
        if twin.states is not None:
            category = {s.name: s.category for s in twin.states.states}
            changes = await _changes(store, twin.id, start_ns, end_ns)
            rows = [(c.ts, category.get(c.state)) for c in changes]
            found = samples(Timeline.of(rows, until=end_ns), end_ns)
            fits += _reliability(station, found, min_samples)
        key = f"{twin.id}/cycle_time"
        if key in plant.signals:
            fits += await _cycle(store, station, key, start_ns, end_ns, min_samples)
    return Calibration(fits=tuple(fits))


def _reliability(station: StationSpec, s: Samples, min_samples: int) -> list[Fitted]:
    out: list[Fitted] = []
    name = station.name

    def fitted(parameter: str, value: Distribution | int, at: FloatArray) -> Fitted:
        return Fitted(
            station=name,
            parameter=parameter,
            value=value,
            n=int(at.size),
            start_ns=int(at.min()),
            end_ns=int(at.max()),
        )

    if s.tbf_s.size >= min_samples and s.repair_s.size >= min_samples:
        positive = s.tbf_s[s.tbf_s > 0]
        out.append(fitted("time_between_failures", fit_weibull(positive), s.tbf_at[s.tbf_s > 0]))
        out.append(fitted("repair", fit_lognormal(s.repair_s), s.repair_at))
    if s.setup_s.size >= min_samples:
        out.append(fitted("setup", fit_lognormal(s.setup_s), s.setup_at))
        if s.production_between_setups_s.size >= min_samples:
            parts = float(s.production_between_setups_s.mean()) / station.cycle.mean
            every = max(1, round(parts))
            out.append(fitted("setup_every", every, s.setup_at[1:]))
    return out


async def _cycle(
    store: HistorySource, station: StationSpec, key: str, lo: int, hi: int, min_samples: int
) -> list[Fitted]:
    sid = (await store.register_signals([key]))[key]
    history = await store.history(HistoryQuery(signal=sid, start=lo, end=hi, limit=1_000_000))
    values = history.last[np.isfinite(history.last) & (history.last > 0)]
    if values.size < min_samples:
        return []
    ts = history.ts
    return [
        Fitted(
            station=station.name,
            parameter="cycle",
            value=fit_lognormal(values),
            n=int(values.size),
            start_ns=int(ts.min()),
            end_ns=int(ts.max()),
        )
    ]


async def _changes(store: HistorySource, twin_id: str, lo: int, hi: int) -> list[StateChange]:
    """State changes of one twin in [lo, hi), oldest first, page by page (newest first)."""
    found: list[StateChange] = []
    end = hi
    while True:
        page = [
            r
            for r in await store.records(
                RecordQuery(
                    kind=StateChange, twin=twin_id, exact=True, start=lo, end=end, limit=PAGE
                )
            )
            if isinstance(r, StateChange)
        ]
        if len(page) < PAGE:
            found.extend(page)
            break
        oldest = page[-1].ts
        found.extend(r for r in page if r.ts > oldest)
        end = oldest + 1
    found.sort(key=lambda r: r.ts)
    return found


def describe(fit: Fitted) -> str:
    """A one-line text of a fit, for tables and logs."""
    v = fit.value
    if isinstance(v, int):
        text = f"{v} parts"
    elif isinstance(v, Weibull):
        text = f"Weibull k={v.shape:.2f}, mean {v.mean / 3600:.2f} h"
    else:
        text = f"{v.kind}, mean {v.mean:.1f} s" if not math.isnan(v.mean) else v.kind
    return f"{fit.station} {fit.parameter}: {text} ({fit.n} values)"


async def calibrate_recent(
    built: BuiltLine, plant: Plant, store: HistorySource, *, since_s: float, min_samples: int = 5
) -> Calibration:
    """Calibrate from the last ``since_s`` of history before the newest state change of the
    line's stations (plant time: a store filled by a fast demo may run ahead of the clock)."""
    newest: int | None = None
    for asset in built.assets.values():
        query = RecordQuery(kind=StateChange, twin=asset, exact=True, limit=1)
        for change in await store.records(query):
            if isinstance(change, StateChange):
                newest = change.ts if newest is None else max(newest, change.ts)
    if newest is None:
        return Calibration(fits=())
    end = newest + 1
    start = end - round(since_s * NS)
    return await calibrate(built, plant, store, start_ns=start, end_ns=end, min_samples=min_samples)
