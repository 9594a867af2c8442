"""GET /api/v1/connectors: running connectors with their figures, the others with why."""

from __future__ import annotations

import json

from tests.api.conftest import IngestApp
from tests.helpers import T0


async def test_running_and_not_running_connectors(ingest_app: IngestApp) -> None:
    body = (
        b"".join(
            json.dumps({"address": "meter1/power", "ts": T0, "value": v}).encode() + b"\n"
            for v in (1, 2)
        )
        + b"{broken\n"
    )
    posted = await ingest_app.http.post(
        "/api/v1/ingest", content=body, headers={"content-type": "application/x-ndjson"}
    )
    assert posted.status_code == 200
    readings = ingest_app.gateway.readings()
    await anext(readings)  # the pipeline takes the batch
    response = await ingest_app.http.get("/api/v1/connectors")
    assert response.status_code == 200
    listed = {c["name"]: c for c in response.json()["connectors"]}
    assert list(listed) == ["recording", "gateway"]  # plant-file order
    gateway = listed["gateway"]
    assert gateway["kind"] == "http"
    assert gateway["status"] == "connected"
    assert gateway["since"].endswith("Z")
    assert gateway["description"] == "edge gateway posting JSON lines or Arrow streams"
    assert gateway["signals"] == 2
    assert (gateway["samples"], gateway["dead_letters"]) == (2, 1)
    assert gateway["samples_per_s"] > 0
    assert gateway["detail"]["queued"] == 1  # the dead letter is still waiting
    recording = listed["recording"]
    assert recording["status"] == "not_running"
    assert recording["reason"] == "not selected for this run"
    assert recording["signals"] == 8

    one = await ingest_app.http.get("/api/v1/connectors/gateway")
    assert one.json()["name"] == "gateway"
    missing = await ingest_app.http.get("/api/v1/connectors/gatewy")
    assert missing.status_code == 404
    assert "no connector 'gatewy'; did you mean gateway?" in missing.json()["error"]["message"]
