"""A replay file's table -> time-ordered sample arrays plus dead letters for the bad rows."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from plantwin.connectors.replay.columns import Problems, numbers, qualities, times
from plantwin.connectors.replay.files import FileTable
from plantwin.connectors.replay.options import Layout, ReplayOptions
from plantwin.core.records import DeadLetter
from plantwin.core.samples import F64, I64, U8

Mask = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Decoded:
    """Samples sorted by time (stable: file order within one time), addresses as codes."""

    ts: I64
    value: F64
    status: U8
    code: NDArray[np.int32]  # index into ``names``
    names: NDArray[np.object_]  # address strings
    dead: list[DeadLetter]
    rows: int  # data rows in the file
    reordered: bool  # the file was not in time order and was sorted

    def __len__(self) -> int:
        return int(self.ts.shape[0])


@dataclass(frozen=True, slots=True)
class _Where:
    """Builds dead letters that point at a row of the file."""

    source: str
    received: int
    label: str
    file: FileTable

    def dead(self, row: int, reason: str, column: str | None = None) -> DeadLetter:
        number = row + self.file.first_row
        location = f"{self.label}:{self.file.row_word}{number}"
        if column is not None:
            location += f" column {column}"
        record = self.file.table.slice(row, 1).to_pylist()[0]
        return DeadLetter(
            received=self.received,
            source=self.source,
            reason=reason,
            raw=json.dumps(record, default=str).encode(),
            location=location,
        )


def decode(
    file: FileTable,
    options: ReplayOptions,
    *,
    source: str,
    received: int,
    addresses: Collection[str] | None = None,
) -> Decoded:
    """``addresses``: the bound ones; rows naming another become dead letters with their line."""
    where = _Where(source, received, options.file.name, file)
    table = file.table
    ts, time_problems = times(table[options.time_column], options)
    if options.layout is Layout.LONG:
        return _long(table, options, ts, time_problems, where, addresses)
    return _wide(table, file.values, ts, time_problems, where)


def _long(
    table: pa.Table,
    options: ReplayOptions,
    ts: I64,
    problems: Problems,
    where: _Where,
    addresses: Collection[str] | None,
) -> Decoded:
    rows = table.num_rows
    address = table[options.address_column]
    if not (pa.types.is_string(address.type) or pa.types.is_large_string(address.type)):
        address = address.cast(pa.string())
    encoded = pc.dictionary_encode(address.combine_chunks())
    code = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    names = np.array([*encoded.dictionary.to_pylist(), ""], dtype=object)
    blank = names[code] == ""  # code -1 (null) picks the appended ""
    unbound = np.zeros(len(names), np.bool_)
    if addresses is not None:
        unbound[:-1] = [name not in addresses for name in names[:-1].tolist()]
    value, value_problems, empty = numbers(table[options.value_column], options.value_column)
    status = np.zeros(rows, np.uint8)
    quality_problems: Problems = {}
    if options.quality_column is not None:
        status, quality_problems = qualities(table[options.quality_column], options.quality_column)
    reasons: Problems = {}
    # The first reason a row fails for, in column order: time, address, value, quality.
    for source in (quality_problems, value_problems):
        reasons.update(source)
    for i in np.flatnonzero(empty).tolist():
        reasons[i] = f"value ({options.value_column}) is empty"
    for i in np.flatnonzero(unbound[code] & ~blank).tolist():
        reasons[i] = f"address '{names[code[i]]}' is not bound to a signal of '{where.source}'"
    for i in np.flatnonzero(blank).tolist():
        reasons[i] = f"address ({options.address_column}) is empty"
    reasons.update(problems)
    keep = np.ones(rows, np.bool_)
    keep[list(reasons)] = False
    dead = [where.dead(row, reasons[row]) for row in sorted(reasons)]
    return _ordered(
        ts[keep], value[keep], status[keep], code[keep].astype(np.int32), names[:-1], dead, rows
    )


def _wide(
    table: pa.Table, columns: tuple[str, ...], ts: I64, problems: Problems, where: _Where
) -> Decoded:
    rows = table.num_rows
    bad_time = np.zeros(rows, np.bool_)
    bad_time[list(problems)] = True
    found = [(row, -1, where.dead(row, reason)) for row, reason in problems.items()]
    keep = np.empty((rows, len(columns)), np.bool_)
    values = np.empty((rows, len(columns)), np.float64)
    for j, column in enumerate(columns):
        value, value_problems, empty = numbers(table[column], column)
        bad = np.zeros(rows, np.bool_)
        bad[list(value_problems)] = True
        keep[:, j] = ~(empty | bad | bad_time)  # an empty cell is no sample, not an error
        values[:, j] = value
        found.extend(
            (row, j, where.dead(row, reason, column))
            for row, reason in value_problems.items()
            if not bad_time[row]
        )
    dead = [letter for _, _, letter in sorted(found, key=lambda f: (f[0], f[1]))]
    flat = keep.ravel()  # row-major: each row's columns in order, rows in file order
    return _ordered(
        np.repeat(ts, len(columns))[flat],
        values.ravel()[flat],
        np.zeros(int(flat.sum()), np.uint8),
        np.tile(np.arange(len(columns), dtype=np.int32), rows)[flat],
        np.array(columns, dtype=object),
        dead,
        rows,
    )


def _ordered(
    ts: I64,
    value: F64,
    status: U8,
    code: NDArray[np.int32],
    names: NDArray[Any],
    dead: list[DeadLetter],
    rows: int,
) -> Decoded:
    """Sort by time when the file is not in time order (stable: file order within a time)."""
    reordered = bool(len(ts) > 1 and (np.diff(ts) < 0).any())
    if reordered:
        order = np.argsort(ts, kind="stable")
        ts, value, status, code = ts[order], value[order], status[order], code[order]
    return Decoded(ts, value, status, code, names, dead, rows, reordered)
