"""How early health alarms warn of failures, and how often they cry wolf.

Alarm episodes (activation to clear) of one asset are joined into chains when less than
``join_ns`` lies between them (an alarm that clears while the machine waits for parts and
comes back is one warning). A failure is warned of when a chain is standing at the failure
or ended less than ``join_ns`` before it; the lead time is from the chain's start to the
failure. Every chain that warns of no failure is a false alarm.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from plantwin.core.records import AlarmEvent

NS_PER_H = 3_600_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    asset: str  # twin id
    ts: int
    kind: str  # "bearing", "tool" ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Lead:
    failure: Failure
    lead_ns: int | None  # None: no alarm before the failure


@dataclass(frozen=True, slots=True, kw_only=True)
class WarningReport:
    warnings: list[Lead]
    false_alarms: int
    asset_days: float  # observed time, summed over assets

    def leads_h(self, kind: str) -> list[float]:
        return [
            w.lead_ns / NS_PER_H
            for w in self.warnings
            if w.failure.kind == kind and w.lead_ns is not None
        ]

    def missed(self, kind: str) -> int:
        return sum(1 for w in self.warnings if w.failure.kind == kind and w.lead_ns is None)

    def median_lead_h(self, kind: str) -> float | None:
        leads = self.leads_h(kind)
        return float(np.median(leads)) if leads else None

    @property
    def false_alarms_per_day(self) -> float:
        return self.false_alarms / self.asset_days if self.asset_days else 0.0


def episodes(alarms: Iterable[AlarmEvent], alarm_id: str, end_ns: int) -> list[tuple[int, int]]:
    """(activated, cleared) of one alarm, in time order; an episode still active ends at end_ns."""
    out: list[tuple[int, int]] = []
    since: int | None = None
    for event in sorted((a for a in alarms if a.alarm == alarm_id), key=lambda a: a.ts):
        if event.active and since is None:
            since = event.ts
        elif not event.active and since is not None:
            out.append((since, event.ts))
            since = None
    if since is not None:
        out.append((since, end_ns))
    return out


def chains(spans: Sequence[tuple[int, int]], join_ns: int) -> list[tuple[int, int]]:
    """Episodes joined where the gap between them is shorter than ``join_ns``."""
    joined: list[tuple[int, int]] = []
    for start, end in spans:
        if joined and start - joined[-1][1] < join_ns:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def assess(
    chains_by_asset: dict[str, list[tuple[int, int]]],
    failures: Sequence[Failure],
    *,
    join_ns: int,
    asset_days: float,
) -> WarningReport:
    """Lead time of each failure and the number of chains that warned of none. A chain
    spanning several failures of an asset warns of each from the one before."""
    used: set[tuple[str, int]] = set()
    warnings: list[Lead] = []
    previous: dict[str, int] = {}
    for failure in sorted(failures, key=lambda f: f.ts):
        lead: int | None = None
        for n, (start, end) in enumerate(chains_by_asset.get(failure.asset, [])):
            if start <= failure.ts and end > failure.ts - join_ns:
                lead = failure.ts - max(start, previous.get(failure.asset, start))
                used.add((failure.asset, n))
        previous[failure.asset] = failure.ts
        warnings.append(Lead(failure=failure, lead_ns=lead))
    total = sum(len(c) for c in chains_by_asset.values())
    return WarningReport(warnings=warnings, false_alarms=total - len(used), asset_days=asset_days)
