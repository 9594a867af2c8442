"""One row per inspected part: the tool signals when each machine finished it, and the verdict.

Parts keep their order through the line's FIFO buffers, so the k-th part a machine counts is
the k-th the CMM judges: the join needs no part id, only the counters' times (the signals a
plant reports anyway). A part still in the line at the end of the history is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from plantwin.analytics.history import (
    BoolArray,
    FloatArray,
    HistoryError,
    IntArray,
    SignalHistory,
)

TOOL_SIGNALS = ("wear", "cut_time", "parts")  # of each machine's cutting tool component


@dataclass(frozen=True, slots=True, kw_only=True)
class ScrapLayout:
    """Where the signals are: the cutting machines (twin ids, in flow order) and the CMM."""

    machines: Sequence[str]
    inspection: str
    tool: str = "tool"

    def feature_keys(self) -> list[str]:
        """Signal keys of the model's features, in column order."""
        return [f"{m}.{self.tool}/{name}" for m in self.machines for name in TOOL_SIGNALS]

    def feature_names(self) -> list[str]:
        return [f"{m.rsplit('.', 1)[-1]}.{name}" for m in self.machines for name in TOOL_SIGNALS]


@dataclass(frozen=True, slots=True, kw_only=True)
class PartTable:
    """Features (parts x features), the CMM verdict (True = scrap) and inspection times."""

    x: FloatArray
    scrap: BoolArray
    inspected_ns: IntArray
    names: list[str]

    def __len__(self) -> int:
        return len(self.scrap)


def part_table(history: SignalHistory, layout: ScrapLayout) -> PartTable:
    """Join each inspected part to its machines' tool signals at the time it was finished."""
    good = history[f"{layout.inspection}/good_count"].steps_up()
    bad = history[f"{layout.inspection}/scrap_count"].steps_up()
    inspected = np.concatenate((good, bad))
    order = np.argsort(inspected, kind="stable")
    inspected = inspected[order]
    scrap = np.concatenate((np.zeros(len(good), bool), np.ones(len(bad), bool)))[order]
    finished = [history[f"{m}/part_count"].steps_up() for m in layout.machines]
    n = min(len(inspected), *(len(f) for f in finished))
    if n == 0:
        span = f"{history.start_ns} and {history.end_ns} ns"
        msg = f"no part was both machined and inspected between {span}"
        raise HistoryError(msg)
    columns: list[FloatArray] = []
    for machine, done in zip(layout.machines, finished, strict=True):
        at = done[:n]
        for name in TOOL_SIGNALS:
            columns.append(history[f"{machine}.{layout.tool}/{name}"].asof(at))
    x = np.column_stack(columns)
    keep = ~np.isnan(x).any(axis=1)  # a part finished before the first tool sample
    return PartTable(
        x=x[keep],
        scrap=scrap[:n][keep],
        inspected_ns=inspected[:n][keep],
        names=layout.feature_names(),
    )
