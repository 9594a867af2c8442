"""Synchronous DuckDB statements of the store; each runs in the store's worker thread.

Samples travel as Arrow tables built zero-copy from the numpy arrays of a
:class:`SampleBatch`; DuckDB scans them in place.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import duckdb
import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from plantwin.core.kpis import KpiQuery, KpiRecord
from plantwin.core.records import (
    AlarmEvent,
    AlarmState,
    CommandEvent,
    CommandStatus,
    DeadLetter,
    Event,
    EventKind,
    StateChange,
)
from plantwin.core.samples import I32, I64, SampleBatch
from plantwin.core.store import History, HistoryQuery, Latest, Record, RecordKind, RecordQuery
from plantwin.store.rules import (
    RECORD_TABLES,
    command_parameters_json,
    event_data,
    event_data_json,
    kpi_json,
)

Con = duckdb.DuckDBPyConnection
T = TypeVar("T")

# The newest row per signal of the written rows moves ``latest`` forward (never back).
UPSERT_LATEST = """
INSERT INTO latest
    SELECT signal, max(ts), arg_max(value, ts), arg_max(quality, ts)
    FROM plantwin_rows GROUP BY signal
ON CONFLICT (signal) DO UPDATE
    SET ts = excluded.ts, value = excluded.value, quality = excluded.quality
    WHERE excluded.ts > latest.ts
"""

# Bucket start = ts floored (not truncated) to a multiple of $every, also for ts < 0.
BUCKETED = """
SELECT ts - ts % $every - CASE WHEN ts % $every < 0 THEN $every ELSE 0 END AS bucket,
       coalesce(min(value) FILTER (WHERE NOT isnan(value)), 'nan'::DOUBLE) AS min,
       coalesce(max(value) FILTER (WHERE NOT isnan(value)), 'nan'::DOUBLE) AS max,
       coalesce(avg(value) FILTER (WHERE NOT isnan(value)), 'nan'::DOUBLE) AS mean,
       arg_max(value, ts) AS last,
       count(*) AS count,
       bit_or(quality) AS quality
FROM samples
WHERE signal = $signal AND ts >= $start AND ts < $end
GROUP BY bucket ORDER BY bucket LIMIT $limit
"""

RAW = """
SELECT ts, value, quality FROM samples
WHERE signal = $signal AND ts >= $start AND ts < $end
ORDER BY ts LIMIT $limit
"""

# Which candidate (signal, ts) pairs are stored; the ts range lets zone maps skip row groups.
EXISTING = """
SELECT c.i FROM plantwin_candidates c
JOIN (SELECT signal, ts FROM samples WHERE ts BETWEEN $lo AND $hi) s
    ON s.signal = c.signal AND s.ts = c.ts
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Opened:
    """What a store needs to know about a file it just opened."""

    keys: list[str]  # signal keys by id (ids are dense, from 0)
    latest: Latest
    samples: int
    last_seq: int


def arrow_samples(batch: SampleBatch) -> pa.Table:
    return pa.table({c: pa.array(getattr(batch, c)) for c in SampleBatch.COLUMNS})


def transaction(con: Con, body: Callable[[Con], T]) -> T:
    """Run ``body(con)`` in one transaction; roll back on any error."""
    con.execute("BEGIN")
    try:
        result = body(con)
        con.execute("COMMIT")
    except BaseException:
        # A failed COMMIT has rolled back already; a second ROLLBACK would hide its error.
        with contextlib.suppress(duckdb.TransactionException):
            con.execute("ROLLBACK")
        raise
    return result


def load(con: Con) -> Opened:
    keys = [row[0] for row in con.execute("SELECT key FROM signals ORDER BY id").fetchall()]
    counts = con.execute(
        "SELECT (SELECT count(*) FROM samples), greatest("
        "(SELECT max(seq) FROM state_changes), (SELECT max(seq) FROM events),"
        " (SELECT max(seq) FROM dead_letters), (SELECT max(seq) FROM alarm_events),"
        " (SELECT max(seq) FROM command_events), 0)"
    ).fetchone()
    assert counts is not None
    return Opened(keys=keys, latest=latest(con), samples=int(counts[0]), last_seq=int(counts[1]))


def insert_signals(con: Con, first_id: int, keys: list[str]) -> None:
    ids = np.arange(first_id, first_id + len(keys), dtype=np.int32)
    rows = pa.table({"id": pa.array(ids), "key": pa.array(keys, pa.string())})
    con.register("plantwin_new_signals", rows)
    try:
        con.execute("INSERT INTO signals SELECT id, key FROM plantwin_new_signals")
    finally:
        con.unregister("plantwin_new_signals")


def write_samples(con: Con, rows: SampleBatch) -> tuple[I32, I64]:
    """One transaction: the coalesced rows, and ``latest`` moved forward from them.

    Returns each written signal and its newest written time (the new committed marks); the
    grouping runs in DuckDB, in the worker thread, not on the event loop.
    """
    con.register("plantwin_rows", arrow_samples(rows))
    try:

        def body(c: Con) -> None:
            c.execute("INSERT INTO samples SELECT signal, ts, value, quality FROM plantwin_rows")
            c.execute(UPSERT_LATEST)

        transaction(con, body)
        marks = con.execute(
            "SELECT signal, max(ts) AS ts FROM plantwin_rows GROUP BY signal"
        ).fetchnumpy()
    finally:
        con.unregister("plantwin_rows")
    return np.asarray(marks["signal"], np.int32), np.asarray(marks["ts"], np.int64)


def stored_mask(con: Con, batch: SampleBatch) -> NDArray[np.bool_]:
    """Which rows of ``batch`` are already in the samples table."""
    n = len(batch)
    cand = pa.table(
        {
            "i": pa.array(np.arange(n, dtype=np.int64)),
            "signal": pa.array(batch.signal),
            "ts": pa.array(batch.ts),
        }
    )
    con.register("plantwin_candidates", cand)
    try:
        params = {"lo": int(batch.ts.min()), "hi": int(batch.ts.max())}
        hits = con.execute(EXISTING, params).fetchnumpy()["i"]
    finally:
        con.unregister("plantwin_candidates")
    mask = np.zeros(n, np.bool_)
    mask[np.asarray(hits, np.int64)] = True
    return mask


def history(con: Con, q: HistoryQuery) -> History:
    params = {"signal": q.signal, "start": q.start, "end": q.end, "limit": q.limit}
    if q.every is None:
        r = con.execute(RAW, params).fetchnumpy()
        value = np.asarray(r["value"], np.float64)
        return History(
            ts=np.asarray(r["ts"], np.int64),
            min=value,
            max=value.copy(),
            mean=value.copy(),
            last=value.copy(),
            count=np.ones(value.shape[0], np.int64),
            quality=np.asarray(r["quality"], np.uint8),
        )
    r = con.execute(BUCKETED, {**params, "every": q.every}).fetchnumpy()
    return History(
        ts=np.asarray(r["bucket"], np.int64),
        min=np.asarray(r["min"], np.float64),
        max=np.asarray(r["max"], np.float64),
        mean=np.asarray(r["mean"], np.float64),
        last=np.asarray(r["last"], np.float64),
        count=np.asarray(r["count"], np.int64),
        quality=np.asarray(r["quality"], np.uint8),
    )


def latest(con: Con) -> Latest:
    r = con.execute("SELECT signal, ts, value, quality FROM latest ORDER BY signal").fetchnumpy()
    return Latest(
        signal=np.asarray(r["signal"], np.int32),
        ts=np.asarray(r["ts"], np.int64),
        value=np.asarray(r["value"], np.float64),
        quality=np.asarray(r["quality"], np.uint8),
    )


INSERTS = {
    "state_changes": "INSERT INTO state_changes VALUES (?, ?, ?, ?, ?, ?)",
    "events": "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
    "dead_letters": "INSERT INTO dead_letters VALUES (?, ?, ?, ?, ?, ?)",
    "alarm_events": f"INSERT INTO alarm_events VALUES ({', '.join(['?'] * 21)})",  # noqa: S608
    "command_events": f"INSERT INTO command_events VALUES ({', '.join(['?'] * 12)})",  # noqa: S608
}

SELECTS = {
    "state_changes": "SELECT ts, twin, state, previous, previous_since FROM state_changes",
    "events": "SELECT ts, twin, kind, message, data FROM events",
    "dead_letters": "SELECT received, source, reason, raw, location FROM dead_letters",
    "alarm_events": "SELECT ts, alarm, twin, action, state, previous, priority, active, acked,"
    " latched, shelved_until, out_of_service, suppressed, annunciated, first_out, value,"
    ' message, "user", reason, since FROM alarm_events',
    "command_events": 'SELECT ts, id, twin, command, status, previous, requested_by, "user",'
    " parameters, reason, message FROM command_events",
}


def record_row(seq: int, r: Record) -> tuple[object, ...]:
    if isinstance(r, StateChange):
        return (seq, r.ts, r.twin, r.state, r.previous, r.previous_since)
    if isinstance(r, Event):
        return (seq, r.ts, r.twin, r.kind.value, r.message, event_data_json(r))
    if isinstance(r, AlarmEvent):
        return (
            seq, r.ts, r.alarm, r.twin, r.action, r.state.value, r.previous.value, r.priority,
            r.active, r.acked, r.latched, r.shelved_until, r.out_of_service, r.suppressed,
            r.annunciated, r.first_out, r.value, r.message, r.user, r.reason, r.since,
        )  # fmt: skip
    if isinstance(r, CommandEvent):
        return (
            seq, r.ts, r.id, r.twin, r.command, r.status.value,
            None if r.previous is None else r.previous.value, r.requested_by, r.user,
            command_parameters_json(r), r.reason, r.message,
        )  # fmt: skip
    return (seq, r.received, r.source, r.reason, r.location, r.raw)


def insert_records(con: Con, rows: dict[str, list[tuple[object, ...]]]) -> None:
    def body(c: Con) -> None:
        for table, values in rows.items():
            if values:
                _insert_rows(c, table, values)

    transaction(con, body)


def _insert_rows(con: Con, table: str, values: list[tuple[object, ...]]) -> None:
    """Rows as one Arrow table: DuckDB's executemany runs a statement per row (~0.4 ms each)."""
    try:
        columns = [pa.array(column) for column in zip(*values, strict=True)]
    except pa.ArrowException:  # a column Arrow cannot type: let DuckDB convert row by row
        con.executemany(INSERTS[table], values)
        return
    names = [f"c{i}" for i in range(len(columns))]
    con.register("records_in", pa.Table.from_arrays(columns, names))
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM records_in")  # noqa: S608 (fixed names)
    finally:
        con.unregister("records_in")


def records(con: Con, q: RecordQuery) -> list[Record]:
    table = RECORD_TABLES[q.kind]
    ts = "received" if q.kind is DeadLetter else "ts"
    where: list[str] = []
    params: list[object] = []
    if q.twin is not None and q.exact:
        where.append("twin = ?")
        params.append(q.twin)
    elif q.twin is not None:
        where.append("(twin = ? OR starts_with(twin, ?))")
        params += [q.twin, q.twin + "."]
    if q.start is not None:
        where.append(f"{ts} >= ?")
        params.append(q.start)
    if q.end is not None:
        where.append(f"{ts} < ?")
        params.append(q.end)
    sql = SELECTS[table]
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {ts} DESC, seq DESC LIMIT ?"
    rows = con.execute(sql, [*params, q.limit]).fetchall()
    return [_record(q.kind, row) for row in rows]


def _record(kind: RecordKind, row: Sequence[Any]) -> Record:
    if kind is StateChange:
        return StateChange(
            ts=row[0], twin=row[1], state=row[2], previous=row[3], previous_since=row[4]
        )
    if kind is Event:
        return Event(
            ts=row[0], twin=row[1], kind=EventKind(row[2]), message=row[3], data=event_data(row[4])
        )
    if kind is AlarmEvent:
        return AlarmEvent(
            ts=row[0], alarm=row[1], twin=row[2], action=row[3], state=AlarmState(row[4]),
            previous=AlarmState(row[5]), priority=row[6], active=row[7], acked=row[8],
            latched=row[9], shelved_until=row[10], out_of_service=row[11], suppressed=row[12],
            annunciated=row[13], first_out=row[14], value=row[15], message=row[16],
            user=row[17], reason=row[18], since=row[19],
        )  # fmt: skip
    if kind is CommandEvent:
        return CommandEvent(
            ts=row[0], id=row[1], twin=row[2], command=row[3], status=CommandStatus(row[4]),
            previous=None if row[5] is None else CommandStatus(row[5]), requested_by=row[6],
            user=row[7], parameters=json.loads(row[8]), reason=row[9], message=row[10],
        )  # fmt: skip
    return DeadLetter(
        received=row[0], source=row[1], reason=row[2], raw=bytes(row[3]), location=row[4]
    )


PRUNES = {
    "samples": "DELETE FROM samples WHERE ts < ?",
    "state_changes": "DELETE FROM state_changes WHERE ts < ?",
    "events": "DELETE FROM events WHERE ts < ?",
    "dead_letters": "DELETE FROM dead_letters WHERE received < ?",
    # Each alarm's newest event stays: it is the alarm's state after a restart.
    "alarm_events": "DELETE FROM alarm_events WHERE ts < ? AND seq NOT IN ("
    "SELECT seq FROM alarm_events QUALIFY row_number() OVER "
    "(PARTITION BY alarm ORDER BY ts DESC, seq DESC) = 1)",
    "command_events": "DELETE FROM command_events WHERE ts < ?",
}


def prune(con: Con, older_than: int) -> dict[str, int]:
    def body(c: Con) -> dict[str, int]:
        counts: dict[str, int] = {}
        for table, sql in PRUNES.items():
            row = c.execute(sql, [older_than]).fetchone()
            counts[table] = int(row[0]) if row else 0
        return counts

    return transaction(con, body)


def put_meta(con: Con, key: str, value: bytes) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])


def get_meta(con: Con, key: str) -> bytes | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return None if row is None else bytes(row[0])


def put_kpis(con: Con, records: Sequence[KpiRecord]) -> None:
    rows = [
        (
            r.twin,
            r.period,
            r.start,
            r.end,
            r.label,
            r.computed,
            kpi_json(dict(r.values)),
            kpi_json(dict(r.inputs)),
            kpi_json(list(r.flags)),
        )
        for r in records
    ]
    transaction(
        con,
        lambda c: c.executemany(
            "INSERT OR REPLACE INTO kpis VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        ),
    )


def kpis(con: Con, q: KpiQuery) -> list[KpiRecord]:
    rows = con.execute(
        'SELECT twin, period, start, "end", label, computed, "values", inputs, flags FROM kpis'
        " WHERE twin = ? AND period = ? AND start >= ? AND start < ? ORDER BY start LIMIT ?",
        [q.twin, q.period, q.start, q.end, q.limit],
    ).fetchall()
    return [
        KpiRecord(
            twin=row[0],
            period=row[1],
            start=row[2],
            end=row[3],
            label=row[4],
            computed=row[5],
            values=json.loads(row[6]),
            inputs=json.loads(row[7]),
            flags=tuple(json.loads(row[8])),
        )
        for row in rows
    ]
