"""DemoLine: reproducibility, what it emits, counters, energy, snapshots, local time."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from plantwin.core.errors import ConnectorError
from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant, TwinKind
from plantwin.simulation.demo_plant import DemoLine, DemoSettings
from plantwin.simulation.demo_plant.utilities import LocalTime, site_zone
from tests.simulation.support import DAY, PLANT_FILE, START, Readings, S

HOUR = 3600


def demo_addresses(plant: Plant) -> set[str]:
    return {b.address for b in plant.bindings if b.connector == "demo" and "#" not in b.signal}


# ---------------------------------------------------------------- reproducibility
def test_same_seed_same_readings_however_the_run_is_cut(demo_plant_model: Plant) -> None:
    a = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    b = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    whole = Readings.of([a.advance(2 * HOUR)])
    pieces = Readings.of(
        [b.advance(0.4) for _ in range(10)]  # fractions carry over
        + list(b.run(HOUR - 4, chunk_s=337))
        + [b.advance_to(START + 2 * HOUR * S)]
    )
    assert len(whole.ts) > 100_000
    assert whole.same_as(pieces)
    assert a.truth == b.truth


def test_different_seed_different_readings(demo_plant_model: Plant) -> None:
    a = Readings.of([DemoLine(plant=demo_plant_model, seed=7, start_ns=START).advance(HOUR)])
    b = Readings.of([DemoLine(plant=demo_plant_model, seed=8, start_ns=START).advance(HOUR)])
    n = min(len(a.value), len(b.value))
    assert not np.array_equal(a.value[:n], b.value[:n])


def test_a_simulated_hour_is_fast(demo_plant_model: Plant) -> None:
    line = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    t0 = time.perf_counter()
    line.advance(HOUR)
    assert time.perf_counter() - t0 < 2.0  # measured ~0.06 s; a day takes ~1.5 s


# ---------------------------------------------------------------- what is emitted
def test_emits_exactly_the_demo_bindings_within_an_hour(
    demo_plant_model: Plant, day_run: tuple[DemoLine, Readings]
) -> None:
    _, r = day_run
    first_hour = set(r.address[r.ts <= START + HOUR * S].tolist())
    assert first_hour == demo_addresses(demo_plant_model)
    assert set(r.address.tolist()) == demo_addresses(demo_plant_model)


def test_periodic_signals_follow_their_plant_file_rate(
    demo_plant_model: Plant, day_run: tuple[DemoLine, Readings]
) -> None:
    _, r = day_run
    assert r.ts.dtype == np.int64
    assert (np.diff(r.ts) >= 0).all()
    assert (r.ts % S == 0).all()
    for b in demo_plant_model.bindings:
        rate = demo_plant_model.signals[b.signal].rate_hz if "#" not in b.signal else None
        if rate is None:
            continue
        ts, _ = r.series(b.address)
        assert set(np.diff(ts).tolist()) == {round(S / rate)}, b.address
        assert len(ts) == round(DAY * rate), b.address


def test_states_on_change_and_every_minute(day_run: tuple[DemoLine, Readings]) -> None:
    _, r = day_run
    ts, codes = r.series("L1/mill1/state")
    assert set(codes.tolist()) <= {0, 1, 2, 3, 4}
    assert {0, 1, 2}.issubset(set(codes.tolist()))
    assert np.diff(ts).max() <= 60 * S
    assert ts[0] == START + S
    _, comp = r.series("changwon/compressor1/state")
    assert set(comp.tolist()) <= {0, 1, 3, 4, 5}


def test_values_in_source_units(day_run: tuple[DemoLine, Readings]) -> None:
    _, r = day_run
    _, psi = r.series("changwon/compressor1/pressure_psi")
    assert 6.0 < np.median(psi) * 0.0689476 < 7.5  # a ~7 bar header, sent in psi
    assert 90 < np.median(psi) < 110
    _, tenths = r.series("L1/washer1/tank_temp_x10")
    assert np.array_equal(tenths, np.round(tenths))  # whole tenths, as a PLC sends them
    assert 550 < np.median(tenths) < 650


def test_values_stay_in_plant_file_ranges(
    demo_plant_model: Plant, day_run: tuple[DemoLine, Readings]
) -> None:
    _, r = day_run
    for b in demo_plant_model.bindings:
        if "#" in b.signal:
            continue
        sig = demo_plant_model.signals[b.signal]
        if sig.low is None or sig.high is None or b.signal.endswith(("diameter", "width")):
            continue  # measured dimensions of scrap parts may leave the display range
        _, raw = r.series(b.address)
        value = b.a * raw + b.b
        assert value.min() >= sig.low, b.address
        assert value.max() <= sig.high, b.address


# ---------------------------------------------------------------- counters and balances
def test_counters_never_decrease_and_parts_balance(day_run: tuple[DemoLine, Readings]) -> None:
    line, r = day_run
    for addr in (
        "L1/mill1/part_count",
        "L1/lathe1/part_count",
        "L1/washer1/part_count",
        "L1/cmm1/good_count",
        "L1/cmm1/scrap_count",
        "L1/mill1/energy",
        "changwon/meter1/energy",
    ):
        _, v = r.series(addr)
        assert (np.diff(v) >= 0).all(), addr
    good = r.series("L1/cmm1/good_count")[1][-1]
    scrap = r.series("L1/cmm1/scrap_count")[1][-1]
    inspected = len(line.truth.parts)
    assert good + scrap == inspected > 500
    assert scrap == sum(not p.good for p in line.truth.parts)
    counts = [r.series(f"L1/{m}/part_count")[1][-1] for m in ("mill1", "lathe1", "washer1")]
    assert counts[0] >= counts[1] >= counts[2] >= inspected
    assert counts[0] - inspected <= 4 * 8 + 4  # the rest is on the buffers or in machines


def test_tool_counter_resets_at_each_tool_change(day_run: tuple[DemoLine, Readings]) -> None:
    line, r = day_run
    _, parts = r.series("L1/lathe1/tool/parts")
    resets = int(np.sum(np.diff(parts) < 0))
    assert resets == sum(t.asset == "lathe1" for t in line.truth.tools) >= 3
    assert parts.max() <= DemoSettings().lathe.tool.change_parts


def test_energy_counters_integrate_power(day_run: tuple[DemoLine, Readings]) -> None:
    _, r = day_run
    for asset in ("L1/mill1", "L1/lathe1", "L1/washer1", "L1/cmm1", "changwon/compressor1"):
        t_e, e = r.series(f"{asset}/energy")
        t_p, p = r.series(f"{asset}/power")
        inside = (t_p > t_e[0]) & (t_p <= t_e[-1])
        integral = p[inside].sum() / 3600.0  # 1 Hz samples, kW * s -> kWh
        assert e[-1] - e[0] == pytest.approx(integral, rel=0.01), asset
        assert e[-1] > 10.0


def test_site_meter_is_the_sum_plus_base_load(day_run: tuple[DemoLine, Readings]) -> None:
    _, r = day_run
    _ts, meter = r.series("changwon/meter1/power")
    assets = [
        *(f"L1/{a}/power" for a in ("mill1", "lathe1", "washer1", "cmm1")),
        *(f"L1/{b}/power" for b in ("buf_in", "buf_ml", "buf_lw", "buf_wc")),
        "changwon/compressor1/power",
    ]
    total = sum(r.series(a)[1] for a in assets)
    base = meter - total
    assert 25.0 < base.mean() < 50.0  # DemoSettings.site: 30 kW + up to 15 kW by day
    assert base.min() > 20.0


def test_buffer_levels_stay_within_capacity(day_run: tuple[DemoLine, Readings]) -> None:
    _, r = day_run
    for buf in ("buf_in", "buf_ml", "buf_lw", "buf_wc"):
        _, level = r.series(f"L1/{buf}/level")
        assert level.min() >= 0, buf
        assert level.max() <= 8, buf
        assert np.array_equal(level, np.round(level))
    _, level = r.series("L1/buf_ml/level")
    assert level.max() == 8  # blocking happens while the lathe is down


# ---------------------------------------------------------------- snapshot and restore
def test_snapshot_restore_continues_identically(demo_plant_model: Plant) -> None:
    a = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    first_a = Readings.of([a.advance(HOUR)])
    second_a = Readings.of([a.advance(HOUR)])

    b = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    first_b = Readings.of([b.advance(HOUR)])
    b.write("L1/mill1/cmd/set_feed_override", 100.0)  # commands are state too
    a_data = b.snapshot()
    c = DemoLine(plant=demo_plant_model, seed=7, start_ns=START + 5 * HOUR * S)
    c.restore(a_data)
    assert c.now_ns == START + HOUR * S
    second_c = Readings.of([c.advance(HOUR)])

    assert first_a.same_as(first_b)
    assert len(second_a.ts) > 100_000
    assert second_a.same_as(second_c)
    assert a.truth.parts == c.truth.parts
    assert a.truth.state_s == c.truth.state_s
    assert [cmd.address for cmd in c.truth.commands] == ["L1/mill1/cmd/set_feed_override"]


def test_restore_refuses_other_seeds_settings_and_garbage(demo_plant_model: Plant) -> None:
    line = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    line.advance(60)
    data = line.snapshot()
    with pytest.raises(ValueError, match="seed"):
        DemoLine(plant=demo_plant_model, seed=8, start_ns=START).restore(data)
    with pytest.raises(ValueError, match="DemoSettings"):
        DemoLine(
            plant=demo_plant_model, seed=7, start_ns=START, settings=DemoSettings(heartbeat_s=30)
        ).restore(data)
    with pytest.raises(ValueError, match="not a demo-plant snapshot"):
        line.restore(b"not a snapshot")


def test_snapshot_without_truth_is_smaller(demo_plant_model: Plant) -> None:
    line = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    line.advance(4 * HOUR)
    full, lean = line.snapshot(), line.snapshot(include_truth=False)
    assert len(lean) < len(full)
    other = DemoLine(plant=demo_plant_model, seed=7, start_ns=START)
    other.restore(lean)
    assert other.truth.parts == []
    assert other.now_ns == line.now_ns


# ---------------------------------------------------------------- plant file checks
def test_a_signal_the_simulator_cannot_make_is_refused() -> None:
    text = PLANT_FILE.read_text(encoding="utf-8").replace(
        "      power: {unit: kW, range: [0, 500], rate: 1 Hz}",
        "      power: {unit: kW, range: [0, 500], rate: 1 Hz}\n"
        "      voltage: {unit: V, range: [0, 500], rate: 1 Hz}",
    )
    plant = parse_plant(text, "edited.yaml")
    with pytest.raises(ConnectorError, match="changwon/meter1/voltage"):
        DemoLine(plant=plant, seed=7, start_ns=START)


def with_binding(plant: Plant, address: str, scale: float, a: float, b: float) -> Plant:
    bindings = tuple(
        replace(x, scale=scale, a=a, b=b) if x.address == address else x for x in plant.bindings
    )
    return replace(plant, bindings=bindings)


def with_rate(plant: Plant, address: str, rate: float) -> Plant:
    key = next(b.signal for b in plant.bindings if b.address == address)
    signals = {**plant.signals, key: replace(plant.signals[key], rate_hz=rate)}
    return replace(plant, signals=signals)


@pytest.mark.parametrize(
    ("scale", "a", "b"),
    [(0.0, 0.0, 0.0), (math.nan, math.nan, 0.0), (0.1, math.inf, 0.0), (0.1, 0.1, math.nan)],
)
def test_a_binding_that_cannot_be_inverted_is_refused(
    demo_plant_model: Plant, scale: float, a: float, b: float
) -> None:
    # the plant loader refuses these too; the emitter must not divide by them
    address = "L1/washer1/tank_temp_x10"
    plant = with_binding(demo_plant_model, address, scale, a, b)
    with pytest.raises(ConnectorError, match=address):
        DemoLine(plant=plant, seed=7, start_ns=START)


@pytest.mark.parametrize("rate", [0.0, -1.0, math.nan, math.inf, 5e-324])
def test_a_rate_that_gives_no_period_is_refused(demo_plant_model: Plant, rate: float) -> None:
    address = "changwon/compressor1/pressure_psi"
    plant = with_rate(demo_plant_model, address, rate)
    with pytest.raises(ConnectorError, match=f"{address}.*sample rate"):
        DemoLine(plant=plant, seed=7, start_ns=START)


# ---------------------------------------------------------------- local time
def test_local_time_comes_from_the_plant_file(demo_plant_model: Plant) -> None:
    assert site_zone(demo_plant_model, "demo") == ZoneInfo("Asia/Seoul")
    text = PLANT_FILE.read_text(encoding="utf-8").replace("Asia/Seoul", "Europe/Berlin")
    assert site_zone(parse_plant(text, "edited.yaml"), "demo") == ZoneInfo("Europe/Berlin")
    assert site_zone(demo_plant_model, "no such connector") == ZoneInfo("UTC")


def test_sites_in_two_time_zones_are_refused(demo_plant_model: Plant) -> None:
    plant = demo_plant_model
    line = replace(plant.twins["changwon.L1"], kind=TwinKind.SITE)  # a second "site"
    two = replace(
        plant,
        twins={**plant.twins, line.id: line},
        timezones={**plant.timezones, line.id: "Europe/Berlin"},
    )
    with pytest.raises(ConnectorError, match=r"changwon \(Asia/Seoul\), changwon.L1 \(Europe"):
        DemoLine(plant=two, seed=7, start_ns=START)


def test_local_time_follows_daylight_saving() -> None:
    berlin = LocalTime(ZoneInfo("Europe/Berlin"))
    change = 1_774_746_000  # 2026-03-29T01:00:00Z: CET -> CEST
    assert berlin.hour(change - 1) == pytest.approx(1.0 + 59 / 60 + 59 / 3600)
    assert berlin.hour(change) == 3.0
    assert LocalTime(ZoneInfo("Asia/Seoul")).hour(START // S) == 9.0
    assert LocalTime(ZoneInfo("Asia/Kathmandu")).hour(START // S + 1) == pytest.approx(
        5.75 + 1 / 3600
    )


def test_day_shift_load_follows_the_site_clock(day_run: tuple[DemoLine, Readings]) -> None:
    _, r = day_run
    ts, meter = r.series("changwon/meter1/power")
    assets = [
        *(f"L1/{a}/power" for a in ("mill1", "lathe1", "washer1", "cmm1")),
        *(f"L1/{b}/power" for b in ("buf_in", "buf_ml", "buf_lw", "buf_wc")),
        "changwon/compressor1/power",
    ]
    base = meter - sum(r.series(a)[1] for a in assets)
    seoul_hour = ((ts - START) // S / 3600 + 9) % 24
    midday, night = base[abs(seoul_hour - 12) < 1], base[seoul_hour < 5]
    assert midday.mean() - night.mean() == pytest.approx(15.0, abs=1.5)  # base_day_kw
