"""``ReplayConnector``: a CSV or Parquet file played back as readings, paced by the clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from types import TracebackType
from typing import Self

import numpy as np

from plantwin.connectors.replay.decode import Decoded, decode
from plantwin.connectors.replay.files import read_file
from plantwin.connectors.replay.options import Layout, ReplayOptions
from plantwin.core.clock import NS_PER_S, Clock, iso
from plantwin.core.connector import ConnectorHealth, ConnectorStatus
from plantwin.core.errors import ConnectorError
from plantwin.core.meter import ConnectorMeter
from plantwin.core.records import DeadLetter
from plantwin.core.samples import RawBatch

MIN_WAIT_S = 0.05  # clock seconds: rows due within this are sent together, not one by one


class ReplayConnector:
    """Plays a recorded file back through the pipeline.

    The file is read and checked when the connector opens (``async with``), so a wrong path
    or mapping fails at start; bad rows become dead letters (``file:line`` and the reason),
    handed over first, and the rest is replayed in time order: at the original pace scaled
    by ``speed`` against the injected clock, or as fast as the pipeline takes it.

    Supports: read (CSV, Parquet; long or wide layout). No write, no reconnect: a file
    cannot go away once read. The whole file is held in memory (about 30 bytes a sample),
    which is what makes sorting by time possible; split files larger than memory.
    """

    kind = "replay"

    def __init__(
        self,
        *,
        name: str,
        options: ReplayOptions,
        clock: Clock,
        addresses: Collection[str] | None = None,
    ) -> None:
        self.name = name
        self.options = options
        self._clock = clock
        self._addresses = addresses  # bound ones: others are dead letters with file:line
        self._meter = ConnectorMeter()
        self._data: Decoded | None = None
        self._position = 0  # samples handed over
        self._finished = asyncio.Event()

    @property
    def finished(self) -> asyncio.Event:
        """Set once every row of the file has been handed over."""
        return self._finished

    @property
    def data(self) -> Decoded:
        if self._data is None:
            msg = f"connector {self.name!r} is not open; use 'async with' first"
            raise ConnectorError(msg)
        return self._data

    async def __aenter__(self) -> Self:
        self._meter.set_status(ConnectorStatus.STARTING)
        received = self._clock.now_ns()
        try:
            self._data = await asyncio.to_thread(self._load, received)
            self._check_columns(self._data)
        except ConnectorError as err:
            self._meter.error(str(err))
            self._meter.set_status(ConnectorStatus.FAILED)
            msg = f"connector '{self.name}': {err}"
            raise ConnectorError(msg) from err
        self._meter.set_status(ConnectorStatus.CONNECTED)
        return self

    def _load(self, received: int) -> Decoded:
        return decode(
            read_file(self.options),
            self.options,
            source=self.name,
            received=received,
            addresses=self._addresses,
        )

    def _check_columns(self, data: Decoded) -> None:
        """Wide files: every address column must feed a signal, or all its cells would be
        dead letters; say so at start instead."""
        if self.options.layout is not Layout.WIDE or self._addresses is None:
            return
        unbound = [str(c) for c in data.names.tolist() if c not in self._addresses]
        if unbound:
            msg = (
                f"columns {', '.join(unbound)} of '{self.options.file.name}' are not bound to "
                "a signal; bind them (the address is the column name) or list the wanted "
                "ones in the option 'columns'"
            )
            raise ConnectorError(msg)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._meter.status is not ConnectorStatus.FINISHED:
            self._meter.set_status(ConnectorStatus.STOPPED)

    def readings(self) -> AsyncIterator[RawBatch | DeadLetter]:
        if self._meter.status is not ConnectorStatus.CONNECTED:
            msg = f"connector {self.name!r} is not open (status {self._meter.status.value})"
            raise ConnectorError(msg)
        return self._readings(self.data)

    async def _readings(self, data: Decoded) -> AsyncIterator[RawBatch | DeadLetter]:
        for letter in data.dead:
            self._meter.dead()
            yield letter
        total = len(data)
        rows = self.options.batch_rows
        speed = self.options.speed
        start = self._clock.now_ns()
        first = int(data.ts[0]) if total else 0
        while self._position < total and self._meter.status is ConnectorStatus.CONNECTED:
            pos = self._position
            end = min(pos + rows, total)
            if speed is not None:
                due = first + int((self._clock.now_ns() - start) * speed)
                end = min(end, int(np.searchsorted(data.ts, due, side="right")))
                if end == pos:  # the next row is not due yet
                    wait = (int(data.ts[pos]) - due) / speed / NS_PER_S
                    await self._clock.sleep(max(wait, MIN_WAIT_S))
                    continue
            batch = RawBatch(
                source=self.name,
                address=data.names[data.code[pos:end]].tolist(),
                ts=data.ts[pos:end],
                value=data.value[pos:end],
                status=data.status[pos:end],
            )
            self._position = end
            self._meter.count(end - pos)
            yield batch
        if self._position >= total:
            self._meter.set_status(ConnectorStatus.FINISHED)
            self._finished.set()

    def health(self) -> ConnectorHealth:
        detail: dict[str, int | float | str] = {"file": str(self.options.file)}
        speed = self.options.speed
        detail["speed"] = "max" if speed is None else speed
        if self._data is not None:
            data = self._data
            detail["rows"] = data.rows
            detail["samples_in_file"] = len(data)
            detail["replayed"] = self._position
            if self._position:
                detail["replayed_through"] = iso(int(data.ts[self._position - 1]))
            if data.reordered:
                detail["reordered"] = "the file was not in time order; replayed sorted"
        return self._meter.health(self.name, self.kind, detail)

    async def write(self, address: str, value: float) -> None:
        msg = f"connector '{self.name}' replays a file and cannot write to '{address}'"
        raise ConnectorError(msg)
