"""JSON-lines decoding: good lines decode, each bad line becomes a dead letter with its line."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from plantwin.ingest import decode_json_lines
from tests.helpers import T0, S


def _json_lines() -> st.SearchStrategy[bytes]:
    scalar = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    field = scalar | st.lists(scalar, max_size=3)
    record = st.fixed_dictionaries(
        {},
        optional={
            "address": st.text(max_size=10) | scalar,
            "ts": field,
            "value": field,
            "quality": field,
        },
    )
    return record.map(lambda r: json.dumps(r).encode())


LINES = b"""\
{"address": "L1/mill1/power", "ts": "2027-01-15T08:00:00Z", "value": 12.5}
{"address": "L1/mill1/power", "ts": "2027-01-15T17:00:01+09:00", "value": 13, "quality": "uncertain"}
not json at all
{"address": "", "ts": 1, "value": 1}
{"address": "a", "ts": "2027-01-15T08:00:00", "value": 1}
{"address": "a", "ts": "2027-01-15T08:00:00Z", "value": "hot"}
{"address": "a", "ts": "2027-01-15T08:00:00Z", "value": 1, "quality": "fine"}

[1, 2]
{"address": "L1/mill1/power", "ts": 1800000002000000000, "value": 14.0}
"""


def test_decodes_good_lines_and_dead_letters_the_rest() -> None:
    batch, dead = decode_json_lines("http", LINES, received=T0)
    assert batch.address == ["L1/mill1/power"] * 3
    assert batch.ts.tolist() == [T0, T0 + S, T0 + 2 * S]
    assert batch.value.tolist() == [12.5, 13.0, 14.0]
    assert batch.status.tolist() == [0, 1, 0]
    where = {d.location: d.reason for d in dead}
    assert set(where) == {"line 3", "line 4", "line 5", "line 6", "line 7", "line 9"}
    assert where["line 3"].startswith("not valid JSON")
    assert "address" in where["line 4"]
    assert "no time zone" in where["line 5"]
    assert "finite number" in where["line 6"]
    assert "quality" in where["line 7"]
    assert "JSON object" in where["line 9"]
    assert next(d.raw for d in dead if d.location == "line 3") == b"not json at all"


NASTY = [
    b'{"address": "a", "ts": 1, "value": 1, "quality": [1]}',
    b'{"address": "a", "ts": 1, "value": 1, "quality": {}}',
    b'{"address": "a", "ts": 1, "value": 1' + b"9" * 400 + b"}",
    b'{"address": "a", "ts": 100000000000000000000, "value": 1}',
    b'{"address": "a", "ts": 1e300, "value": 1}',
    b'{"address": "a", "ts": "9999-12-31T23:59:59Z", "value": 1}',
    b"[" * 100_000,
    b'{"address": "a", "ts": NaN, "value": 1}',
    b'{"address": "a", "ts": 1, "value": Infinity}',
]


def test_hostile_lines_are_dead_letters_and_the_good_line_lands() -> None:
    good = b'{"address": "L1/mill1/power", "ts": "2027-01-15T08:00:00Z", "value": 12.5}'
    batch, dead = decode_json_lines("http", b"\n".join([*NASTY, good]), received=T0)
    assert batch.address == ["L1/mill1/power"]
    assert batch.ts.tolist() == [T0]
    assert len(dead) == len(NASTY)
    assert [d.location for d in dead] == [f"line {i}" for i in range(1, len(NASTY) + 1)]


@given(st.lists(st.binary(max_size=200) | _json_lines(), max_size=20))
def test_any_input_decodes_or_dead_letters_every_line(lines: list[bytes]) -> None:
    data = b"\n".join(line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines)
    batch, dead = decode_json_lines("http", data, received=T0, precision="s")
    non_blank = [line for line in data.splitlines() if line.strip()]
    assert len(batch) + len(dead) == len(non_blank)
