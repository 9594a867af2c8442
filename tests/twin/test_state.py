"""Live twin state: latest values, derived signals, discrete states and their roll-up."""

from __future__ import annotations

import numpy as np
import pytest

from plantwin.core import ManualClock, Quality, RawBatch, SampleBatch
from plantwin.core.store import Latest
from plantwin.ingest import Ingestor
from plantwin.model.plant import Plant
from plantwin.model.schema import StateCategory
from plantwin.twin import TwinState, TwinUpdate
from tests.helpers import T0, S, catalog_for


class Line:
    """The example plant's twin fed through ingest, as the pipeline does."""

    def __init__(self, plant: Plant) -> None:
        self.catalog = catalog_for(plant, offset=1)
        self.ingest = Ingestor(self.catalog, ManualClock(T0 + 3600 * S))
        self.twin = TwinState(plant, self.catalog)

    def feed(
        self, rows: list[tuple[str, int, float]], status: list[int] | None = None
    ) -> TwinUpdate:
        raw = RawBatch.of(
            "demo", [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], status
        )
        return self.twin.apply(self.ingest.process(raw).batch)

    def value(self, key: str) -> float:
        return float(self.twin.latest.value[self.catalog.id(key)])

    def derived(self, update: TwinUpdate, key: str) -> list[tuple[int, float]]:
        sid = self.catalog.id(key)
        batch = update.derived
        return [
            (int(t), float(v))
            for s, t, v in zip(batch.signal, batch.ts, batch.value, strict=True)
            if s == sid
        ]


@pytest.fixture
def line(example_plant: Plant) -> Line:
    return Line(example_plant)


def test_latest_value_ignores_older_samples(line: Line) -> None:
    line.feed([("L1/mill1/power", T0 + 10 * S, 7.0)])
    line.feed([("L1/mill1/power", T0 + 5 * S, 3.0)])  # late: history only
    assert line.value("changwon.L1.mill1/power") == 7.0
    line.feed([("L1/mill1/power", T0 + 11 * S, 8.0)])
    assert line.value("changwon.L1.mill1/power") == 8.0


def test_derived_signal_holds_the_other_input(line: Line) -> None:
    key = "changwon.L1.mill1/bearing_rise"
    line.feed([("L1/mill1/coolant_temp", T0, 20.0)])
    update = line.feed(
        [
            ("L1/mill1/spindle/bearing_temp", T0 + 1 * S, 41.0),
            ("L1/mill1/spindle/bearing_temp", T0 + 3 * S, 43.0),
            ("L1/mill1/coolant_temp", T0 + 2 * S, 22.0),
        ]
    )
    # at t+1 the coolant held from before (20); at t+2 and t+3 the new 22.
    assert line.derived(update, key) == [(T0 + S, 21.0), (T0 + 2 * S, 19.0), (T0 + 3 * S, 21.0)]
    assert line.value(key) == 21.0


def test_derived_needs_every_input_once(line: Line) -> None:
    update = line.feed([("L1/mill1/spindle/bearing_temp", T0, 41.0)])  # no coolant yet
    assert line.derived(update, "changwon.L1.mill1/bearing_rise") == []


def test_derived_units_and_constants(line: Line) -> None:
    update = line.feed(
        [
            ("L1/mill1/spindle/power", T0, 9.25),
            ("L1/cmm1/diameter", T0, 40.012),
        ]
    )
    [(t_load, load)] = line.derived(update, "changwon.L1.mill1.spindle/load")
    [(t_dev, dev)] = line.derived(update, "changwon.L1.cmm1/diameter_dev")
    assert (t_load, t_dev) == (T0, T0)
    assert load == pytest.approx(50.0)
    assert dev == pytest.approx(12.0)


def test_line_power_sums_the_machines_and_marks_doubtful_inputs(line: Line) -> None:
    line.feed([(f"L1/{m}/power", T0, 1.0) for m in ("mill1", "lathe1", "washer1", "cmm1")])
    assert line.value("changwon.L1/power") == 4.0
    update = line.feed([("L1/mill1/power", T0 + S, 5.0)], status=[int(Quality.UNCERTAIN)])
    assert line.derived(update, "changwon.L1/power") == [(T0 + S, 8.0)]
    quality = int(update.derived.quality[0])
    assert quality & Quality.UNCERTAIN
    assert quality & Quality.SUBSTITUTED


def test_state_changes_and_rollup_in_time_order(line: Line) -> None:
    update = line.feed(
        [
            ("L1/mill1/state", T0, 1),
            ("L1/lathe1/state", T0 + S, 1),
            ("L1/mill1/state", T0 + 5 * S, 1),  # unchanged: no event
            ("L1/mill1/state", T0 + 9 * S, 3),
        ]
    )
    changes = [(c.ts - T0, c.twin, c.state, c.previous) for c in update.changes]
    assert changes == [
        (0, "changwon.L1.mill1", "running", None),
        (0, "changwon.L1", "production", None),
        (0, "changwon", "production", None),
        (S, "changwon.L1.lathe1", "running", None),
        (9 * S, "changwon.L1.mill1", "down", "running"),
        (9 * S, "changwon.L1", "fault", "production"),
        (9 * S, "changwon", "fault", "production"),
    ]
    status = line.twin.states.status["changwon.L1"]
    assert status.counts == {StateCategory.FAULT: 1, StateCategory.PRODUCTION: 1}
    view = line.twin.view("changwon.L1.mill1")
    assert view.state is not None
    assert (view.state.name, view.state.since) == ("down", T0 + 9 * S)


def test_unknown_state_code_is_kept_aside(line: Line) -> None:
    update = line.feed([("L1/mill1/state", T0, 42)])
    assert update.changes == []
    assert [(u.twin, u.code) for u in line.twin.states.unknown] == [("changwon.L1.mill1", 42.0)]
    assert line.twin.states.unknown_count == 1


def test_restore_resumes_values_and_states(example_plant: Plant, line: Line) -> None:
    update = line.feed([("L1/mill1/state", T0, 3), ("L1/mill1/power", T0, 2.5)])
    sid = line.catalog.id("changwon.L1.mill1/power")
    latest = Latest(
        signal=np.array([sid], np.int32),
        ts=np.array([T0], np.int64),
        value=np.array([2.5]),
        quality=np.zeros(1, np.uint8),
    )
    fresh = TwinState(example_plant, line.catalog)
    fresh.restore(latest, update.changes)
    view = fresh.view("changwon.L1.mill1")
    assert view.state is not None
    assert view.state.name == "down"
    assert fresh.states.status["changwon.L1"].rollup is StateCategory.FAULT
    assert [s.value for s in view.signals if s.name == "power"] == [2.5]


def test_empty_batch_changes_nothing(line: Line) -> None:
    update = line.twin.apply(SampleBatch.empty())
    assert len(update.derived) == 0
    assert update.changes == []


def test_a_late_state_sample_does_not_flip_the_live_state(line: Line) -> None:
    line.feed([("L1/mill1/state", T0, 1)])
    line.feed([("L1/mill1/state", T0 + 20 * S, 1)])  # still running, newer sample
    update = line.feed([("L1/mill1/state", T0 + 10 * S, 3)])  # late 'down'
    assert update.changes == []
    view = line.twin.view("changwon.L1.mill1")
    assert view.state is not None
    assert view.state.name == "running"
    assert line.twin.states.status["changwon.L1"].rollup is StateCategory.PRODUCTION


def test_a_late_input_never_meets_another_inputs_future_value(line: Line) -> None:
    key = "changwon.L1.mill1/bearing_rise"
    line.feed([("L1/mill1/coolant_temp", T0, 20.0), ("L1/mill1/spindle/bearing_temp", T0, 40.0)])
    line.feed([("L1/mill1/coolant_temp", T0 + 100 * S, 30.0)])
    late = line.feed([("L1/mill1/spindle/bearing_temp", T0 + 50 * S, 45.0)])
    assert line.derived(late, key) == []  # coolant at t+50 is unknown from the live state
    assert line.twin.derived.late_skipped == 1
    both = line.feed(
        [
            ("L1/mill1/spindle/bearing_temp", T0 + 60 * S, 46.0),
            ("L1/mill1/coolant_temp", T0 + 55 * S, 25.0),
        ]
    )
    assert line.derived(both, key) == [(T0 + 55 * S, 20.0), (T0 + 60 * S, 21.0)]
