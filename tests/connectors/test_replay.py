"""The replay connector on real CSV and Parquet files, paced by a manual clock."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plantwin.connectors.replay import ReplayConnector, parse_options
from plantwin.core import ConnectorError, DeadLetter, ManualClock, RawBatch
from plantwin.core.connector import ConnectorStatus
from plantwin.model.plant import ConnectorDef
from tests.helpers import T0, S

Item = RawBatch | DeadLetter


def declared(folder: Path, **options: object) -> ConnectorDef:
    return ConnectorDef(
        name="rec",
        kind="replay",
        description="",
        options=options,
        source=str(folder / "plant.yaml"),  # relative files start next to the plant file
    )


def connector(
    folder: Path,
    given: Mapping[str, object] | None = None,
    *,
    clock: ManualClock | None = None,
    addresses: set[str] | None = None,
    **opts: object,
) -> ReplayConnector:
    return ReplayConnector(
        name="rec",
        options=parse_options(declared(folder, **{**(given or {}), **opts})),
        clock=clock or ManualClock(T0),
        addresses=addresses,
    )


async def collect(replay: ReplayConnector) -> list[Item]:
    async with replay:
        return [item async for item in replay.readings()]


def batches(items: list[Item]) -> list[RawBatch]:
    return [i for i in items if isinstance(i, RawBatch)]


def letters(items: list[Item]) -> list[DeadLetter]:
    return [i for i in items if isinstance(i, DeadLetter)]


LONG = """time,tag,value,quality
2027-01-15T08:00:02Z,m1.power,12.5,good
2027-01-15T08:00:00Z,m1.power,11.0,
2027-01-15T08:00:01Z,m1.temp,40,uncertain
yesterday,m1.power,1,good
2027-01-15T08:00:03Z,m1.power,abc,good
2027-01-15T08:00:03Z,,5,good
2027-01-15T08:00:03Z,m1.power,nan,good
2027-01-15T08:00:04Z,m1.power,,good
2027-01-15T08:00:04Z,m1.temp,41,sparkly
2027-01-15T17:00:05+09:00,m1.temp,42,bad
2027-01-15T08:00:06Z,m9.power,1,good
"""
LONG_OPTIONS = {
    "file": "long.csv",
    "speed": "max",
    "time_column": "time",
    "address_column": "tag",
    "quality_column": "quality",
    "batch_rows": 2,
}


async def test_long_csv_replays_in_time_order_and_bad_rows_become_dead_letters(
    tmp_path: Path,
) -> None:
    (tmp_path / "long.csv").write_text(LONG)
    replay = connector(tmp_path, LONG_OPTIONS, addresses={"m1.power", "m1.temp"})
    items = await collect(replay)
    dead = letters(items)
    assert items[: len(dead)] == dead  # dead letters come first, then the samples
    assert [(d.location, d.reason) for d in dead] == [
        ("long.csv:5", "time 'yesterday' is not an ISO 8601 time"),
        ("long.csv:6", "value (value) 'abc' is not a number"),
        ("long.csv:7", "address (tag) is empty"),
        ("long.csv:8", "value (value) 'nan' is not a finite number"),
        ("long.csv:9", "value (value) is empty"),
        ("long.csv:10", "quality (quality) 'sparkly' is not good, uncertain or bad"),
        ("long.csv:12", "address 'm9.power' is not bound to a signal of 'rec'"),
    ]
    assert b'"tag": "m1.power"' in dead[1].raw
    assert b'"value": "abc"' in dead[1].raw
    got = batches(items)
    assert [len(b) for b in got] == [2, 2]  # batch_rows
    ts = np.concatenate([b.ts for b in got])
    assert (ts - T0).tolist() == [0, 1 * S, 2 * S, 5 * S]  # sorted; +09:00 converted
    assert [a for b in got for a in b.address] == ["m1.power", "m1.temp", "m1.power", "m1.temp"]
    assert np.concatenate([b.value for b in got]).tolist() == [11.0, 40.0, 12.5, 42.0]
    assert np.concatenate([b.status for b in got]).tolist() == [0, 1, 0, 2]
    health = replay.health()
    assert health.status is ConnectorStatus.FINISHED
    assert (health.samples, health.dead_letters) == (4, 7)
    assert health.detail["rows"] == 11
    assert health.detail["reordered"]
    assert health.detail["replayed_through"] == "2027-01-15T08:00:05Z"


async def test_wide_csv_skips_empty_cells_and_points_at_the_bad_cell(tmp_path: Path) -> None:
    (tmp_path / "wide.csv").write_text(
        "ts;power;temp\n"
        "1800000000000;1.5;40\n"
        "1800000001000;;41\n"  # no power sample at this time: not an error
        "1800000002000;2.5;hot\n"
        "soon;3.5;43\n"
    )
    replay = connector(
        tmp_path,
        file="wide.csv",
        layout="wide",
        time_format="ms",
        delimiter=";",
        speed=0,
        addresses={"power", "temp"},
    )
    items = await collect(replay)
    assert [(d.location, d.reason) for d in letters(items)] == [
        ("wide.csv:4 column temp", "value (temp) 'hot' is not a number"),
        ("wide.csv:5", "time 'soon' is not a number of ms since the epoch"),
    ]
    (batch,) = batches(items)
    assert batch.address == ["power", "temp", "temp", "power"]
    assert ((batch.ts - T0) // S).tolist() == [0, 0, 1, 2]
    assert batch.value.tolist() == [1.5, 40.0, 41.0, 2.5]


async def test_a_wide_column_without_a_binding_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "wide.csv").write_text("ts,power,comment\n2027-01-15T08:00:00Z,1,ok\n")
    replay = connector(tmp_path, file="wide.csv", layout="wide", addresses={"power"})
    with pytest.raises(ConnectorError, match=r"columns comment of 'wide\.csv' are not bound"):
        await collect(replay)
    # Naming the wanted columns leaves the others out.
    replay = connector(
        tmp_path, file="wide.csv", layout="wide", columns=["power"], addresses={"power"}
    )
    assert batches(await collect(replay))[0].address == ["power"]


async def test_parquet_with_typed_times_and_the_zone_rule(tmp_path: Path) -> None:
    stamps = np.array([T0, T0 + S, T0 + 2 * S], "datetime64[ns]")
    table = pa.table(
        {
            "ts": pa.array(stamps, pa.timestamp("ns", tz="UTC")),
            "address": ["a", None, "b"],
            "value": pa.array([1, 2, 3], pa.int16()),
        }
    )
    pq.write_table(table, tmp_path / "typed.parquet")
    items = await collect(connector(tmp_path, file="typed.parquet", speed="max"))
    assert [(d.location, d.reason) for d in letters(items)] == [
        ("typed.parquet:row 2", "address (address) is empty")
    ]
    (batch,) = batches(items)
    assert (batch.address, batch.value.tolist()) == (["a", "b"], [1.0, 3.0])
    assert batch.ts.tolist() == [T0, T0 + 2 * S]

    naive = table.set_column(0, "ts", pa.array(stamps, pa.timestamp("ms")))
    pq.write_table(naive, tmp_path / "naive.parquet")
    with pytest.raises(ConnectorError, match="holds times without a zone; set timezone"):
        await collect(connector(tmp_path, file="naive.parquet", speed="max"))
    seoul = await collect(
        connector(tmp_path, file="naive.parquet", speed="max", timezone="Asia/Seoul")
    )
    assert batches(seoul)[0].ts.tolist() == [T0 - 9 * 3600 * S, T0 + 2 * S - 9 * 3600 * S]


async def test_a_strptime_pattern_needs_a_zone(tmp_path: Path) -> None:
    (tmp_path / "local.csv").write_text(
        "ts,address,value\n15.01.2027 17:00:00,a,1\n15.01.2027 25:00:00,a,2\n"
    )
    options = {"file": "local.csv", "time_format": "%d.%m.%Y %H:%M:%S", "speed": "max"}
    with pytest.raises(ConnectorError, match="has no zone"):
        await collect(connector(tmp_path, options))
    items = await collect(connector(tmp_path, options, timezone="Asia/Seoul"))
    assert batches(items)[0].ts.tolist() == [T0]
    assert letters(items)[0].reason == (
        "time '15.01.2027 25:00:00' does not match time_format '%d.%m.%Y %H:%M:%S'"
    )


async def test_original_timing_scaled_by_speed(tmp_path: Path) -> None:
    # 101 samples one second apart: 100 s of file time, replayed at 10x in 10 clock seconds.
    rows = "".join(f"{T0 // S + i},a,{i}\n" for i in range(101))
    (tmp_path / "paced.csv").write_text("ts,address,value\n" + rows)
    clock = ManualClock(T0 + 3600 * S)
    start = clock.now_ns()
    replay = connector(tmp_path, clock=clock, file="paced.csv", time_format="s", speed=10)
    async with replay:
        async for item in replay.readings():
            assert isinstance(item, RawBatch)
            due = T0 + (clock.now_ns() - start) * 10
            assert int(item.ts[-1]) <= due  # never ahead of the scaled file time
    elapsed = (clock.now_ns() - start) / S
    assert 10.0 <= elapsed <= 10.1
    assert replay.health().samples == 101

    fast = connector(tmp_path, clock=clock, file="paced.csv", time_format="s", speed="max")
    before = clock.now_ns()
    assert sum(len(b) for b in batches(await collect(fast))) == 101
    assert clock.now_ns() == before  # as fast as possible: no waiting at all


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"file": "x.csv", "sped": 2}, "connectors.rec.sped: unknown option; did you mean 'speed'"),
        ({"file": "x.csv", "speed": "fast"}, "connectors.rec.speed: 'fast' is not a speed"),
        ({"file": "x.csv", "speed": -1}, "speed must not be negative"),
        ({"file": "x.json"}, "the file suffix '.json' is not csv or parquet"),
        ({"file": "x.csv", "layout": "tall"}, "connectors.rec.layout: 'tall' is not long or wide"),
        ({"file": "x.csv", "time_format": "minutes"}, "'minutes' is not a time format"),
        ({"file": "x.csv", "timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"file": "x.csv", "batch_rows": 0}, "batch_rows: expected a whole number"),
        ({}, "connectors.rec.file: missing"),
    ],
)
def test_option_mistakes_name_the_option(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConnectorError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_options(declared(tmp_path, **options))


async def test_missing_file_and_missing_column_fail_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match=r"connector 'rec': replay file '.*gone\.csv' does"):
        await collect(connector(tmp_path, file="gone.csv"))
    (tmp_path / "cols.csv").write_text("when,address,value\n")
    with pytest.raises(
        ConnectorError, match=r"has no column 'ts' \(time_column\); its columns are when, addr"
    ):
        await collect(connector(tmp_path, file="cols.csv"))


CELL = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12
) | st.sampled_from(["2027-01-15T08:00:00Z", "1.5", "good", "bad", "-0", "1e400", ""])


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(CELL, CELL, CELL, CELL), min_size=1, max_size=8))
async def test_any_cells_give_a_sample_or_a_dead_letter_per_row(
    tmp_path: Path, rows: list[tuple[str, str, str, str]]
) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["ts", "address", "value", "quality"])
    writer.writerows(rows)
    (tmp_path / "any.csv").write_text(text.getvalue())
    replay = connector(tmp_path, file="any.csv", speed="max", quality_column="quality")
    items = await collect(replay)
    samples = sum(len(b) for b in batches(items))
    assert samples + len(letters(items)) == len(rows)
    assert all(np.isfinite(b.value).all() for b in batches(items))
