"""``POST /api/v1/ingest``: bulk readings as JSON lines or an Arrow IPC stream.

The body is decoded and checked here (decode errors, unknown addresses, impossible times),
so the answer lists every rejected record with its line or row and why. Good records go to
an ``http`` connector of the plant file, whose bindings map their addresses to signals;
rejected ones become dead letters next to them. Nothing is half taken: a full connector
refuses the whole body with 503 and Retry-After.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request

from plantwin.api.auth import Operator
from plantwin.api.context import ApiContext
from plantwin.api.deps import Context
from plantwin.api.errors import NotFoundError
from plantwin.api.params import ParamError
from plantwin.api.schemas import ErrorResponse, IngestErrorOut, IngestOut
from plantwin.core.connector import Inlet
from plantwin.core.records import DeadLetter
from plantwin.core.samples import RawBatch
from plantwin.ingest import Decoded, PayloadError, decode_arrow_stream, decode_json_records
from plantwin.ingest.decode import Precision

router = APIRouter(prefix="/api/v1", tags=["ingest"])

NDJSON = ("application/x-ndjson", "application/jsonl")
ARROW = "application/vnd.apache.arrow.stream"
MAX_ERRORS = 1000  # errors listed in one answer; the count covers all
RETRY_AFTER_S = 1
THREAD_BYTES = 1 << 20  # bodies larger than this are decoded in a worker thread

_BODY = {
    "required": True,
    "content": {
        NDJSON[0]: {
            # Any text is accepted: lines that are not records are answered one by one.
            "schema": {"description": "one JSON object per line"},
            "example": '{"address": "L1/mill1/power", "ts": "2026-11-27T01:00:00Z", '
            '"value": 12.5, "quality": "good"}\n',
        },
        ARROW: {"schema": {"type": "string", "format": "binary"}},
    },
}


@router.post(
    "/ingest",
    response_model=IngestOut,
    response_model_exclude_none=True,
    summary="Bulk readings as JSON lines or an Arrow IPC stream",
    description=(
        "JSON lines (`application/x-ndjson`): one object per line with `address`, `ts` (ISO "
        "8601 with a zone, or an epoch number in `precision` units), `value` and optional "
        "`quality` (good, uncertain, bad). Arrow IPC stream (`application/vnd.apache.arrow."
        "stream`): columns address (string), ts (timestamp with a zone, or epoch integer), "
        "value (number), optional quality. Addresses are mapped by the bindings of the "
        "plant file's `http` connector. Valid records are stored even when others fail; the "
        "answer lists the failed ones by line or row."
    ),
    openapi_extra={"requestBody": _BODY},
    responses={
        413: {"model": ErrorResponse, "description": "body larger than the connector allows"},
        415: {"model": ErrorResponse, "description": "content type is not NDJSON or Arrow"},
        503: {"model": ErrorResponse, "description": "connector queue full; retry later"},
    },
)
async def ingest(
    request: Request,
    ctx: Context,
    _: Operator,
    connector: Annotated[
        str | None, Query(description="http connector to feed; default: the only one")
    ] = None,
    precision: Annotated[
        Precision, Query(description="unit of numeric epoch times: s, ms, us or ns")
    ] = "ns",
) -> IngestOut:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in NDJSON:
        kind, decoder, unit = "ndjson", decode_json_records, "line"
    elif media == ARROW:
        kind, decoder, unit = "arrow", decode_arrow_stream, "row"
    else:
        msg = (
            f"content type '{media or 'none'}' is not accepted; send {NDJSON[0]} "
            f"(JSON lines) or {ARROW} (Arrow IPC stream)"
        )
        raise HTTPException(415, msg)
    name, inlet = _inlet(ctx, connector)
    body = await _read_body(request, inlet.max_body_bytes)
    received = ctx.clock.now_ns()
    try:
        if len(body) > THREAD_BYTES:  # keep the loop (API, pipeline) turning meanwhile
            decoded = await asyncio.to_thread(
                decoder, name, body, received=received, precision=precision
            )
        else:
            decoded = decoder(name, body, received=received, precision=precision)
    except PayloadError as err:
        raise ParamError(str(err)) from err
    batch, dead = _screen(ctx, decoded, body, unit, received)
    if not inlet.offer([batch, *dead]):
        msg = f"connector '{name}' has a full queue; retry after {RETRY_AFTER_S} s"
        raise HTTPException(503, msg, headers={"Retry-After": str(RETRY_AFTER_S)})
    errors = sorted((_number(d.location), d.reason) for d in dead)
    return IngestOut(
        connector=name,
        format=kind,
        records=decoded.records,
        accepted=len(batch),
        rejected=len(dead),
        errors=[IngestErrorOut(**{unit: n}, reason=r) for n, r in errors[:MAX_ERRORS]],
        errors_truncated=len(errors) > MAX_ERRORS,
    )


def _inlet(ctx: ApiContext, requested: str | None) -> tuple[str, Inlet]:
    inlets = ctx.inlets
    if requested is not None:
        inlet = inlets.get(requested)
        if inlet is None:
            declared = ctx.plant.connectors.get(requested)
            if declared is not None and declared.kind == "http":
                why = ctx.not_running.get(requested, "it is not running")
                msg = f"http connector '{requested}' is not running: {why}"
            else:
                listed = ", ".join(inlets) or "none"
                msg = f"no http connector '{requested}' (http connectors: {listed})"
            raise NotFoundError(msg)
        return requested, inlet
    if len(inlets) == 1:
        return next(iter(inlets.items()))
    if not inlets:
        msg = "no http connector runs; declare one in the plant file (kind: http)"
        raise NotFoundError(msg)
    msg = f"several http connectors ({', '.join(inlets)}); choose one with ?connector=NAME"
    raise ParamError(msg)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_big = f"the body is larger than {limit} bytes, the limit of this connector; split it"
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise ParamError(f"Content-Length {declared!r} is not a number") from None
        if length > limit:
            raise HTTPException(413, too_big)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, too_big)
    return bytes(body)


def _screen(
    ctx: ApiContext, decoded: Decoded, body: bytes, unit: str, received: int
) -> tuple[RawBatch, list[DeadLetter]]:
    """Move the rows ingest would reject (unknown address, impossible time) to dead letters."""
    batch, dead = decoded.batch, list(decoded.dead)
    rejected = ctx.screen(batch) if ctx.screen is not None and len(batch) else ()
    if not rejected:
        return batch, dead
    lines = body.splitlines() if unit == "line" else []
    for row, reason in rejected:
        number = int(decoded.numbers[row])
        raw = (
            lines[number - 1]
            if lines
            else json.dumps(
                {
                    "address": batch.address[row],
                    "ts": int(batch.ts[row]),
                    "value": float(batch.value[row]),
                    "status": int(batch.status[row]),
                }
            ).encode()
        )
        dead.append(
            DeadLetter(
                received=received,
                source=batch.source,
                reason=reason,
                raw=raw,
                location=f"{unit} {number}",
            )
        )
    keep = np.ones(len(batch), np.bool_)
    keep[[row for row, _ in rejected]] = False
    index = np.flatnonzero(keep)
    kept = RawBatch(
        source=batch.source,
        address=[batch.address[i] for i in index.tolist()],
        ts=batch.ts[index],
        value=batch.value[index],
        status=batch.status[index],
    )
    return kept, dead


def _number(location: str) -> int:
    """The number of a 'line 12' / 'row 3' location."""
    return int(location.rsplit(" ", 1)[1])
