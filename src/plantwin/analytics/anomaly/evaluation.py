"""`plantwin eval anomalies`: detectors on labelled files, point-wise and delay figures.

Each detector is fitted on the first ``fit_rows`` rows of each file and scores the rest;
a row is predicted anomalous when its score is above the limit. Counts are summed over all
files (micro average). Detection delay: for each labelled changepoint that opens an anomaly
(``anomaly`` = 1 on its row), the time to the first flagged row from it up to the next
changepoint; a changepoint with no flag in that span is missed. The figure is the median
over the detected ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from plantwin.analytics.anomaly.detector import BoolArray, Detector, DetectorError, FloatArray
from plantwin.analytics.anomaly.kinds import ALL_COMPONENTS, KINDS
from plantwin.analytics.anomaly.labelled import LabelledDataError, LabelledFile, load_folder
from plantwin.analytics.anomaly.pca import PcaT2Spe
from plantwin.analytics.failures.metrics import Scores, scores

# The live kinds (empirical limits) and, for comparison, PCA with theory limits and PCA
# keeping all components row by row (what ``mewma`` gains without the smoothing).
DETECTORS: dict[str, Callable[[int], Detector]] = {
    "pca": lambda seed: PcaT2Spe(),
    "pca-empirical": KINDS["pca"],
    "pca-all": lambda seed: PcaT2Spe(variance=ALL_COMPONENTS, limits="empirical"),
    **{kind: make for kind, make in KINDS.items() if kind != "pca"},
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Delays:
    """Detection delays after the changepoints that open an anomaly."""

    seconds: list[float] = field(default_factory=list)  # detected changepoints only
    rows: list[int] = field(default_factory=list)
    missed: int = 0

    @property
    def changepoints(self) -> int:
        return len(self.rows) + self.missed

    def median_s(self) -> float | None:
        return float(np.median(self.seconds)) if self.seconds else None

    def median_rows(self) -> float | None:
        return float(np.median(self.rows)) if self.rows else None


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectorResult:
    name: str
    counts: Scores
    delays: Delays
    seconds: float  # fit and score time

    @property
    def false_alarm_rate(self) -> float:
        c = self.counts
        return c.fp / (c.fp + c.tn) if c.fp + c.tn else 0.0

    @property
    def missed_alarm_rate(self) -> float:
        c = self.counts
        return c.fn / (c.fn + c.tp) if c.fn + c.tp else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            **self.counts.as_dict(),
            "false_alarm_rate": round(self.false_alarm_rate, 4),
            "missed_alarm_rate": round(self.missed_alarm_rate, 4),
            "changepoints": self.delays.changepoints,
            "changepoints_detected": len(self.delays.rows),
            "median_delay_s": self.delays.median_s(),
            "median_delay_rows": self.delays.median_rows(),
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AnomalyEvaluation:
    files: int
    rows_scored: int
    fit_rows: int
    results: list[DetectorResult]

    def as_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "rows_scored": self.rows_scored,
            "fit_rows": self.fit_rows,
            "detectors": {r.name: r.as_dict() for r in self.results},
        }


def detection_delays(
    flagged: BoolArray, anomaly: BoolArray, changepoint: BoolArray, ts_s: FloatArray
) -> Delays:
    """Delays from each changepoint opening an anomaly to the first flag before the next one."""
    starts = np.flatnonzero(changepoint)
    seconds: list[float] = []
    rows: list[int] = []
    missed = 0
    for k, start in enumerate(starts):
        if not anomaly[start]:
            continue
        end = int(starts[k + 1]) if k + 1 < len(starts) else len(flagged)
        hits = np.flatnonzero(flagged[start:end])
        if len(hits):
            rows.append(int(hits[0]))
            seconds.append(float(ts_s[start + hits[0]] - ts_s[start]))
        else:
            missed += 1
    return Delays(seconds=seconds, rows=rows, missed=missed)


def evaluate_files(
    files: Sequence[LabelledFile], *, fit_rows: int, detectors: Sequence[str], seed: int = 0
) -> AnomalyEvaluation:
    """Fit each detector on the first ``fit_rows`` rows of each file, score the rest."""
    unknown = [name for name in detectors if name not in DETECTORS]
    if unknown:
        raise DetectorError(
            f"unknown detector(s) {', '.join(unknown)}; known: {', '.join(DETECTORS)}"
        )
    for labelled in files:
        if len(labelled) <= fit_rows:
            msg = f"{labelled.path}: {len(labelled)} rows, need more than --fit-rows {fit_rows}"
            raise LabelledDataError(msg)
    results = [_evaluate_one(name, files, fit_rows, seed) for name in detectors]
    return AnomalyEvaluation(
        files=len(files),
        rows_scored=sum(len(f) - fit_rows for f in files),
        fit_rows=fit_rows,
        results=results,
    )


def evaluate_folder(
    folder: Path, *, fit_rows: int, detectors: Sequence[str], seed: int = 0
) -> AnomalyEvaluation:
    return evaluate_files(load_folder(folder), fit_rows=fit_rows, detectors=detectors, seed=seed)


def _evaluate_one(
    name: str, files: Sequence[LabelledFile], fit_rows: int, seed: int
) -> DetectorResult:
    started = time.perf_counter()
    truth: list[BoolArray] = []
    predicted: list[BoolArray] = []
    seconds: list[float] = []
    rows: list[int] = []
    missed = 0
    for labelled in files:
        detector = DETECTORS[name](seed)
        try:
            detector.fit(labelled.values[:fit_rows])
        except DetectorError as error:
            raise DetectorError(f"{labelled.path}: {name}: {error}") from error
        flagged = detector.score(labelled.values[fit_rows:]).flagged
        rest = slice(fit_rows, None)
        truth.append(labelled.anomaly[rest])
        predicted.append(flagged)
        delays = detection_delays(
            flagged, labelled.anomaly[rest], labelled.changepoint[rest], labelled.ts_s[rest]
        )
        seconds += delays.seconds
        rows += delays.rows
        missed += delays.missed
    counts = scores(np.concatenate(truth), np.concatenate(predicted))
    return DetectorResult(
        name=name,
        counts=counts,
        delays=Delays(seconds=seconds, rows=rows, missed=missed),
        seconds=time.perf_counter() - started,
    )
