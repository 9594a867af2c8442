"""Commands written to the demo line change the physics and what the machines report."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from plantwin.core.errors import ConnectorError
from plantwin.model.plant import Plant
from plantwin.simulation.demo_plant import DemoLine, DemoSettings
from tests.simulation.support import START, Readings, S

HOUR = 3600
BAR_PER_PSI = 0.0689476


def cutting_power(r: Readings, asset: str, after_ns: int, before_ns: int) -> float:
    t, p = r.series(f"L1/{asset}/spindle/power")
    window = (t > after_ns) & (t <= before_ns) & (p > 2.0)
    return float(np.median(p[window]))


def test_feed_override_shortens_cycles_and_raises_power(demo_plant_model: Plant) -> None:
    line = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    before = Readings.of([line.advance(2 * HOUR)])
    line.write("L1/mill1/cmd/set_feed_override", 120.0)
    assert line.truth.commands == []  # not yet applied
    t_cmd = line.now_ns
    after = Readings.of([line.advance(2 * HOUR)])
    assert line.truth.commands[-1].ts_ns == t_cmd + S

    ts, feed = after.series("L1/mill1/feed_override")
    assert set(before.series("L1/mill1/feed_override")[1].tolist()) == {100.0}
    assert (feed[ts > t_cmd + 10 * S] == 120.0).all()
    # cycle: 9 s load + 72 s cutting / 1.2 + 9 s unload = 78 s (was 90 s)
    assert np.median(before.series("L1/mill1/cycle_time")[1]) == pytest.approx(90, abs=3)
    assert np.median(after.series("L1/mill1/cycle_time")[1]) == pytest.approx(78, abs=3)
    p_before = cutting_power(before, "mill1", START, t_cmd)
    p_after = cutting_power(after, "mill1", t_cmd, line.now_ns)
    assert p_after > 1.1 * p_before
    assert line.truth.commands[-1].accepted
    assert line.truth.commands[-1].value == 120.0


def test_spindle_speed_applies_from_the_next_cycle(demo_plant_model: Plant) -> None:
    line = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    before = Readings.of([line.advance(HOUR)])
    line.write("L1/lathe1/cmd/set_spindle_speed", 1800.0)
    after = Readings.of([line.advance(HOUR)])
    _, speed_before = before.series("L1/lathe1/spindle/speed")
    t, speed_after = after.series("L1/lathe1/spindle/speed")
    assert np.median(speed_before[speed_before > 0]) == pytest.approx(1600, rel=0.01)
    late = speed_after[(t > line.now_ns - 30 * 60 * S) & (speed_after > 0)]
    assert np.median(late) == pytest.approx(1800, rel=0.01)


def test_pressure_set_point_in_psi_moves_the_header(demo_plant_model: Plant) -> None:
    line = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    before = Readings.of([line.advance(HOUR)])
    line.write("changwon/compressor1/cmd/set_pressure", 6.5 / BAR_PER_PSI)
    t_cmd = line.now_ns
    after = Readings.of([line.advance(HOUR)])
    _, psi_before = before.series("changwon/compressor1/pressure_psi")
    t, psi_after = after.series("changwon/compressor1/pressure_psi")
    assert np.mean(psi_before) * BAR_PER_PSI == pytest.approx(7.0, abs=0.1)
    settled = psi_after[t > t_cmd + 10 * 60 * S] * BAR_PER_PSI
    assert np.mean(settled) == pytest.approx(6.5, abs=0.1)
    assert line.truth.commands[-1].value == pytest.approx(6.5)


def test_reset_fault_returns_a_repaired_machine(demo_plant_model: Plant) -> None:
    s = DemoSettings()
    brittle = replace(s.mill, failures=replace(s.mill.failures, mtbf_h=0.3, mttr_h=0.2))
    settings = replace(s, mill=brittle, auto_reset=False)
    line = DemoLine(plant=demo_plant_model, seed=7, settings=settings, start_ns=START)
    line.write("L1/mill1/cmd/reset_fault", 1.0)
    batches = [line.advance(1)]
    assert line.truth.commands[-1].note == "not down"
    notes = []
    for _ in range(200):  # until a reset is accepted
        batches.append(line.advance(59))
        line.write("L1/mill1/cmd/reset_fault", 1.0)
        batches.append(line.advance(1))  # commands act at the next step
        notes.append(line.truth.commands[-1].note)
        if line.truth.commands[-1].accepted:
            break
    t_reset = line.now_ns
    assert line.truth.commands[-1].ts_ns == t_reset
    batches.append(line.advance(60))
    r = Readings.of(batches)
    assert "repair not finished" in notes  # refused while the repair is still going on
    assert "" in notes
    t, state = r.series("L1/mill1/state")
    assert state[t < t_reset][-1] == 3
    assert state[t >= t_reset][0] in (0, 1)
    failure = line.truth.failures[-1]
    assert failure.asset == "mill1"
    assert failure.end_ns == t_reset


def test_unknown_addresses_and_bad_values_are_refused(demo_plant_model: Plant) -> None:
    line = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    with pytest.raises(ConnectorError, match="L1/mill9/cmd/set_feed_override"):
        line.write("L1/mill9/cmd/set_feed_override", 100.0)
    with pytest.raises(ConnectorError, match=r"outside 50\.\.120 percent"):
        line.write("L1/mill1/cmd/set_feed_override", 200.0)
    with pytest.raises(ConnectorError, match="not a finite number"):
        line.write("L1/mill1/cmd/set_feed_override", float("nan"))
    with pytest.raises(ConnectorError, match=r"outside 6\.\.7\.5 bar"):
        line.write("changwon/compressor1/cmd/set_pressure", 130.0)  # psi: ~9 bar
    assert line.truth.commands == []
    assert set(line.command_addresses) == {
        b.address for b in demo_plant_model.bindings if "#" in b.signal
    }
