"""Rules every store backend shares (queries, records, meta), so backends cannot drift apart."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Collection

from plantwin.core.auth import Token, User, check_user_name
from plantwin.core.errors import QueryError, StoreError
from plantwin.core.kpis import KpiQuery, KpiRecord
from plantwin.core.models import ModelInfo, check_model_name
from plantwin.core.records import AlarmEvent, CommandEvent, DeadLetter, Event, StateChange
from plantwin.core.store import HistoryQuery, Record, RecordKind, RecordQuery

# Table (and ``prune`` count key) for each record kind.
RECORD_TABLES: dict[RecordKind, str] = {
    StateChange: "state_changes",
    Event: "events",
    DeadLetter: "dead_letters",
    AlarmEvent: "alarm_events",
    CommandEvent: "command_events",
}
PRUNE_KEYS = (
    "samples",
    "state_changes",
    "events",
    "dead_letters",
    "alarm_events",
    "command_events",
)

_DIGEST = re.compile(r"[0-9a-f]{64}")

# Meta keys under this prefix belong to the store itself (schema version ...).
RESERVED_META_PREFIX = "store."

EventData = dict[str, str | float | int | bool]


def record_ts(record: Record) -> int:
    """The time a record is filed under: ``received`` for dead letters, ``ts`` otherwise."""
    return record.received if isinstance(record, DeadLetter) else record.ts


def event_data_json(event: Event) -> str:
    """An event's data as JSON text; non-finite floats are refused (JSON has none)."""
    for name, value in event.data.items():
        if isinstance(value, float) and not math.isfinite(value):
            msg = (
                f"event {event.kind.value!r} of twin {event.twin!r} at ts {event.ts} has a "
                f"non-finite number in data[{name!r}] ({value}); JSON cannot store it"
            )
            raise StoreError(msg)
    return json.dumps(event.data, sort_keys=True, allow_nan=False)


def command_parameters_json(event: CommandEvent) -> str:
    """A command's parameters as JSON text; non-finite floats are refused (JSON has none)."""
    for name, value in event.parameters.items():
        if isinstance(value, float) and not math.isfinite(value):
            msg = (
                f"command {event.id!r} ({event.command} of {event.twin}) has a non-finite "
                f"parameter {name!r} ({value}); JSON cannot store it"
            )
            raise StoreError(msg)
    return json.dumps(event.parameters, sort_keys=True, allow_nan=False)


def event_data(text: str) -> EventData:
    data: EventData = json.loads(text)
    return data


def check_history_query(query: HistoryQuery, registered: int) -> None:
    if not 0 <= query.signal < registered:
        msg = (
            f"history asked for signal id {query.signal}, which is not registered "
            f"({registered} signals are)"
        )
        raise QueryError(msg)
    if query.limit < 0:
        msg = f"history query limit must not be negative, got {query.limit}"
        raise QueryError(msg)


def check_record_query(query: RecordQuery) -> None:
    if query.kind is DeadLetter and query.twin is not None:
        msg = (
            f"dead letters belong to a source, not a twin; RecordQuery(kind=DeadLetter) "
            f"cannot filter by twin {query.twin!r}"
        )
        raise QueryError(msg)
    if query.exact and query.twin is None:
        msg = "RecordQuery(exact=True) needs a twin: exact means that twin's own records only"
        raise QueryError(msg)
    if query.limit < 0:
        msg = f"record query limit must not be negative, got {query.limit}"
        raise QueryError(msg)


def in_twin(twin: str, root: str, *, exact: bool = False) -> bool:
    """Whether ``twin`` is ``root`` or, unless ``exact``, one of its descendants (dotted ids)."""
    return twin == root or (not exact and twin.startswith(root + "."))


def check_meta_key(key: str) -> None:
    if key.startswith(RESERVED_META_PREFIX):
        msg = (
            f"meta key {key!r} is reserved: keys starting with {RESERVED_META_PREFIX!r} "
            "belong to the store itself"
        )
        raise StoreError(msg)


def check_kpi_record(record: KpiRecord) -> None:
    """A KPI record must have a range and finite numbers (JSON has no NaN)."""
    where = f"KPI record of twin {record.twin!r}, period {record.period!r} at {record.start}"
    if record.end <= record.start:
        msg = f"{where}: end {record.end} is not after start {record.start}"
        raise StoreError(msg)
    for group in (record.values, record.inputs):
        for name, value in group.items():
            if value is not None and not math.isfinite(value):
                msg = f"{where}: {name} is {value}; store None for an undefined value"
                raise StoreError(msg)


def kpi_json(values: object) -> str:
    return json.dumps(values, sort_keys=True, allow_nan=False)


def check_kpi_query(query: KpiQuery) -> None:
    if query.limit < 0:
        msg = f"KPI query limit must not be negative, got {query.limit}"
        raise QueryError(msg)


def check_user(user: User) -> None:
    try:
        check_user_name(user.name)
    except ValueError as err:
        raise StoreError(str(err)) from err


def check_token(token: Token, users: Collection[str], owner: str | None) -> None:
    """A token names a stored user, has a SHA-256 hex digest, and its digest is its own.

    ``owner`` is the id of the stored token with the same digest, if any.
    """
    where = f"token {token.id!r}"
    if not token.id or len(token.id) > 64:
        msg = f"{where}: an id must have 1-64 characters"
        raise StoreError(msg)
    if token.user not in users:
        msg = f"{where}: no user {token.user!r} (store the user first)"
        raise StoreError(msg)
    if not _DIGEST.fullmatch(token.digest):
        msg = f"{where}: the digest must be 64 lowercase hex digits (SHA-256), not the secret"
        raise StoreError(msg)
    if owner is not None and owner != token.id:
        msg = f"{where}: its digest belongs to token {owner!r} already"
        raise StoreError(msg)


def check_model(info: ModelInfo, artifact: bytes, newest: int) -> None:
    """A model record is named well, is the next version after ``newest`` (0: none stored),
    has finite metrics and describes its artifact (SHA-256 and size)."""
    where = f"model {info.name}@{info.version}"
    try:
        check_model_name(info.name)
    except ValueError as err:
        raise StoreError(str(err)) from err
    if info.version != newest + 1:
        msg = f"{where}: the next version of {info.name!r} is {newest + 1}, not {info.version}"
        raise StoreError(msg)
    if info.data_end < info.data_start:
        msg = f"{where}: training data ends ({info.data_end}) before it starts ({info.data_start})"
        raise StoreError(msg)
    for key, value in info.metrics.items():
        if not math.isfinite(value):
            msg = f"{where}: metric {key!r} is {value}; only finite numbers can be stored"
            raise StoreError(msg)
    for key, param in info.params.items():
        if isinstance(param, float) and not math.isfinite(param):
            msg = f"{where}: parameter {key!r} is {param}; only finite numbers can be stored"
            raise StoreError(msg)
    if info.size != len(artifact) or info.sha256 != hashlib.sha256(artifact).hexdigest():
        msg = f"{where}: sha256/size do not describe the artifact ({len(artifact)} bytes)"
        raise StoreError(msg)
