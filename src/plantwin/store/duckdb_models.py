"""DuckDB statements for the model registry (the ``ModelStore`` part of the store)."""

from __future__ import annotations

import json

from plantwin.core.models import ModelInfo, ParamValue
from plantwin.store.duckdb_ops import Con, transaction
from plantwin.store.rules import check_model

_COLUMNS = (
    "name, version, kind, created, data_start, data_end, data_sources, features, metrics, "
    "params, sha256, size"
)


def put_model(con: Con, info: ModelInfo, artifact: bytes) -> None:
    def body(c: Con) -> None:
        row = c.execute("SELECT max(version) FROM models WHERE name = ?", [info.name]).fetchone()
        check_model(info, artifact, 0 if row is None or row[0] is None else int(row[0]))
        c.execute(
            f"INSERT INTO models ({_COLUMNS}, artifact) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608, E501
            [
                info.name,
                info.version,
                info.kind,
                info.created,
                info.data_start,
                info.data_end,
                json.dumps(list(info.data_sources)),
                json.dumps(list(info.features)),
                json.dumps(dict(info.metrics), sort_keys=True),
                json.dumps(dict(info.params), sort_keys=True),
                info.sha256,
                info.size,
                artifact,
            ],
        )

    transaction(con, body)


def models(con: Con, name: str | None) -> list[ModelInfo]:
    where, args = ("", []) if name is None else ("WHERE name = ?", [name])
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM models {where} ORDER BY name, version",  # noqa: S608 - fixed text
        args,
    ).fetchall()
    return [_info(r) for r in rows]


def model_artifact(con: Con, name: str, version: int) -> bytes | None:
    row = con.execute(
        "SELECT artifact FROM models WHERE name = ? AND version = ?", [name, version]
    ).fetchone()
    return None if row is None else bytes(row[0])


def _info(r: tuple[object, ...]) -> ModelInfo:
    name, version, kind, created, start, end, sources, features, metrics, params, sha, size = r
    assert isinstance(version, int)
    assert isinstance(created, int)
    assert isinstance(start, int)
    assert isinstance(end, int)
    assert isinstance(size, int)
    param_values: dict[str, ParamValue] = json.loads(str(params))
    return ModelInfo(
        name=str(name),
        version=version,
        kind=str(kind),
        created=created,
        data_start=start,
        data_end=end,
        data_sources=tuple(json.loads(str(sources))),
        features=tuple(json.loads(str(features))),
        metrics={k: float(v) for k, v in json.loads(str(metrics)).items()},
        params=param_values,
        sha256=str(sha),
        size=size,
    )
