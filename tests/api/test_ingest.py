"""POST /api/v1/ingest: both formats, per-record errors, limits, back-pressure."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pyarrow as pa
import pytest

from plantwin.api.app import create_app
from plantwin.core import DeadLetter, RawBatch
from tests.api.conftest import IngestApp
from tests.helpers import T0, S

NDJSON = {"content-type": "application/x-ndjson"}
ARROW = {"content-type": "application/vnd.apache.arrow.stream"}


def lines(*records: object) -> bytes:
    return b"".join(
        (r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records
    )


async def queued(app: IngestApp) -> list[RawBatch | DeadLetter]:
    """Everything the endpoint handed to the connector so far."""
    readings = app.gateway.readings()
    out = []
    while app.gateway.health().detail["queued"]:
        out.append(await anext(readings))
    return out


def arrow_body(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


async def test_json_lines_are_accepted(ingest_app: IngestApp) -> None:
    body = lines(
        {"address": "meter1/power", "ts": "2027-01-15T08:00:00Z", "value": 120.5},
        {"address": "meter1/energy", "ts": T0, "value": 5000, "quality": "uncertain"},
    )
    response = await ingest_app.http.post("/api/v1/ingest", content=body, headers=NDJSON)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "connector": "gateway",
        "format": "ndjson",
        "records": 2,
        "accepted": 2,
        "rejected": 0,
        "errors": [],
        "errors_truncated": False,
    }
    (batch,) = await queued(ingest_app)
    assert isinstance(batch, RawBatch)
    assert batch.source == "gateway"
    assert batch.address == ["meter1/power", "meter1/energy"]
    assert batch.ts.tolist() == [T0, T0]
    assert batch.status.tolist() == [0, 1]


async def test_an_arrow_stream_is_accepted(ingest_app: IngestApp) -> None:
    table = pa.table(
        {
            "address": ["meter1/power"] * 3,
            "ts": pa.array([T0, T0 + S, T0 + 2 * S], pa.timestamp("ns", tz="UTC")),
            "value": [100.0, 101.0, 102.0],
        }
    )
    response = await ingest_app.http.post(
        "/api/v1/ingest?connector=gateway", content=arrow_body(table), headers=ARROW
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["format"], body["records"], body["accepted"], body["errors"]) == (
        "arrow",
        3,
        3,
        [],
    )
    (batch,) = await queued(ingest_app)
    assert isinstance(batch, RawBatch)
    assert batch.value.tolist() == [100.0, 101.0, 102.0]


async def test_mixed_lines_good_ones_land_and_bad_ones_are_listed(ingest_app: IngestApp) -> None:
    unknown = b'{"address": "meter9/power", "ts": 1800000000000, "value": 1}'
    body = lines(
        {"address": "meter1/power", "ts": T0 // 1_000_000, "value": 1.0},
        b"{oops",
        unknown,
        {"address": "meter1/power", "ts": T0 // 1_000_000 + 1000, "value": "high"},
        b"",
        {"address": "meter1/power", "ts": T0 // 1_000_000 + 2000, "value": 2.0},
    )
    response = await ingest_app.http.post(
        "/api/v1/ingest?precision=ms", content=body, headers=NDJSON
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["records"], result["accepted"], result["rejected"]) == (5, 2, 3)
    assert [e["line"] for e in result["errors"]] == [2, 3, 4]
    reasons = [e["reason"] for e in result["errors"]]
    assert reasons[0].startswith("not valid JSON")
    assert reasons[1] == "address 'meter9/power' is not bound to a signal of 'gateway'"
    assert reasons[2] == "field 'value' must be a finite number, got 'high'"
    items = await queued(ingest_app)
    batch = items[0]
    assert isinstance(batch, RawBatch)
    assert batch.ts.tolist() == [T0, T0 + 2 * S]
    dead = {d.location: d for d in items[1:] if isinstance(d, DeadLetter)}
    assert set(dead) == {"line 2", "line 3", "line 4"}
    assert dead["line 3"].raw == unknown  # the unknown address is kept as sent
    assert dead["line 2"].raw == b"{oops"


async def test_oversize_bodies_get_413_with_or_without_a_length(ingest_app: IngestApp) -> None:
    record = lines({"address": "meter1/power", "ts": T0, "value": 1.0})
    big = record * (4096 // len(record) + 1)
    response = await ingest_app.http.post("/api/v1/ingest", content=big, headers=NDJSON)
    assert response.status_code == 413
    assert "larger than 4096 bytes" in response.json()["error"]["message"]

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(len(big) // len(record)):
            yield record

    response = await ingest_app.http.post("/api/v1/ingest", content=chunked(), headers=NDJSON)
    assert response.status_code == 413
    assert await queued(ingest_app) == []


@pytest.mark.parametrize("content_type", ["application/json", "text/csv", ""])
async def test_a_wrong_content_type_gets_415(ingest_app: IngestApp, content_type: str) -> None:
    response = await ingest_app.http.post(
        "/api/v1/ingest", content=b"{}", headers={"content-type": content_type}
    )
    assert response.status_code == 415
    message = response.json()["error"]["message"]
    assert "application/x-ndjson" in message
    assert "application/vnd.apache.arrow.stream" in message


async def test_a_full_queue_answers_503_with_retry_after(ingest_app: IngestApp) -> None:
    ten = lines(*({"address": "meter1/power", "ts": T0 + i * S, "value": i} for i in range(10)))
    for _ in range(2):  # the queue takes 20 samples
        assert (
            await ingest_app.http.post("/api/v1/ingest", content=ten, headers=NDJSON)
        ).is_success
    response = await ingest_app.http.post("/api/v1/ingest", content=ten, headers=NDJSON)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "full queue" in response.json()["error"]["message"]
    taken = [b for b in await queued(ingest_app) if isinstance(b, RawBatch)]
    assert sum(len(b) for b in taken) == 20  # nothing of the refused one


async def test_bad_arrow_and_connector_choice_errors(ingest_app: IngestApp) -> None:
    response = await ingest_app.http.post("/api/v1/ingest", content=b"nope", headers=ARROW)
    assert response.status_code == 400
    assert "not an Arrow IPC stream" in response.json()["error"]["message"]
    response = await ingest_app.http.post(
        "/api/v1/ingest?connector=recording", content=b"", headers=NDJSON
    )
    assert response.status_code == 404
    assert "no http connector 'recording' (http connectors: gateway)" in response.text
    context = ingest_app.context
    several = replace(context, inlets={"a": ingest_app.gateway, "b": ingest_app.gateway})
    none = replace(context, inlets={})
    for ctx, status, message in (
        (several, 400, "several http connectors (a, b); choose one with ?connector=NAME"),
        (none, 404, "no http connector runs; declare one in the plant file (kind: http)"),
    ):
        transport = httpx.ASGITransport(app=create_app(ctx))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.post(
                "/api/v1/ingest", content=b"", headers={**NDJSON, **ingest_app.http.headers}
            )
        assert response.status_code == status
        assert response.json()["error"]["message"] == message
