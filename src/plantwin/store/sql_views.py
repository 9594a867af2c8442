"""Views for self-service SQL: hierarchy, live state, history, KPIs, alarms and predictions
meet in one query (``POST /api/v1/query``).

They are TEMP objects of the query's own connection, so the store file never changes; the
hierarchy comes from the plant model (it is not in the store) as two small temp tables.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from plantwin.model.plant import Plant, Twin, TwinKind

# name -> what it holds (docs/query.md lists the columns)
VIEWS: dict[str, str] = {
    "twins": "the twin tree: id, name, kind, type, parent, site, line, asset, component, path",
    "twin_signals": "signals: id, key, twin, signal, unit, counter, description",
    "history": "samples with their twin and hierarchy: twin, signal, time, value, quality ...",
    "live_values": "the newest sample per signal",
    "live_states": "the state each twin is in now, since when",
    "state_history": "state changes with their hierarchy",
    "kpi_values": "stored KPIs per twin and period (shift, day): oee, availability ...",
    "alarm_history": "alarm transitions (activate, clear, ack ...) with their hierarchy",
    "predictions": "samples of model outputs (signals named rul, rul_* or *_rul)",
}

_KPI_VALUES = [
    "oee",
    "availability",
    "effectiveness",
    "quality",
    "nee",
    "technical_efficiency",
    "mtbf_h",
    "mttr_h",
    "throughput_per_h",
    "scrap_ratio",
    "rework_ratio",
    "cycle_time_s",
    "energy_per_good_kwh",
]
_KPI_INPUTS = ["pbt_s", "apt_s", "adet_s", "aust_s", "adot_s", "pq", "gq", "sq", "rq", "energy_kwh"]
_WHERE = "t.site, t.line, t.asset, t.component"
_KPI_COLUMNS = ", ".join(
    [f"(k.\"values\"->>'$.{v}')::DOUBLE AS {v}" for v in _KPI_VALUES]
    + [f"(k.inputs->>'$.{v}')::DOUBLE AS {v}" for v in _KPI_INPUTS]
)

# built from the constant column lists above, never from user text
_SQL = f"""
CREATE TEMP TABLE twin_signals AS
    SELECT g.id, g.key, p.twin, p.signal, p.unit, p.counter, p.description
    FROM main.signals g JOIN plantwin_signals p ON p.key = g.key;
CREATE TEMP VIEW history AS
    SELECT s.twin, s.signal, s.unit, make_timestamptz(x.ts // 1000) AS time, x.ts AS ts_ns,
           x.value, x.quality, {_WHERE}, t.type
    FROM main.samples x JOIN twin_signals s ON s.id = x.signal JOIN twins t ON t.id = s.twin;
CREATE TEMP VIEW live_values AS
    SELECT s.twin, s.signal, s.unit, make_timestamptz(x.ts // 1000) AS time, x.ts AS ts_ns,
           x.value, x.quality, {_WHERE}, t.type
    FROM main.latest x JOIN twin_signals s ON s.id = x.signal JOIN twins t ON t.id = s.twin;
CREATE TEMP VIEW state_history AS
    SELECT make_timestamptz(c.ts // 1000) AS time, c.twin, c.state, c.previous, {_WHERE}, t.type
    FROM main.state_changes c JOIN twins t ON t.id = c.twin;
CREATE TEMP VIEW live_states AS
    SELECT twin, state, time AS since, site, line, asset, component, type
    FROM state_history QUALIFY row_number() OVER (PARTITION BY twin ORDER BY time DESC) = 1;
CREATE TEMP VIEW kpi_values AS
    SELECT k.twin, k.period, k.label, make_timestamptz(k.start // 1000) AS start,
           make_timestamptz(k."end" // 1000) AS "end",
           {_KPI_COLUMNS},
           k.flags, {_WHERE}
    FROM main.kpis k JOIN twins t ON t.id = k.twin;
CREATE TEMP VIEW alarm_history AS
    SELECT make_timestamptz(a.ts // 1000) AS time, a.alarm, a.twin, a.action, a.state,
           a.priority, a.active, a.acked, a.value, a.message, {_WHERE}, t.type
    FROM main.alarm_events a JOIN twins t ON t.id = a.twin;
CREATE TEMP VIEW predictions AS
    SELECT * FROM history
    WHERE signal = 'rul' OR prefix(signal, 'rul_') OR suffix(signal, '_rul');
"""  # noqa: S608


def _ancestor(plant: Plant, twin: Twin, kind: TwinKind) -> str | None:
    node: Twin | None = twin
    while node is not None:
        if node.kind is kind:
            return node.id
        node = plant.twins.get(node.parent) if node.parent else None
    return None


def _path(plant: Plant, twin: Twin) -> str:
    names: list[str] = []
    node: Twin | None = twin
    while node is not None:
        names.append(node.name)
        node = plant.twins.get(node.parent) if node.parent else None
    return " / ".join(reversed(names))


def hierarchy(plant: Plant) -> tuple[pa.Table, pa.Table]:
    """The twin tree and the signals' metadata, as Arrow tables."""
    twins = list(plant.twins.values())
    tree = pa.table(
        {
            "id": [t.id for t in twins],
            "name": [t.name for t in twins],
            "kind": [t.kind.value for t in twins],
            "type": [t.type for t in twins],
            "parent": [t.parent for t in twins],
            **{
                kind.value: [_ancestor(plant, t, kind) for t in twins]
                for kind in (TwinKind.SITE, TwinKind.LINE, TwinKind.ASSET, TwinKind.COMPONENT)
            },
            "path": [_path(plant, t) for t in twins],
            "description": [t.description for t in twins],
        }
    )
    signals = list(plant.signals.values())
    meta = pa.table(
        {
            "key": [s.key for s in signals],
            "twin": [s.twin for s in signals],
            "signal": [s.name for s in signals],
            "unit": [s.unit for s in signals],
            "counter": [s.counter for s in signals],
            "description": [s.description for s in signals],
        }
    )
    return tree, meta


def create_views(con: duckdb.DuckDBPyConnection, tree: pa.Table, meta: pa.Table) -> None:
    """Create the query views as TEMP objects of ``con`` (nothing is written to the file)."""
    con.register("plantwin_twins", tree)
    con.register("plantwin_signals", meta)
    try:
        con.execute("CREATE TEMP TABLE twins AS SELECT * FROM plantwin_twins")
        con.execute(_SQL)
    finally:
        con.unregister("plantwin_twins")
        con.unregister("plantwin_signals")
