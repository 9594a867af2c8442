"""``MqttWorkers``: several receiving processes on one shared subscription (``workers: N``).

One Python MQTT client is bound by paho-mqtt's per-message work (tens of thousands of
messages/s per core). With ``workers: N`` the connector starts N processes, each an ordinary
:class:`MqttConnector` with its own client id (``<client_id>-w<i>``) subscribed as
``$share/<share>/<filter>``, so the broker splits the messages between them. Each worker
receives and decodes JSON into RawBatches and dead letters and sends them through a pipe; this
process only unpickles ready batches for the pipeline. The broker's shared-subscription
delivery gives no order between workers; each sample carries its own time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
import pickle
from collections.abc import AsyncIterator, Sequence
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Self

from plantwin.connectors.mqtt.base import Reading
from plantwin.connectors.mqtt.options import MqttOptions
from plantwin.core.clock import Clock, WallClock
from plantwin.core.connector import ConnectorHealth, ConnectorStatus
from plantwin.core.errors import ConnectorError

log = logging.getLogger(__name__)

HEALTH_EVERY_S = 0.5


def worker_main(options: MqttOptions, addresses: list[str], out: Connection) -> None:
    """Entry point of a worker process: receive, decode, send readings and health."""
    asyncio.run(_work(options, addresses, out))


async def _work(options: MqttOptions, addresses: list[str], out: Connection) -> None:
    from plantwin.connectors.mqtt.connector import MqttConnector  # noqa: PLC0415  # in the child

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_reader(out.fileno(), stop.set)  # the parent says stop (or went away)

    def send(kind: str, payload: object) -> None:
        out.send_bytes(pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL))

    async with MqttConnector(options, addresses, WallClock()) as connector:

        async def report() -> None:
            while True:
                send("connected", connector.session.connected_at)
                send("health", connector.health())
                await asyncio.sleep(HEALTH_EVERY_S)

        async def forward() -> None:
            async for item in connector.readings():
                send("reading", item)

        tasks = [asyncio.create_task(report()), asyncio.create_task(forward())]
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        send("health", connector.health())
    loop.remove_reader(out.fileno())


class MqttWorkers:
    """A Connector whose messages are received and decoded by worker processes."""

    kind = "mqtt"

    def __init__(self, options: MqttOptions, addresses: Sequence[str], clock: Clock) -> None:
        if options.workers < 1:
            msg = f"connector '{options.connection.name}': workers must be at least 1"
            raise ConnectorError(msg)
        self.name = options.connection.name
        self.options = options
        self.addresses = list(addresses)
        self.clock = clock
        self._processes: list[multiprocessing.process.BaseProcess] = []
        self._pipes: list[Connection] = []
        self._health: dict[int, ConnectorHealth] = {}
        self._queue: asyncio.Queue[Reading] = asyncio.Queue(1024)
        self._open = False
        self._connected = asyncio.Event()
        self._pending: set[asyncio.Task[None]] = set()
        self._connected_at: dict[int, int | None] = {}

    def _worker_options(self, index: int) -> MqttOptions:
        o = self.options
        # Workers acknowledge on receipt: the ack of a message cannot wait for a store in
        # another process (a receipt does not cross the pipe).
        connection = dataclasses.replace(
            o.connection, client_id=f"{o.connection.client_id}-w{index}", ack="received"
        )
        return dataclasses.replace(
            o, connection=connection, share=o.share or f"plantwin-{self.name}", workers=0
        )

    async def __aenter__(self) -> Self:
        context = multiprocessing.get_context("spawn")  # never fork a process with threads
        loop = asyncio.get_running_loop()
        for index in range(self.options.workers):
            ours, theirs = context.Pipe(duplex=True)
            process = context.Process(
                target=worker_main,
                args=(self._worker_options(index), self.addresses, theirs),
                name=f"plantwin-mqtt-{self.name}-w{index}",
                daemon=True,
            )
            process.start()
            theirs.close()
            self._processes.append(process)
            self._pipes.append(ours)
            loop.add_reader(ours.fileno(), self._receive, index, ours)
        self._open = True
        # Like a single connector: wait a while for the first connections, never fail on it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), 15.0)
        return self

    def _all_connected(self) -> bool:
        return len(self._health) == len(self._processes) and all(
            h.status is ConnectorStatus.CONNECTED for h in self._health.values()
        )

    def _receive(self, index: int, pipe: Connection) -> None:
        try:
            kind, payload = pickle.loads(pipe.recv_bytes())  # noqa: S301  # our own child
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(pipe.fileno())
            previous = self._health.get(index)
            self._health[index] = ConnectorHealth(
                name=self.name,
                kind=self.kind,
                status=ConnectorStatus.FAILED if self._open else ConnectorStatus.STOPPED,
                samples=previous.samples if previous else 0,
                last_error=f"worker {index} ended" if self._open else None,
            )
            return
        if kind == "connected":
            self._connected_at[index] = payload
        elif kind == "health":
            self._health[index] = payload
            if self._all_connected():
                self._connected.set()
        else:
            try:
                self._queue.put_nowait(payload)
            except asyncio.QueueFull:
                # Backpressure: stop reading this worker's pipe until the pipeline catches up;
                # the worker then blocks on its pipe, and its broker session holds the rest.
                loop = asyncio.get_running_loop()
                loop.remove_reader(pipe.fileno())
                task = loop.create_task(self._put_then_resume(index, pipe, payload))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)

    async def _put_then_resume(self, index: int, pipe: Connection, payload: Reading) -> None:
        await self._queue.put(payload)
        if self._open:
            asyncio.get_running_loop().add_reader(pipe.fileno(), self._receive, index, pipe)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open = False
        loop = asyncio.get_running_loop()
        for pipe in self._pipes:
            with contextlib.suppress(OSError, ValueError):
                loop.remove_reader(pipe.fileno())
                pipe.send_bytes(b"stop")
        for process in self._processes:
            await asyncio.to_thread(process.join, 10.0)
            if process.is_alive():
                process.terminate()
        left = self._queue.qsize()
        if left:
            log.warning("connector %s: %d reading(s) arrived after ingest stopped", self.name, left)
        for pipe in self._pipes:
            pipe.close()

    @property
    def connected_at(self) -> int | None:
        """When the first worker connected (ns since the epoch), if any has."""
        times = [t for t in self._connected_at.values() if t is not None]
        return min(times) if times else None

    def readings(self) -> AsyncIterator[Reading]:
        if not self._open:
            msg = f"connector {self.name!r} is not open; use 'async with' first"
            raise ConnectorError(msg)
        return self._readings()

    async def _readings(self) -> AsyncIterator[Reading]:
        while self._open:
            yield await self._queue.get()

    def health(self) -> ConnectorHealth:
        known = list(self._health.values())
        if not self._open:
            status = ConnectorStatus.STOPPED
        elif len(known) < len(self._processes):
            status = ConnectorStatus.STARTING
        elif any(h.status is ConnectorStatus.FAILED for h in known):
            status = ConnectorStatus.FAILED
        elif all(h.status is ConnectorStatus.CONNECTED for h in known):
            status = ConnectorStatus.CONNECTED
        else:
            status = ConnectorStatus.RECONNECTING
        errors = [h.last_error for h in known if h.last_error]
        return ConnectorHealth(
            name=self.name,
            kind=self.kind,
            status=status,
            samples=sum(h.samples for h in known),
            dropped=sum(h.dropped for h in known),
            last_error=errors[0] if errors else None,
        )

    async def write(self, address: str, value: float) -> None:
        msg = (
            f"connector '{self.name}' runs {self.options.workers} receiving workers and does "
            "not publish; declare a second mqtt connector without workers for commands"
        )
        raise ConnectorError(msg)
