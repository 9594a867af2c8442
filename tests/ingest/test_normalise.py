"""Ingest: mapping, units, quality, dedupe, order, and dead letters that lose nothing else."""

from __future__ import annotations

import json

import numpy as np
import pytest

from plantwin.core import ManualClock, Quality, RawBatch
from plantwin.ingest import Ingestor
from plantwin.model.plant import Plant
from tests.helpers import T0, S, catalog_for


@pytest.fixture
def ingestor(example_plant: Plant) -> Ingestor:
    return Ingestor(catalog_for(example_plant, offset=3), ManualClock(T0))


def _value(ingestor: Ingestor, key: str, result_batch: object) -> list[float]:
    batch = result_batch
    sid = ingestor.catalog.id(key)
    assert hasattr(batch, "signal")
    return [float(v) for v, s in zip(batch.value, batch.signal, strict=True) if s == sid]  # type: ignore[attr-defined]


def test_maps_addresses_and_converts_units(ingestor: Ingestor) -> None:
    raw = RawBatch.of(
        "demo",
        ["changwon/compressor1/pressure_psi", "L1/washer1/tank_temp_x10", "L1/mill1/power"],
        [T0, T0, T0],
        [100.0, 655.0, 12.5],
    )
    result = ingestor.process(raw)
    assert result.dead == []
    assert _value(ingestor, "changwon.compressor1/pressure", result.batch) == pytest.approx(
        [6.894757]
    )
    assert _value(ingestor, "changwon.L1.washer1/tank_temp", result.batch) == pytest.approx([65.5])
    assert _value(ingestor, "changwon.L1.mill1/power", result.batch) == [12.5]
    assert result.batch.signal.dtype == np.int32
    assert result.batch.ts.dtype == np.int64


def test_flags_out_of_range_and_keeps_source_quality(ingestor: Ingestor) -> None:
    raw = RawBatch.of(
        "demo",
        ["L1/mill1/spindle/vibration", "L1/mill1/spindle/vibration", "L1/mill1/coolant_temp"],
        [T0, T0 + S, T0],
        [25.0, 2.0, 20.0],  # vibration range is 0..20 mm/s
        [0, 0, int(Quality.UNCERTAIN)],
    )
    batch = ingestor.process(raw).batch
    vib = ingestor.catalog.id("changwon.L1.mill1.spindle/vibration")
    rows = {
        (int(s), int(t)): int(q)
        for s, t, q in zip(batch.signal, batch.ts, batch.quality, strict=True)
    }
    assert rows[(vib, T0)] == Quality.OUT_OF_RANGE
    assert rows[(vib, T0 + S)] == Quality.GOOD
    assert rows[(ingestor.catalog.id("changwon.L1.mill1/coolant_temp"), T0)] == Quality.UNCERTAIN
    assert ingestor.stats.out_of_range == 1


def test_stale_from_the_source_is_kept_but_a_source_cannot_set_range_flags(
    ingestor: Ingestor,
) -> None:
    # A Sparkplug B death repeats the last value flagged STALE; OUT_OF_RANGE is ingest's own.
    raw = RawBatch.of(
        "demo",
        ["L1/mill1/power", "L1/mill1/coolant_temp"],
        [T0, T0],
        [5.0, 20.0],
        [int(Quality.STALE), int(Quality.OUT_OF_RANGE | Quality.SUBSTITUTED)],
    )
    batch = ingestor.process(raw).batch
    quality = dict(zip(batch.signal.tolist(), batch.quality.tolist(), strict=True))
    assert quality[ingestor.catalog.id("changwon.L1.mill1/power")] == Quality.STALE
    assert quality[ingestor.catalog.id("changwon.L1.mill1/coolant_temp")] == Quality.GOOD


def test_duplicates_keep_the_last_and_out_of_order_rows_are_sorted(ingestor: Ingestor) -> None:
    address = "L1/mill1/power"
    raw = RawBatch.of("demo", [address] * 4, [T0 + 2 * S, T0, T0 + S, T0], [3.0, 1.0, 2.0, 1.5])
    batch = ingestor.process(raw).batch
    assert batch.ts.tolist() == [T0, T0 + S, T0 + 2 * S]
    assert batch.value.tolist() == [1.5, 2.0, 3.0]
    assert ingestor.stats.duplicates_in_batch == 1


def test_bad_rows_become_dead_letters_and_the_rest_lands(ingestor: Ingestor) -> None:
    raw = RawBatch.of(
        "demo",
        [
            "L1/mill1/power",
            "L1/nosuch/power",
            "L1/mill1/energy",
            "L1/mill1/coolant_temp",
            "L1/lathe1/power",
        ],
        [T0, T0, T0, 10, T0 + 10 * 86_400 * S],
        [1.0, 2.0, float("nan"), 20.0, 5.0],
    )
    result = ingestor.process(raw)
    assert len(result.batch) == 1
    assert _value(ingestor, "changwon.L1.mill1/power", result.batch) == [1.0]
    reasons = {d.location: d.reason for d in result.dead}
    assert "not bound" in reasons["L1/nosuch/power"]
    assert "not a finite number" in reasons["L1/mill1/energy"]
    assert "before 2000-01-01" in reasons["L1/mill1/coolant_temp"]
    assert "864000 s in the future" in reasons["L1/lathe1/power"]
    payload = json.loads(next(d.raw for d in result.dead if d.location == "L1/nosuch/power"))
    assert payload == {"address": "L1/nosuch/power", "ts": T0, "value": 2.0, "status": 0}
    assert ingestor.stats.by_reason == {"unmapped": 1, "not_a_number": 1, "bad_timestamp": 2}


def test_unknown_connector_dead_letters_everything(ingestor: Ingestor) -> None:
    result = ingestor.process(RawBatch.of("plc9", ["a", "b"], [T0, T0], [1.0, 2.0]))
    assert len(result.batch) == 0
    assert [d.reason for d in result.dead] == [
        "connector 'plc9' has no bindings in the plant file"
    ] * 2


def test_screen_names_the_rows_process_rejects_and_counts_nothing(ingestor: Ingestor) -> None:
    raw = RawBatch.of(
        "demo",
        ["L1/mill1/power", "L1/mill9/power", "L1/mill1/power", "L1/mill1/power"],
        [T0, T0, T0 - 40 * 365 * 86_400 * S, T0 + 3 * 86_400 * S],
        [1.0, 2.0, 3.0, 4.0],
    )
    screened = ingestor.screen(raw)
    assert ingestor.stats.received == 0  # a dry run
    assert screened == [
        (1, "address 'L1/mill9/power' is not bound to a signal of 'demo'"),
        (2, f"timestamp {T0 - 40 * 365 * 86_400 * S} ns at 'L1/mill1/power' is before 2000-01-01"),
        (3, "timestamp at 'L1/mill1/power' is 259200 s in the future"),
    ]
    result = ingestor.process(raw)
    assert [d.reason for d in result.dead] == [reason for _, reason in screened]
    assert len(result.batch) == 1
    unknown = RawBatch.of("nobody", ["x"], [T0], [1.0])
    assert ingestor.screen(unknown) == [(0, "connector 'nobody' has no bindings in the plant file")]
