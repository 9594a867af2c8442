"""DuckDB schema of the embedded store: tables, views for SQL users, and the schema version.

Timestamps are BIGINT nanoseconds since the epoch, UTC, as everywhere in plantwin; the
``*_view`` views show them as TIMESTAMPTZ and name signals by key, for people using SQL.
The ``samples`` table has no index on purpose: an index would cost more per appended row than
the whole insert. Time-ordered appends give DuckDB tight min/max zone maps on ``ts``, which is
what lets a time-range query skip most of the table.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from plantwin.core.errors import StoreError

SCHEMA_VERSION = 1
VERSION_KEY = "store.schema_version"

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS signals (id INTEGER PRIMARY KEY, key VARCHAR NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS samples (
    signal INTEGER NOT NULL,
    ts BIGINT NOT NULL,
    value DOUBLE NOT NULL,
    quality UTINYINT NOT NULL
);
CREATE TABLE IF NOT EXISTS latest (
    signal INTEGER PRIMARY KEY,
    ts BIGINT NOT NULL,
    value DOUBLE NOT NULL,
    quality UTINYINT NOT NULL
);
CREATE TABLE IF NOT EXISTS state_changes (
    seq BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    twin VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    previous VARCHAR,
    previous_since BIGINT
);
CREATE TABLE IF NOT EXISTS events (
    seq BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    twin VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    data VARCHAR NOT NULL  -- JSON text
);
CREATE TABLE IF NOT EXISTS alarm_events (
    seq BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    alarm VARCHAR NOT NULL,
    twin VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    previous VARCHAR NOT NULL,
    priority VARCHAR NOT NULL,
    active BOOLEAN NOT NULL,
    acked BOOLEAN NOT NULL,
    latched BOOLEAN NOT NULL,
    shelved_until BIGINT,
    out_of_service BOOLEAN NOT NULL,
    suppressed BOOLEAN NOT NULL,
    annunciated BOOLEAN NOT NULL,
    first_out BOOLEAN NOT NULL,
    value DOUBLE,
    message VARCHAR NOT NULL,
    "user" VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    since BIGINT
);
CREATE TABLE IF NOT EXISTS command_events (
    seq BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    id VARCHAR NOT NULL,
    twin VARCHAR NOT NULL,
    command VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    previous VARCHAR,
    requested_by VARCHAR NOT NULL,
    "user" VARCHAR NOT NULL,
    parameters VARCHAR NOT NULL,  -- JSON: parameter name -> value
    reason VARCHAR NOT NULL,
    message VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq BIGINT NOT NULL,
    received BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    location VARCHAR NOT NULL,
    raw BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS kpis (
    twin VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    start BIGINT NOT NULL,
    "end" BIGINT NOT NULL,
    label VARCHAR NOT NULL,
    computed BIGINT NOT NULL,
    "values" VARCHAR NOT NULL,  -- JSON: KPI name -> number or null
    inputs VARCHAR NOT NULL,  -- JSON: time elements, quantities
    flags VARCHAR NOT NULL,  -- JSON list of data-quality flags
    PRIMARY KEY (twin, period, start)
);
CREATE TABLE IF NOT EXISTS users (
    name VARCHAR PRIMARY KEY,
    role VARCHAR NOT NULL,
    created BIGINT NOT NULL,
    password VARCHAR NOT NULL,  -- scrypt hash string, '' = token login only
    disabled BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    id VARCHAR PRIMARY KEY,
    "user" VARCHAR NOT NULL,
    digest VARCHAR NOT NULL,  -- SHA-256 of the secret, never the secret; one id per digest
    created BIGINT NOT NULL,
    expires BIGINT,
    revoked BIGINT,
    label VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS models (
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,  -- 1, 2, 3 ... per name
    kind VARCHAR NOT NULL,
    created BIGINT NOT NULL,
    data_start BIGINT NOT NULL,
    data_end BIGINT NOT NULL,
    data_sources VARCHAR NOT NULL,  -- JSON list of twin ids / signal keys
    features VARCHAR NOT NULL,  -- JSON list
    metrics VARCHAR NOT NULL,  -- JSON: name -> number
    params VARCHAR NOT NULL,  -- JSON: name -> value
    sha256 VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    artifact BLOB NOT NULL,
    PRIMARY KEY (name, version)
);
"""

# Replaced on every open, so a newer plantwin can improve them without a migration.
VIEWS = """
CREATE OR REPLACE VIEW samples_view AS
    SELECT g.key AS signal, make_timestamptz(s.ts // 1000) AS time, s.ts AS ts_ns,
           s.value, s.quality
    FROM samples s JOIN signals g ON g.id = s.signal;
CREATE OR REPLACE VIEW latest_view AS
    SELECT g.key AS signal, make_timestamptz(l.ts // 1000) AS time, l.ts AS ts_ns,
           l.value, l.quality
    FROM latest l JOIN signals g ON g.id = l.signal;
CREATE OR REPLACE VIEW state_changes_view AS
    SELECT make_timestamptz(ts // 1000) AS time, twin, state, previous,
           make_timestamptz(previous_since // 1000) AS previous_since
    FROM state_changes;
CREATE OR REPLACE VIEW events_view AS
    SELECT make_timestamptz(ts // 1000) AS time, twin, kind, message, data
    FROM events;
CREATE OR REPLACE VIEW alarm_events_view AS
    SELECT make_timestamptz(ts // 1000) AS time, alarm, twin, action, state, previous, priority,
           active, acked, first_out, annunciated, value, message, "user", reason
    FROM alarm_events;
CREATE OR REPLACE VIEW command_events_view AS
    SELECT make_timestamptz(ts // 1000) AS time, id, twin, command, status, previous,
           requested_by, "user", parameters, reason, message
    FROM command_events;
CREATE OR REPLACE VIEW kpis_view AS
    SELECT twin, period, label, make_timestamptz(start // 1000) AS start,
           make_timestamptz("end" // 1000) AS "end", "values", inputs, flags
    FROM kpis;
CREATE OR REPLACE VIEW dead_letters_view AS
    SELECT make_timestamptz(received // 1000) AS received, source, reason, location,
           octet_length(raw) AS raw_bytes, raw
    FROM dead_letters;
"""

# MIGRATIONS[n] upgrades a file from schema version n to n + 1.
MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {}


def prepare(con: duckdb.DuckDBPyConnection, where: str) -> None:
    """Create or upgrade the schema of a freshly opened database, in one transaction."""
    con.execute("BEGIN")
    try:
        con.execute(TABLES)
        row = con.execute("SELECT value FROM meta WHERE key = ?", [VERSION_KEY]).fetchone()
        version = SCHEMA_VERSION if row is None else int(bytes(row[0]).decode())
        if version > SCHEMA_VERSION:
            msg = (
                f"store {where} has schema version {version}, newer than this plantwin "
                f"understands ({SCHEMA_VERSION}); upgrade plantwin to open it"
            )
            raise StoreError(msg)
        while version < SCHEMA_VERSION:
            MIGRATIONS[version](con)
            version += 1
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [VERSION_KEY, str(SCHEMA_VERSION).encode()],
        )
        con.execute(VIEWS)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
