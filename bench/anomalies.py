"""Anomaly detection on the demo plant: injected faults, warning lead time, scoring cost.

1. Labelled benchmark: the demo line runs two days per seed with bearing wear switched off;
   each CNC's health inputs (10 s means) get one fault injected at a known, random time on
   the second day (a growing bearing defect, a 5 % current sensor offset, 2 kW of extra
   machine power while cutting), written as labelled CSV files and scored by
   `plantwin eval anomalies` (first day fitted): point-wise F1 and detection delay of every
   detector, row-wise and smoothed.
2. Warning lead time: a seeded 7-day run with bearing wear on, through the twin stage's
   steps and the rules: hours from the standing `health_low` alarm to each bearing failure,
   minutes from the `tool_health_low` alarm to each forced tool change (wear limit), and
   false alarms per machine-day of each and the share of the time each stands; once per
   choice of the machine's and the tool's detector (``VARIANTS``).
3. Scoring cost: the health stage's time over the rest of the twin stage (ingest, twin,
   rules) in the same run, after the healthy period, with 1 s batches (the demo's rate) and
   with 60 s batches (a backlog taken as one batch, a fast demo), with row-wise and with
   smoothed machine detectors.

`python -m bench anomalies --part cost` runs only the third (parts: labelled, lead, cost).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from bench.common import emit, pin_to_one_core
from plantwin.analytics.anomaly.evaluation import DETECTORS as EVAL_DETECTORS
from plantwin.analytics.anomaly.evaluation import evaluate_folder
from plantwin.analytics.anomaly.online import HealthMonitors, relative
from plantwin.analytics.anomaly.warnings import NS_PER_H, episodes
from plantwin.core.clock import ManualClock
from plantwin.ingest import Ingestor
from plantwin.model.catalog import SignalCatalog
from plantwin.model.loader import load_plant
from plantwin.model.plant import Plant
from plantwin.runtime.health_study import StudyRun, run_study, warning_report
from plantwin.simulation.demo_plant import DemoLine
from plantwin.simulation.demo_plant.settings import DemoSettings
from plantwin.twin import TwinState

START = 1_767_225_600_000_000_000  # 2026-01-01 00:00 UTC
NS = 1_000_000_000
DAY_ROWS = 8640  # 10 s rows
FAULTS = ("bearing", "current", "power")
DETECTORS = tuple(EVAL_DETECTORS)
# Lead-time variants: the demo's detectors (machine, tool) row by row and smoothed.
VARIANTS = {
    "pca, pca": {"health": "pca", "tool_wear_health": "pca"},
    "pca-ewma, pca": {"health": "pca-ewma", "tool_wear_health": "pca"},
    "mewma, pca": {"health": "mewma", "tool_wear_health": "pca"},
    "mewma, mewma": {"health": "mewma", "tool_wear_health": "mewma"},
}


def demo_plant() -> Plant:
    return load_plant(Path(str(files("plantwin.simulation.demo_plant") / "machining-line.yaml")))


def with_detectors(plant: Plant, kinds: dict[str, str]) -> Plant:
    """The plant with the detector of each health signal named in ``kinds`` replaced."""
    signals = {
        key: replace(sig, health=replace(sig.health, detector=kinds[sig.name]))
        if sig.health is not None and sig.health.of is None and sig.name in kinds
        else sig
        for key, sig in plant.signals.items()
    }
    return replace(plant, signals=signals)


def no_bearing_wear() -> DemoSettings:
    s = DemoSettings()
    far = {"onset_eta_h": 1e6}
    return replace(
        s,
        mill=replace(s.mill, bearing=replace(s.mill.bearing, **far)),
        lathe=replace(s.lathe, bearing=replace(s.lathe.bearing, **far)),
    )


def health_rows(
    plant: Plant, seed: int, days: float
) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
    """Per CNC: grid times, rows of its health inputs, their names."""
    catalog = SignalCatalog(plant, {key: n for n, key in enumerate(plant.signals)})
    ingestor = Ingestor(catalog, ManualClock(START), max_future_s=days * 86_400 + 3600)
    twin = TwinState(plant, catalog)
    # the machine's detector only (the tool's own one has other inputs)
    monitors = [m for m in HealthMonitors(catalog).monitors if m.key.endswith("/health")]
    got: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {m.twin: ([], []) for m in monitors}
    line = DemoLine(plant=plant, seed=seed, settings=no_bearing_wear(), start_ns=START)
    for raw in line.run(days * 86_400, chunk_s=600):
        batch = ingestor.process(raw).batch
        derived = twin.apply(batch).derived
        for m in monitors:
            times, rows = m.rows(batch, derived)
            got[m.twin][0].append(times)
            got[m.twin][1].append(rows)
    return {
        m.twin: (
            np.concatenate(got[m.twin][0]),
            np.concatenate(got[m.twin][1]),
            [relative(k, m.twin) for k in m.names],
        )
        for m in monitors
    }


def inject(kind: str, rows: np.ndarray, names: list[str], start: int) -> np.ndarray:
    """A copy of rows with one fault from row ``start`` on."""
    out = rows.copy()
    col = {name: n for n, name in enumerate(names)}
    spinning = out[:, col["spindle.speed"]] > 0
    after = np.arange(len(out)) >= start
    hours = np.maximum(np.arange(len(out)) - start, 0) * 10 / 3600
    if kind == "bearing":  # v0 + a(exp(t/tau) - 1), as the simulator's bearings (a 0.3, tau 6 h)
        growth = np.minimum(0.3 * (np.exp(hours / 6.0) - 1.0), 5.0) * (after & spinning)
        out[:, col["spindle.vibration"]] += growth
        out[:, col["bearing_rise"]] += 15.0 * growth / 5.0
    elif kind == "current":
        out[after, col["spindle.current"]] *= 1.05
    else:
        out[after & spinning, col["power"]] += 2.0
    return out


def write_csv(
    path: Path, times: np.ndarray, rows: np.ndarray, names: list[str], start: int
) -> None:
    lines = [";".join(["datetime", *names, "anomaly", "changepoint"])]
    for n, (t, row) in enumerate(zip(times, rows, strict=True)):
        moment = datetime.fromtimestamp(int(t) / NS, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        values = ";".join(f"{v:.6g}" for v in row)
        lines.append(f"{moment};{values};{int(n >= start)};{int(n == start)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_labelled(plant: Plant, seeds: tuple[int, ...], folder: Path) -> int:
    """The labelled files (one per CNC, fault and seed) into ``folder``; how many."""
    rng = np.random.default_rng(0)
    files_written = 0
    for seed in seeds:
        for twin, (times, rows, names) in health_rows(plant, seed, 2.0).items():
            for kind in FAULTS:
                start = DAY_ROWS + int(rng.integers(DAY_ROWS // 8, DAY_ROWS // 2))
                faulty = inject(kind, rows, names, start)
                asset = twin.rsplit(".", 1)[-1]
                write_csv(folder / f"{asset}-{kind}-{seed}.csv", times, faulty, names, start)
                files_written += 1
    return files_written


def labelled_benchmark(plant: Plant, seeds: tuple[int, ...]) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        files_written = write_labelled(plant, seeds, Path(folder))
        evaluation = evaluate_folder(Path(folder), fit_rows=DAY_ROWS, detectors=DETECTORS)
    print(
        f"labelled: {files_written} files (2 CNCs x {len(FAULTS)} faults x {len(seeds)} seeds), "
        f"fitted on the first day, {evaluation.rows_scored} rows scored"
    )
    header = f"{'detector':<14} {'precision':>9} {'recall':>7} {'f1':>6} {'FAR':>6}"
    print(f"{header} {'found':>6} {'delay':>9}")
    for r in evaluation.results:
        delay = r.delays.median_s()
        print(
            f"{r.name:<14} {r.counts.precision:>9.3f} {r.counts.recall:>7.3f} {r.counts.f1:>6.3f} "
            f"{r.false_alarm_rate:>6.3f} {len(r.delays.rows):>3}/{r.delays.changepoints:<2} "
            f"{'-' if delay is None else f'{delay / 60:.0f} min':>9}"
        )
    return evaluation.as_dict()


def lead_times(plant: Plant, seed: int, days: float, label: str) -> dict[str, object]:
    run = run_study(plant, seed=seed, days=days, start_ns=START)
    report = warning_report(plant, run, fit_h=24.0)
    tools = warning_report(
        plant, run, fit_h=24.0, alarm="tool_health_low", join_h=0.1, kinds=("tool",)
    )
    bearing, tool = report.median_lead_h("bearing"), tools.median_lead_h("tool")
    in_alarm = {
        alarm: alarm_share(plant, run, alarm) for alarm in ("health_low", "tool_health_low")
    }
    print(f"seeded run: seed {seed}, {days:g} days, detectors (machine, tool): {label}")
    leads = [round(x, 1) for x in report.leads_h("bearing")]
    print(
        f"  health_low (health < 50 for 5 min): bearing failures "
        f"{len(leads) + report.missed('bearing')}, warned {len(leads)}, leads {leads} h, "
        f"median {bearing if bearing is None else round(bearing, 1)} h; false alarms "
        f"{report.false_alarms} in {report.asset_days:g} machine-days "
        f"= {report.false_alarms_per_day:.2f} per machine-day; "
        f"active {in_alarm['health_low']:.1%} of the time"
    )
    minutes = [round(x * 60, 1) for x in tools.leads_h("tool")]
    print(
        f"  tool_health_low (tool health < 50 for 2 min): forced tool changes "
        f"{len(minutes) + tools.missed('tool')}, warned {len(minutes)}, leads {minutes} min, "
        f"median {tool if tool is None else round(tool * 60, 1)} min; false alarms "
        f"{tools.false_alarms} = {tools.false_alarms_per_day:.2f} per machine-day; "
        f"active {in_alarm['tool_health_low']:.1%} of the time"
    )
    return {
        "seed": seed,
        "days": days,
        "bearing_leads_h": [round(x, 2) for x in report.leads_h("bearing")],
        "bearing_missed": report.missed("bearing"),
        "median_bearing_lead_h": bearing,
        "false_alarms": report.false_alarms,
        "false_alarms_per_machine_day": round(report.false_alarms_per_day, 3),
        "tool_leads_min": minutes,
        "tool_missed": tools.missed("tool"),
        "median_tool_lead_min": None if tool is None else round(tool * 60, 2),
        "tool_false_alarms": tools.false_alarms,
        "tool_false_alarms_per_machine_day": round(tools.false_alarms_per_day, 3),
        "health_low_active_share": round(in_alarm["health_low"], 4),
        "tool_health_low_active_share": round(in_alarm["tool_health_low"], 4),
    }


def alarm_share(plant: Plant, run: StudyRun, alarm: str, fit_h: float = 24.0) -> float:
    """Share of the CNCs' time after the healthy period that ``alarm`` stands (warnings
    and false alarms alike): a detector too sensitive for the plant stands for days."""
    fit_end = run.start_ns + int(fit_h * NS_PER_H)
    cncs = [t for t in plant.twins if t.rsplit(".", 1)[-1] in ("mill1", "lathe1")]
    active = sum(
        max(0, end - max(start, fit_end))
        for twin in cncs
        for start, end in episodes(run.alarms, f"{twin}:{alarm}", run.end_ns)
    )
    return active / (len(cncs) * (run.end_ns - fit_end))


def overhead(plant: Plant, label: str, chunk_s: int, hours: float = 27.0) -> dict[str, object]:
    """Health stage against the rest of the twin stage, hours 24 to ``hours``."""
    run = run_study(
        plant,
        seed=7,
        days=hours / 24,
        start_ns=START,
        chunk_s=chunk_s,
        time_from_ns=START + 24 * NS_PER_H,
    )
    base, health = run.seconds["ingest+twin+rules"], run.seconds["health"]
    ratio = health / base
    print(
        f"scoring cost ({label}), {chunk_s} s batches, hours 24-{hours:g}: "
        f"twin stage {base:.2f} s, "
        f"health {health:.2f} s, ratio {ratio:.1%} (target at most 20 %)"
    )
    return {
        "batch_s": chunk_s,
        "twin_stage_s": round(base, 3),
        "health_s": round(health, 3),
        "health_ratio": round(ratio, 4),
    }


PARTS = ("labelled", "lead", "cost")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=PARTS, action="append", help="run only these parts")
    parts = parser.parse_args().part or list(PARTS)
    print(pin_to_one_core())
    # One BLAS thread on the one core: more only spin against each other (a detector's fit,
    # an SVD of a day of rows, took 0.1-0.2 s instead of 1-10 ms with two).
    threadpool_limits(1)
    plant = demo_plant()
    started = time.perf_counter()
    figures: dict[str, object] = {}
    if "labelled" in parts:
        figures["labelled"] = labelled_benchmark(plant, seeds=(1, 2))
    if "lead" in parts:
        figures["lead_time"] = {
            label: lead_times(with_detectors(plant, kinds), seed=7, days=7.0, label=label)
            for label, kinds in VARIANTS.items()
        }
    if "cost" in parts:
        figures["overhead"] = {
            label: overhead(with_detectors(plant, VARIANTS[label]), label, chunk_s=1)
            for label in ("pca, pca", "mewma, pca")
        }
        figures["overhead_60s"] = overhead(
            with_detectors(plant, VARIANTS["pca, pca"]), "pca, pca", chunk_s=60, hours=48.0
        )
    figures["seconds"] = round(time.perf_counter() - started, 1)
    emit(figures)


if __name__ == "__main__":
    main()
