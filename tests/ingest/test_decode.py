"""JSON-lines decoding: good lines decode, each bad line becomes a dead letter with its line."""

from __future__ import annotations

from plantwin.ingest import decode_json_lines
from tests.helpers import T0, S

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
