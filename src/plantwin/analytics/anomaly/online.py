"""Health signals of the live twin: detectors fitted on the twin's own history, scoring
every batch as it streams through the twin stage.

For each health signal of the plant file (``health:`` on a signal, see docs/plant-file.md) a
:class:`Monitor` samples its input signals on a grid of ``every`` (the value held at each
grid time), collects the rows of the first ``fit`` of history as the healthy period (only
those meeting ``healthy_when``, and past ``fit`` until there are enough), fits the detector
on them, and from then on scores each new row into a health sample. Parts (``of``) get the
share of the score their signals carry. When a score first passes the limit, an
:class:`Event` names the signals contributing most: the explanation of the anomaly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from plantwin.analytics.anomaly.detector import Detector, FloatArray, Scored
from plantwin.analytics.anomaly.drift import Adaptive
from plantwin.analytics.anomaly.health import health
from plantwin.analytics.anomaly.kinds import detector_of
from plantwin.core.records import Event, EventKind
from plantwin.core.samples import SampleBatch
from plantwin.model.catalog import SignalCatalog
from plantwin.model.plant import HealthDef

log = logging.getLogger(__name__)

# Drift adaptation in the live twin, per scoring row: the centre follows healthy rows with a
# half-life of a day of rows and moves at most 0.5 healthy standard deviations per day.
ROWS_PER_DAY = 86_400e9
MAX_DRIFT_PER_DAY = 0.5
# Explanation events: one per anomaly, not one per noisy crossing of the limit.
CONFIRM_ROWS = 3  # rows above the limit in a row before an anomaly is reported
CLEAR_BELOW = 0.8  # a reported anomaly is over after CALM_ROWS rows below this share
CALM_ROWS = 30
# Fewest healthy rows per input column to fit on: a ``healthy_when`` that few rows of the
# fit period meet keeps the healthy period open until this many have come.
MIN_ROWS_PER_INPUT = 10
# Samples a monitor keeps unsummed (``Monitor.keep``) before it adds them up anyway: a period
# that stays open long (``every`` of an hour, or an input sample stamped ahead of the others
# set its end) would otherwise hold every batch of every signal until it closes.
KEEP_LIMIT = 100_000

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]


def make_detector(kind: str, every_ns: int, seed: int) -> Detector:
    """The detector of a health signal, wrapped to follow slow drift."""
    inner = detector_of(kind, seed)
    per_day = ROWS_PER_DAY / every_ns
    return Adaptive(inner, halflife=per_day, max_step=MAX_DRIFT_PER_DAY / per_day)


@dataclass(slots=True)
class Monitor:
    """One detector health signal and its parts."""

    key: str
    twin: str
    target: int  # signal id of the health signal
    names: tuple[str, ...]  # input signal keys, column order
    inputs: npt.NDArray[np.int32]  # their signal ids
    every_ns: int
    fit_ns: int
    make: Callable[[], Detector]
    healthy_when: tuple[int, float, float] | None = None  # (column, low, high) of healthy rows
    parts: list[tuple[int, list[int]]] = field(default_factory=list)  # (signal id, columns)
    held: FloatArray = field(init=False)  # last value of each input
    open_k: int | None = None  # the open period ends at open_k * every_ns
    _sum: FloatArray = field(init=False)  # sums and counts of the open period
    _count: FloatArray = field(init=False)
    _column: npt.NDArray[np.intp] = field(init=False)  # signal id -> input column or -1
    # samples of the open period not added up yet: (signal, ts, value) of each call
    _pending: list[tuple[I32, I64, FloatArray]] = field(default_factory=list)
    _kept: int = 0  # samples in ``_pending``
    start_t: int | None = None  # first complete row: the healthy period starts here
    healthy: list[FloatArray] = field(default_factory=list)
    detector: Detector | None = None
    flagged: bool = False  # an anomaly was reported and is not over
    run_above: int = 0  # rows in a row above the limit
    run_calm: int = 0  # rows in a row below CLEAR_BELOW of it

    def __post_init__(self) -> None:
        p = len(self.inputs)
        self.held = np.full(p, np.nan)
        self._sum, self._count = np.zeros(p), np.zeros(p)
        # one slot past the largest input id stands for every other signal (-1: not an input)
        self._column = np.full(int(self.inputs.max(initial=0)) + 2, -1, np.intp)
        self._column[self.inputs] = np.arange(p)

    @property
    def fitted(self) -> bool:
        return self.detector is not None

    def rows(self, *parts: SampleBatch) -> tuple[I64, FloatArray]:
        """Grid times closed by these samples and, per input, the mean of its samples in
        the period ending there (the last value before when it has none); complete rows only.
        Averaging over the period keeps sensor noise from flagging, and sums carried between
        calls make the rows the same however the stream is cut into batches.

        ``parts`` are canonical batches with no signal in common (raw and derived samples).
        """
        live = [part for part in parts if len(part)]
        masks = [self._column[np.minimum(part.signal, len(self._column) - 1)] >= 0 for part in live]
        if not any(mask.any() for mask in masks):
            # The grid starts with the first input sample; a batch without inputs (another
            # connector's signals) neither adds nor closes periods: the next input batch does.
            return _no_rows(len(self.inputs))
        return self.grid(
            np.concatenate([part.signal[mask] for part, mask in zip(live, masks, strict=True)]),
            np.concatenate([part.ts[mask] for part, mask in zip(live, masks, strict=True)]),
            np.concatenate([part.value[mask] for part, mask in zip(live, masks, strict=True)]),
            max(int(part.ts.max()) for part in live),
        )

    def closes(self, newest: int) -> bool:
        """Whether samples up to ``newest`` (with inputs) would close a period or start the grid."""
        return self.open_k is None or newest >= self.open_k * self.every_ns

    def grid(self, signal: I32, ts: I64, value: FloatArray, newest: int) -> tuple[I64, FloatArray]:
        """:meth:`rows` of samples already picked from the parts (in their order), at least
        one of them an input (the others are ignored); ``newest``: the parts' newest time."""
        every = self.every_ns
        if self.open_k is None:
            own = self._column[np.minimum(signal, len(self._column) - 1)] >= 0
            self.open_k = -(-int(ts[own].min()) // every)
        if not self.closes(newest):
            self.keep(signal, ts, value)
            return _no_rows(len(self.inputs))
        return self._close(signal, ts, value, newest)

    def keep(self, signal: I32, ts: I64, value: FloatArray) -> None:
        """Samples of a call that closes no period (most calls when batches are shorter
        than the period), added up when one does: a call then costs next to nothing.
        Signals other than the inputs are ignored."""
        self._pending.append((signal, ts, value))
        self._kept += len(signal)
        if self._kept > KEEP_LIMIT:
            self._fold()

    def _fold(self) -> None:
        """Add the kept samples to the open period's sums now (the same sums in the same
        order as at its close); the last of each input is the value held before the batch
        that closes it."""
        col, vals, self._sum, self._count = self._add_pending()
        last = np.full(len(self.inputs), -1, np.intp)
        last[col] = np.arange(len(col))
        if len(vals):
            self.held = np.where(last >= 0, vals[np.maximum(last, 0)], self.held)

    def _close(
        self, signal: I32, ts: I64, value: FloatArray, newest: int
    ) -> tuple[I64, FloatArray]:
        """The rows of the periods up to ``newest``, with the kept samples of the open one."""
        assert self.open_k is not None
        p, every = len(self.inputs), self.every_ns
        col = self._column[np.minimum(signal, len(self._column) - 1)]
        own = col >= 0
        col, ts, vals = col[own], ts[own], value[own]
        m = newest // every - self.open_k + 1  # periods this call closes
        # period of each sample, from the open one (late samples join the open one)
        period = np.minimum(np.maximum(-(-ts // every) - self.open_k, 0), m)
        flat = period * p + col
        # float even without samples (bincount of nothing is int64, whatever the weights)
        sums = np.bincount(flat, weights=vals, minlength=(m + 1) * p).astype(np.float64)
        sums = sums.reshape(m + 1, p)
        counts = np.bincount(flat, minlength=(m + 1) * p).reshape(m + 1, p).astype(np.float64)
        carried, carried_n = self._sum, self._count
        if self._pending:
            kept_col, kept_vals, carried, carried_n = self._add_pending()
            flat = np.concatenate([kept_col, flat])  # all in the open period, before the batch
            vals = np.concatenate([kept_vals, vals])
        sums[0] += carried
        counts[0] += carried_n
        last = np.full((m + 1) * p, -1, np.int64)
        last[flat] = np.arange(len(flat))  # samples are in time order per input
        last = np.maximum.accumulate(last.reshape(m + 1, p), axis=0)
        taken = vals[np.maximum(last, 0)] if len(vals) else np.zeros(last.shape)
        before = np.where(last >= 0, taken, self.held)
        means = np.where(counts > 0, sums / np.maximum(counts, 1.0), before)
        self._sum, self._count = sums[m].copy(), counts[m].copy()
        self.held = before[m].copy()
        times = (self.open_k + np.arange(m, dtype=np.int64)) * every
        self.open_k += m
        values = means[:m]
        complete = np.isfinite(values).all(axis=1)
        return times[complete], values[complete]

    def _add_pending(self) -> tuple[npt.NDArray[np.intp], FloatArray, FloatArray, FloatArray]:
        """Columns and values of the kept samples (in order), and the open period's sums and
        counts with them: each call's sums added in turn, so the rounding is the same as
        adding them up as they came."""
        pending, self._pending, self._kept = self._pending, [], 0
        signal = np.concatenate([s for s, _, _ in pending])
        vals = np.concatenate([v for _, _, v in pending])
        call = np.repeat(np.arange(len(pending)), [len(s) for s, _, _ in pending])
        col = self._column[np.minimum(signal, len(self._column) - 1)]
        own = col >= 0
        col, vals = col[own], vals[own]
        # only the calls with inputs (x + 0.0 is x, but not for x = -0.0)
        calls, call = np.unique(call[own], return_inverse=True)
        p = len(self.inputs)
        per_call = np.bincount(call * p + col, weights=vals, minlength=len(calls) * p)
        sums = np.cumsum(np.vstack([self._sum, per_call.reshape(len(calls), p)]), axis=0)[-1]
        return col, vals, sums, self._count + np.bincount(col, minlength=p)

    def take(self, times: I64, rows: FloatArray) -> tuple[I64, FloatArray]:
        """Keep the rows of the healthy period; fit once it is complete. The rows after it."""
        if self.detector is not None or not len(times):
            return times, rows
        if self.start_t is None:
            self.start_t = int(times[0])
        inside = times < self.start_t + self.fit_ns
        if self.healthy_when is not None:
            column, low, high = self.healthy_when
            meets = (rows[:, column] > low) & (rows[:, column] < high)
            short = self._needed() - self._collected() - int(meets[inside].sum())
            if short > 0:  # too few healthy rows yet: the period goes on until enough
                later = np.flatnonzero(meets & ~inside)
                inside[: later[short - 1] + 1 if len(later) >= short else len(inside)] = True
            self.healthy.append(rows[inside & meets])
        else:
            self.healthy.append(rows[inside])
        if inside.all():
            return times[:0], rows[:0]
        self._fit()
        return times[~inside], rows[~inside]

    def _collected(self) -> int:
        return sum(len(r) for r in self.healthy)

    def _needed(self) -> int:
        return MIN_ROWS_PER_INPUT * len(self.inputs)

    def regrid(self) -> None:
        """Start the grid anew at the next sample: history ends here, live data comes later."""
        p = len(self.inputs)
        self.open_k = None
        self._pending, self._kept = [], 0
        self.held = np.full(p, np.nan)
        self._sum, self._count = np.zeros(p), np.zeros(p)

    def _fit(self) -> None:
        healthy = np.concatenate(self.healthy)
        self.healthy = []
        detector = self.make()
        detector.fit(healthy)
        self.detector = detector
        log.info("%s fitted on %d healthy rows", self.key, len(healthy))


class HealthMonitors:
    """Every health signal of a plant; ``process`` turns a batch into health samples."""

    def __init__(self, catalog: SignalCatalog, *, seed: int = 0) -> None:
        self.monitors: list[Monitor] = []
        plant = catalog.plant
        by_key: dict[str, Monitor] = {}
        for key, sig in plant.signals.items():
            h = sig.health
            if h is None or h.of is not None:
                continue
            monitor = self._monitor(catalog, key, sig.twin, h, seed)
            by_key[key] = monitor
            self.monitors.append(monitor)
        for key, sig in plant.signals.items():
            h = sig.health
            if h is not None and h.of is not None and h.of in by_key:
                whole = by_key[h.of]
                columns = [whole.names.index(name) for name in h.signals]
                whole.parts.append((catalog.id(key), columns))
        # signal id -> bit n set when it is an input of monitor n (words of 64 monitors);
        # one slot past the largest input id stands for every other signal
        size = max((int(m.inputs.max(initial=0)) for m in self.monitors), default=0) + 2
        self._inputs_of = np.zeros((size, -(-len(self.monitors) // 64)), np.uint64)
        for n, monitor in enumerate(self.monitors):
            self._inputs_of[monitor.inputs, n // 64] |= np.uint64(1 << (n % 64))
        self._wanted: npt.NDArray[np.bool_] = np.any(self._inputs_of, axis=1)  # any monitor's input

    @staticmethod
    def _monitor(catalog: SignalCatalog, key: str, twin: str, h: HealthDef, seed: int) -> Monitor:
        return Monitor(
            key=key,
            twin=twin,
            target=catalog.id(key),
            names=h.signals,
            inputs=np.array([catalog.id(s) for s in h.signals], np.int32),
            every_ns=h.every_ns,
            fit_ns=h.fit_ns,
            healthy_when=h.healthy,
            make=lambda: make_detector(h.detector, h.every_ns, seed),
        )

    def warm(self, batch: SampleBatch) -> None:
        """Take history (canonical, older than anything live) into the healthy periods."""
        for monitor in self.monitors:
            self.warm_one(monitor, batch)

    @staticmethod
    def warm_one(monitor: Monitor, batch: SampleBatch) -> None:
        """History into one monitor's healthy period; rows after it are not scored.

        The grid then starts again with the live samples: continuing it from the end of
        the history would score a row for every period in between (the whole time since
        the healthy period, after a restart), each of values held from back then.
        """
        if not monitor.fitted:
            monitor.take(*monitor.rows(batch))
        monitor.regrid()

    @staticmethod
    def prime(monitor: Monitor, batch: SampleBatch) -> None:
        """Score recent history (after the healthy period) without output, so a detector's
        state (a smoothed one's EWMA, the drift offset) goes on from the rows before a
        restart, not from the end of the healthy period; the grid then starts anew."""
        if monitor.detector is not None:
            _, rows = monitor.rows(batch)
            if len(rows):
                monitor.detector.score(rows)
        monitor.regrid()

    def process(self, batch: SampleBatch, derived: SampleBatch) -> tuple[SampleBatch, list[Event]]:
        """Health samples (canonical) for the grid times the raw and derived samples of a
        batch close, and events naming the top contributors when a monitor passes its limit."""
        out: list[SampleBatch] = []
        events: list[Event] = []
        live = [part for part in (batch, derived) if len(part)]
        if not live:
            return SampleBatch.empty(), events
        newest = max(int(part.ts.max()) for part in live)
        picked: tuple[I32, I64, FloatArray, npt.NDArray[np.bool_]] | None = None
        for n, monitor in enumerate(self.monitors):
            if not monitor.closes(newest):
                # Most batches close no period: they are only kept, as they are (picking
                # the inputs waits for the close; other signals, and batches without its
                # inputs, add nothing to the sums).
                for part in live:
                    monitor.keep(part.signal, part.ts, part.value)
                continue
            picked = self._pick(live) if picked is None else picked
            signal, ts, value, fed = picked
            if not fed[n]:
                continue  # as ``rows``: a batch without its inputs changes nothing
            times, rows = monitor.take(*monitor.grid(signal, ts, value, newest))
            if not len(times) or monitor.detector is None:
                continue
            scored = monitor.detector.score(rows)
            out.append(_health_samples(monitor, times, scored))
            events.extend(_onsets(monitor, times, scored))
        if not out:
            return SampleBatch.empty(), events
        return SampleBatch.concat(out).canonical(), events

    def _pick(self, live: list[SampleBatch]) -> tuple[I32, I64, FloatArray, npt.NDArray[np.bool_]]:
        """The samples of any monitor's inputs (once for all of them, in the parts' order),
        and which monitors have inputs among them."""
        wanted = self._wanted
        masks = [wanted[np.minimum(part.signal, len(wanted) - 1)] for part in live]
        signal = np.concatenate([part.signal[mask] for part, mask in zip(live, masks, strict=True)])
        words = np.bitwise_or.reduce(self._inputs_of[signal], axis=0)
        fed = np.unpackbits(words.view(np.uint8), bitorder="little")[: len(self.monitors)] > 0
        return (
            signal,
            np.concatenate([part.ts[mask] for part, mask in zip(live, masks, strict=True)]),
            np.concatenate([part.value[mask] for part, mask in zip(live, masks, strict=True)]),
            fed,
        )


def _health_samples(monitor: Monitor, times: I64, scored: Scored) -> SampleBatch:
    """The health signal and its parts at the scored rows' times, in one batch."""
    sids = [monitor.target, *(sid for sid, _ in monitor.parts)]
    levels = [scored.score, *(scored.contributions[:, c].sum(axis=1) for _, c in monitor.parts)]
    n = len(times)
    return SampleBatch(
        signal=np.repeat(np.array(sids, np.int32), n),
        ts=np.tile(times, len(sids)),
        value=health(np.concatenate(levels)),
        quality=np.zeros(n * len(sids), np.uint8),
    )


def _no_rows(p: int) -> tuple[I64, FloatArray]:
    return np.empty(0, np.int64), np.empty((0, p))


def _onsets(monitor: Monitor, times: I64, scored: Scored) -> list[Event]:
    """An event when the score has been above the limit for ``CONFIRM_ROWS`` rows after
    having been calm (below ``CLEAR_BELOW`` of the limit for ``CALM_ROWS`` rows)."""
    events: list[Event] = []
    for i, score in enumerate(scored.score.tolist()):  # Python floats: cheaper to compare
        monitor.run_above = monitor.run_above + 1 if score > 1.0 else 0
        monitor.run_calm = monitor.run_calm + 1 if score < CLEAR_BELOW else 0
        if not monitor.flagged and monitor.run_above >= CONFIRM_ROWS:
            monitor.flagged = True
            events.append(_explain(monitor, int(times[i]), score, scored.contributions[i]))
        elif monitor.flagged and monitor.run_calm >= CALM_ROWS:
            monitor.flagged = False
    return events


def _explain(monitor: Monitor, ts: int, score: float, contributions: FloatArray) -> Event:
    order = np.argsort(contributions)[::-1][:3]
    total = float(contributions.sum()) or 1.0
    names = [relative(monitor.names[j], monitor.twin) for j in order]
    shares = [float(contributions[j]) / total for j in order]
    top = ", ".join(f"{name} {share:.0%}" for name, share in zip(names, shares, strict=True))
    level = float(health(np.array([score]))[0])
    return Event(
        ts=ts,
        twin=monitor.twin,
        kind=EventKind.NOTE,
        message=f"anomaly on {monitor.key}: health {level:.0f}; signals contributing most: {top}",
        data={
            "signal": monitor.key,
            "health": round(level, 1),
            "top": names[0],
            "share": round(shares[0], 3),
        },
    )


def relative(key: str, twin: str) -> str:
    """A signal key as the plant file names it from ``twin``: 'spindle.vibration'."""
    path, name = key.rsplit("/", 1)
    below = path[len(twin) + 1 :] if path.startswith(twin + ".") else ""
    return f"{below}.{name}" if below else name
