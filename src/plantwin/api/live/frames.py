"""Frames: what one client gets for a run of ring entries, with samples decimated.

Decimation keeps, per signal and frame, the newest sample and the min, max and count of all
samples the frame stands for. A frame covers at most one ``1 / max_rate_hz`` interval of
arrival time, so a chart that draws one column per frame still shows every spike (min/max)
and ends on the true current value (last) — a plain "last value" would hide a one-sample
excursion, and sending every sample would cost the client more than it can draw.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from plantwin.api.live.ring import Entry, Kind
from plantwin.api.live.selection import Selection

NS_PER_MS = 1_000_000
_RECORD_KEYS = {
    Kind.STATES: "states",
    Kind.ALARMS: "alarms",
    Kind.COMMANDS: "commands",
    Kind.EVENTS: "events",
}


def groups(entries: Sequence[Entry], interval_s: float) -> Iterator[Sequence[Entry]]:
    """Split entries into runs whose arrival times span less than ``interval_s``."""
    start = 0
    for i in range(1, len(entries)):
        if entries[i].at - entries[start].at >= interval_s:
            yield entries[start:i]
            start = i
    if start < len(entries):
        yield entries[start:]


def sample_points(
    entries: Sequence[Entry], sel: Selection, keys: Sequence[str]
) -> dict[str, list[float]]:
    """Signal key -> [ts_ms, value, min, max, n, quality] for the selected signals."""
    batches = [e.batch for e in entries if e.batch is not None]
    if not batches:
        return {}
    sig = np.concatenate([b.signal for b in batches])
    keep = sel.mask[sig]
    if not keep.any():
        return {}
    sig = sig[keep]
    ts = np.concatenate([b.ts for b in batches])[keep]
    value = np.concatenate([b.value for b in batches])[keep]
    quality = np.concatenate([b.quality for b in batches])[keep]
    order = np.lexsort((ts, sig))  # by signal, then time: the last of a group is the newest
    sig, ts, value, quality = sig[order], ts[order], value[order], quality[order]
    starts = np.flatnonzero(np.r_[True, sig[1:] != sig[:-1]])
    ends = np.r_[starts[1:], len(sig)] - 1
    low = np.minimum.reduceat(value, starts)
    high = np.maximum.reduceat(value, starts)
    count = ends - starts + 1
    return {
        keys[s]: [t, v, lo, hi, n, q]
        for s, t, v, lo, hi, n, q in zip(
            sig[ends].tolist(),
            (ts[ends] // NS_PER_MS).tolist(),
            value[ends].tolist(),
            low.tolist(),
            high.tolist(),
            count.tolist(),
            quality[ends].tolist(),
            strict=True,
        )
    }


def frame(
    entries: Sequence[Entry], first: int, sel: Selection, keys: Sequence[str]
) -> dict[str, Any] | None:
    """The frame for ``entries`` (accounting for sequence ``first`` to the last entry's);
    None when none of it is selected."""
    body: dict[str, Any] = {}
    if Kind.SAMPLES in sel.kinds:
        points = sample_points(entries, sel, keys)
        if points:
            body["samples"] = points
    for entry in entries:
        if entry.record is None or entry.kind not in sel.kinds or entry.twin not in sel.twins:
            continue
        body.setdefault(_RECORD_KEYS[entry.kind], []).append({"seq": entry.seq, **entry.record})
    if not body:
        return None
    return {"type": "frame", "seq": [first, entries[-1].seq], **body}
