"""Read a replay file (CSV or Parquet) into an Arrow table of the columns the mapping names."""

from __future__ import annotations

import csv
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from plantwin.connectors.replay.options import Layout, ReplayOptions
from plantwin.core.errors import ConnectorError


@dataclass(frozen=True, slots=True)
class FileTable:
    table: pa.Table
    first_row: int  # number of the first data row: line 2 of a CSV file, row 1 of Parquet
    row_word: str  # how locations count rows: "" for CSV lines ("f.csv:7"), "row " for Parquet
    values: tuple[str, ...]  # long: the value column; wide: the address columns


def read_file(options: ReplayOptions) -> FileTable:
    """The table, or ConnectorError saying what is missing (file, columns) and how to fix it."""
    path = options.file
    if not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        msg = f"replay file '{path}' {what}"
        raise ConnectorError(msg)
    try:
        if options.format == "csv":
            header = _csv_header(options)
            wanted, values = _columns(options, header)
            table = _read_csv(options, wanted)
            return FileTable(table, 2, "", values)
        schema = pq.read_schema(path)
        wanted, values = _columns(options, list(schema.names))
        return FileTable(pq.read_table(path, columns=list(wanted)), 1, "row ", values)
    except (pa.ArrowException, OSError, UnicodeDecodeError, csv.Error) as err:
        msg = f"cannot read replay file '{path}' as {options.format}: {err}"
        raise ConnectorError(msg) from err


def _csv_header(options: ReplayOptions) -> list[str]:
    with options.file.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle, delimiter=options.delimiter), None)
    if not header:
        msg = f"replay file '{options.file}' is empty; the first line must name the columns"
        raise ConnectorError(msg)
    return header


def _read_csv(options: ReplayOptions, wanted: tuple[str, ...]) -> pa.Table:
    # Every used column is read as text and converted as the options say: CSV type inference
    # would turn a value column into timestamps or booleans on a few odd cells.
    convert = pa_csv.ConvertOptions(
        include_columns=list(wanted),
        column_types=dict.fromkeys(wanted, pa.string()),
        null_values=[""],  # only empty cells are missing; 'nan' stays a (rejected) value
        strings_can_be_null=True,
    )
    return pa_csv.read_csv(
        options.file,
        parse_options=pa_csv.ParseOptions(delimiter=options.delimiter),
        convert_options=convert,
    )


def _columns(options: ReplayOptions, present: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(columns to read, value columns); every named column must exist."""
    if options.layout is Layout.LONG:
        values: tuple[str, ...] = (options.value_column,)
        named = [
            ("time_column", options.time_column),
            ("address_column", options.address_column),
            ("value_column", options.value_column),
        ]
        if options.quality_column is not None:
            named.append(("quality_column", options.quality_column))
    else:
        values = options.columns or tuple(c for c in present if c != options.time_column)
        named = [("time_column", options.time_column), *(("columns", c) for c in values)]
        if not values:
            msg = f"replay file '{options.file}' has no column besides '{options.time_column}'"
            raise ConnectorError(msg)
    missing = [(option, column) for option, column in named if column not in present]
    if missing:
        listed = ", ".join(f"'{column}' ({option})" for option, column in missing)
        msg = (
            f"replay file '{options.file}' has no column {listed}; its columns are "
            f"{', '.join(present)}"
        )
        raise ConnectorError(msg)
    return tuple(dict.fromkeys(column for _, column in named)), values
