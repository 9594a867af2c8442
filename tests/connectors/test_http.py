"""The http connector's bounded queue: all or nothing, in order, drained on close."""

from __future__ import annotations

import asyncio

import pytest

from plantwin.connectors.http import HttpConnector, HttpOptions, parse_http_options
from plantwin.core import ConnectorError, DeadLetter, RawBatch
from plantwin.core.connector import ConnectorStatus
from plantwin.model.plant import ConnectorDef
from tests.helpers import T0, S


def batch(n: int, first: int = 0) -> RawBatch:
    return RawBatch.of("gw", ["a"] * n, [T0 + (first + i) * S for i in range(n)], range(n))


LETTER = DeadLetter(received=T0, source="gw", reason="not valid JSON", raw=b"{", location="line 2")


async def test_offers_come_out_in_order_and_a_full_queue_refuses_the_whole_offer() -> None:
    async with HttpConnector(name="gw", options=HttpOptions(queue_samples=10)) as http:
        assert http.offer([batch(6), LETTER])
        assert not http.offer([batch(4)])  # 7 queued + 4 > 10: nothing of it is taken
        assert http.offer([batch(3, first=6)])  # 7 + 3 fits
        readings = http.readings()
        got = [await anext(readings) for _ in range(3)]
        assert [type(g).__name__ for g in got] == ["RawBatch", "DeadLetter", "RawBatch"]
        assert isinstance(got[2], RawBatch)
        assert int(got[2].ts[0]) == T0 + 6 * S
        health = http.health()
        assert (health.samples, health.dead_letters) == (9, 1)
        assert health.detail["refused_offers"] == 1
        assert health.detail["queued"] == 0
        # Once empty, an offer larger than the whole queue is taken rather than refused for ever.
        assert http.offer([batch(25)])
        assert len(await anext(readings)) == 25  # type: ignore[arg-type]


async def test_close_intake_waits_until_the_pipeline_took_everything() -> None:
    async with HttpConnector(name="gw") as http:
        http.offer([batch(2)])
        http.offer([batch(2, first=2)])
        closing = asyncio.create_task(http.close_intake())
        await asyncio.sleep(0)
        assert not closing.done()  # two batches still queued
        assert not http.offer([batch(1)])  # no new offers while closing
        taken = [item async for item in http.readings()]  # ends once drained and closed
        await closing
    assert [len(t) for t in taken if isinstance(t, RawBatch)] == [2, 2]
    assert len(taken) == 2
    assert http.health().status is ConnectorStatus.STOPPED


def test_options_are_checked() -> None:
    def declared(**options: object) -> ConnectorDef:
        return ConnectorDef(name="gw", kind="http", description="", options=options)

    assert parse_http_options(declared(max_body_bytes=1024)).max_body_bytes == 1024
    with pytest.raises(ConnectorError, match=r"connectors\.gw\.max_body: unknown option"):
        parse_http_options(declared(max_body=1))
    with pytest.raises(ConnectorError, match="queue_samples: expected a positive whole number"):
        parse_http_options(declared(queue_samples=0))


async def test_readings_need_an_open_connector_and_writes_are_refused() -> None:
    http = HttpConnector(name="gw")
    with pytest.raises(ConnectorError, match="not open"):
        http.readings()
    with pytest.raises(ConnectorError, match="cannot write"):
        await http.write("a", 1.0)
