"""From simulated values to readings: the plant file's addresses, rates and source units.

The plan is built once from the plant's bindings for this connector. Periodic channels are
sampled at their plant-file rate, aligned to whole UTC seconds (a 0.1 Hz signal at :00,
:10, ...); event channels go out as they happen. Values are converted back to each binding's
source unit (``raw = (value - b) / a``); a scaled register (``scale`` != 1, e.g. tenths of a
degree) is rounded to whole counts as a PLC would send it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from plantwin.core.errors import ConnectorError
from plantwin.core.samples import RawBatch
from plantwin.model.plant import BindingDef, Plant, TwinKind
from plantwin.simulation.demo_plant.base import NS_PER_S
from plantwin.simulation.demo_plant.channels import ChannelIndex


def local_key(plant: Plant, twin_id: str) -> str:
    """``changwon.L1.mill1.spindle`` -> ``mill1/spindle``: the asset path below site and line."""
    parts = twin_id.split(".")
    names = []
    for i in range(1, len(parts) + 1):
        twin = plant.twins.get(".".join(parts[:i]))
        if twin is not None and twin.kind in (TwinKind.ASSET, TwinKind.COMPONENT):
            names.append(parts[i - 1])
    return "/".join(names)


MAX_PERIOD_S = float(2**62)  # whole-second periods stay within int64 arithmetic


def check_binding(binding: BindingDef) -> None:
    """Refuse a binding whose source-unit map cannot be inverted (``raw = (value - b) / a``)."""
    if binding.scale == 0.0 or not math.isfinite(binding.scale):
        msg = (
            f"binding {binding.address!r} ({binding.signal}) has scale {binding.scale}; "
            "the demo plant needs a finite, non-zero scale"
        )
        raise ConnectorError(msg)
    if binding.a == 0.0 or not (math.isfinite(binding.a) and math.isfinite(binding.b)):
        msg = (
            f"binding {binding.address!r} ({binding.signal}) maps raw values with "
            f"a={binding.a}, b={binding.b}; the demo plant needs finite values and a != 0"
        )
        raise ConnectorError(msg)


def emission_period(binding: BindingDef, rate_hz: float | None) -> int:
    """Whole seconds between samples of a periodic signal (1 s without a rate).

    The line steps once a second, so faster rates are sent at 1 Hz and other rates at
    the nearest whole period.
    """
    if rate_hz is None:
        return 1
    period = 1.0 / rate_hz if math.isfinite(rate_hz) and rate_hz > 0.0 else math.nan
    if not period < MAX_PERIOD_S:  # NaN fails too
        msg = (
            f"binding {binding.address!r} ({binding.signal}) has sample rate {rate_hz} Hz; "
            "the demo plant needs a finite, positive rate"
        )
        raise ConnectorError(msg)
    return max(1, round(period))


@dataclass(frozen=True, slots=True)
class _Group:
    """Bound periodic channels sharing one period."""

    period: int
    cols: NDArray[np.intp]
    addr: NDArray[np.intp]
    a: NDArray[np.float64]
    b: NDArray[np.float64]
    rounded: NDArray[np.bool_]


class EmissionPlan:
    """Which channel goes to which address, how often, in which unit."""

    def __init__(self, *, plant: Plant, connector: str, idx: ChannelIndex) -> None:
        bindings = [b for b in plant.bindings if b.connector == connector and "#" not in b.signal]
        found: dict[int, BindingDef] = {}
        unknown: list[str] = []
        for binding in bindings:
            twin_id, name = binding.signal.rsplit("/", 1)
            key = f"{local_key(plant, twin_id)}/{name}"
            if key in idx.index:
                found[idx[key]] = binding
            else:
                unknown.append(f"{binding.address} ({binding.signal})")
        if unknown:
            msg = (
                f"the demo plant cannot simulate {len(unknown)} signal(s) bound to connector "
                f"{connector!r}: {', '.join(unknown)}"
            )
            raise ConnectorError(msg)
        n = len(idx.table)
        self.addresses: list[str] = [found[ch].address for ch in sorted(found)]
        self._addr_arr = np.array(self.addresses, dtype=object)
        addr_of = {ch: i for i, ch in enumerate(sorted(found))}
        self.bound = np.zeros(n, np.bool_)
        self.addr_of = np.full(n, -1, np.intp)
        self.a = np.ones(n)
        self.b = np.zeros(n)
        self.rounded = np.zeros(n, np.bool_)
        for ch, binding in found.items():
            check_binding(binding)
            self.bound[ch] = True
            self.addr_of[ch] = addr_of[ch]
            self.a[ch] = binding.a
            self.b[ch] = binding.b
            self.rounded[ch] = binding.scale != 1.0
        self.groups = self._groups(plant, found, idx)

    def _groups(
        self, plant: Plant, found: Mapping[int, BindingDef], idx: ChannelIndex
    ) -> list[_Group]:
        by_period: dict[int, list[int]] = {}
        for ch, binding in sorted(found.items()):
            if ch >= idx.periodic:
                continue
            period = emission_period(binding, plant.signals[binding.signal].rate_hz)
            by_period.setdefault(period, []).append(ch)
        groups = []
        for period, chans in sorted(by_period.items()):
            cols = np.array(chans, np.intp)
            groups.append(
                _Group(
                    period=period,
                    cols=cols,
                    addr=self.addr_of[cols],
                    a=self.a[cols],
                    b=self.b[cols],
                    rounded=self.rounded[cols],
                )
            )
        return groups

    def batch(
        self,
        *,
        source: str,
        start_ns: int,
        first_step: int,
        values: NDArray[np.float64],
        ev_step: list[int],
        ev_ch: list[int],
        ev_val: list[float],
    ) -> RawBatch:
        """Readings of steps ``first_step ..`` (rows of ``values``) plus the events."""
        start_s, start_frac = divmod(start_ns, NS_PER_S)
        steps = np.arange(first_step, first_step + values.shape[0], dtype=np.int64)
        abs_s = start_s + steps
        step_parts: list[NDArray[np.int64]] = []
        addr_parts: list[NDArray[np.intp]] = []
        val_parts: list[NDArray[np.float64]] = []
        for g in self.groups:
            rows = np.flatnonzero(abs_s % g.period == 0)
            raw = (values[np.ix_(rows, g.cols)] - g.b) / g.a
            if g.rounded.any():
                raw[:, g.rounded] = np.round(raw[:, g.rounded])
            step_parts.append(np.repeat(steps[rows], g.cols.shape[0]))
            addr_parts.append(np.tile(g.addr, rows.shape[0]))
            val_parts.append(raw.reshape(-1))
        if ev_step:
            ch = np.array(ev_ch, np.intp)
            keep = self.bound[ch]
            ch = ch[keep]
            raw = (np.array(ev_val)[keep] - self.b[ch]) / self.a[ch]
            raw = np.where(self.rounded[ch], np.round(raw), raw)
            step_parts.append(np.array(ev_step, np.int64)[keep])
            addr_parts.append(self.addr_of[ch])
            val_parts.append(raw)
        if not step_parts:
            return RawBatch.of(source, [], [], [])
        all_steps = np.concatenate(step_parts)
        order = np.argsort(all_steps, kind="stable")
        addr = np.concatenate(addr_parts)[order]
        return RawBatch.of(
            source,
            self._addr_arr[addr].tolist(),
            all_steps[order] * NS_PER_S + start_s * NS_PER_S + start_frac,
            np.concatenate(val_parts)[order],
        )
