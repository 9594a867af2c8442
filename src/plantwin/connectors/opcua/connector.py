"""``OpcUaConnector``: subscribe to a server's variables, write commands, reconnect alone.

Supports (checklist, STYLE.md 12):

- [x] read: one subscription, a monitored item per bound address, with sampling interval,
  queue size, data-change trigger and an absolute or percent deadband
- [x] source timestamps into ``ts`` (server timestamp, then arrival time, when absent)
- [x] status codes into quality (Uncertain -> UNCERTAIN, Bad -> BAD); a value-less or
  non-numeric notification becomes a dead letter
- [x] write: commands write the bound node, in the node's own data type
- [x] security: policy + mode with a client certificate and key; user/password
- [x] reconnect by itself with exponential backoff and jitter; namespaces and browse paths
  are resolved again and the subscription is created again at every connect
- [ ] history read to fill a gap after an outage (values a server overwrote while no
  subscription was active are lost; see docs/operations.md)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Self

from asyncua import ua
from asyncua.client.client import Client
from asyncua.crypto import security_policies, uacrypto
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaError, UaStatusCodeError
from cryptography import x509

from plantwin.connectors.opcua.addresses import Address, classify, resolve
from plantwin.connectors.opcua.notifications import BatchingSubscription, Counters
from plantwin.connectors.opcua.options import DeadbandType, OpcUaOptions, Trigger
from plantwin.core.backoff import Backoff
from plantwin.core.clock import Clock
from plantwin.core.connector import ConnectorHealth, ConnectorStatus
from plantwin.core.errors import ConnectorError
from plantwin.core.records import DeadLetter
from plantwin.core.samples import RawBatch
from plantwin.model.plant import BindingDef

log = logging.getLogger(__name__)

_END = object()
_CHUNK = 1000  # monitored items per CreateMonitoredItems request
_TRIGGERS = {
    Trigger.STATUS: ua.DataChangeTrigger.Status,
    Trigger.STATUS_VALUE: ua.DataChangeTrigger.StatusValue,
    Trigger.STATUS_VALUE_TIMESTAMP: ua.DataChangeTrigger.StatusValueTimestamp,
}
_DEADBANDS = {
    DeadbandType.NONE: ua.DeadbandType.None_,
    DeadbandType.ABSOLUTE: ua.DeadbandType.Absolute,
    DeadbandType.PERCENT: ua.DeadbandType.Percent,
}
_INTEGER_TYPES = {
    ua.VariantType.SByte,
    ua.VariantType.Byte,
    ua.VariantType.Int16,
    ua.VariantType.UInt16,
    ua.VariantType.Int32,
    ua.VariantType.UInt32,
    ua.VariantType.Int64,
    ua.VariantType.UInt64,
}


class OpcUaConnector:
    """Connector to one OPC UA server; see the module docstring for what it supports."""

    kind = "opcua"

    def __init__(
        self,
        *,
        name: str,
        options: OpcUaOptions,
        bindings: Sequence[BindingDef],
        clock: Clock,
        inbox_size: int = 16,
    ) -> None:
        self.name = name
        self._opt = options
        self._clock = clock
        reads = [b for b in bindings if "#" not in b.signal]
        writes = [b for b in bindings if "#" in b.signal]
        self._reads = [self._classify(b) for b in reads]
        self._writes = {b.address: self._classify(b) for b in writes}
        self._queue: asyncio.Queue[object] = asyncio.Queue(inbox_size)
        self._counters = Counters()
        self._status = ConnectorStatus.STOPPED
        self._last_error: str | None = None
        self._client: Client | None = None
        self._write_nodes: dict[str, ua.NodeId | str] = {}
        self._write_types: dict[str, ua.VariantType] = {}
        self._task: asyncio.Task[None] | None = None
        self.connects = 0  # successful connects, for tests and health

    def _classify(self, binding: BindingDef) -> Address:
        where = f"connector {self.name!r}, binding of {binding.signal}"
        return classify(binding.address, namespace=self._opt.namespace, where=where)

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> Self:
        self._status = ConnectorStatus.STARTING
        self._task = asyncio.create_task(self._run(), name=f"opcua {self.name}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            # Bounded: cancelled in the middle of asyncua's connect, the task has been seen
            # not to end (a stop right after start, e.g. when the API port is taken).
            done, _ = await asyncio.wait({self._task}, timeout=self._opt.timeout_s + 1.0)
            if not done:
                log.warning("OPC UA connector %s did not stop in time; left behind", self.name)
            elif not self._task.cancelled() and self._task.exception() is not None:
                log.warning("OPC UA connector %s ended with %r", self.name, self._task.exception())
        self._status = ConnectorStatus.STOPPED
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_END)

    def readings(self) -> AsyncIterator[RawBatch | DeadLetter]:
        if self._task is None or self._status is ConnectorStatus.STOPPED:
            msg = f"connector {self.name!r} is not open; use 'async with' first"
            raise ConnectorError(msg)
        return self._readings()

    async def _readings(self) -> AsyncIterator[RawBatch | DeadLetter]:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            assert isinstance(item, RawBatch | DeadLetter)
            yield item

    def health(self) -> ConnectorHealth:
        return ConnectorHealth(
            name=self.name,
            kind=self.kind,
            status=self._status,
            samples=self._counters.samples,
            dropped=self._counters.dropped,
            last_error=self._last_error,
        )

    # ------------------------------------------------------------------ sessions
    async def _run(self) -> None:
        """Connect, subscribe, wait for the loss; again after a backoff, until closed."""
        opt = self._opt
        backoff = Backoff(
            initial=opt.reconnect_initial_s,
            maximum=max(opt.reconnect_initial_s, opt.reconnect_max_s),
        )
        while True:
            connects = self.connects
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                self._lost(err)
            if self.connects > connects:
                backoff.reset()  # it was up: start the backoff afresh
            self._status = ConnectorStatus.RECONNECTING
            await asyncio.sleep(backoff.next())  # jittered: clients of one server spread out

    def _lost(self, err: BaseException) -> None:
        text = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        if self._status is not ConnectorStatus.RECONNECTING or self._last_error != text:
            log.warning("OPC UA connector %s: %s; reconnecting", self.name, text)  # once per cause
        self._last_error = text

    async def _session(self) -> None:
        client = await self._client_for()
        lost = asyncio.Event()
        causes: list[Exception] = []

        async def on_lost(exc: Exception) -> None:
            causes.append(exc)
            lost.set()

        client.connection_lost_callback = on_lost
        try:
            await client.connect()
            await self._subscribe(client)
            self._client = client
            self.connects += 1
            if self._status is ConnectorStatus.RECONNECTING:
                log.warning("OPC UA connector %s: connected again", self.name)
            self._status = ConnectorStatus.CONNECTED
            await lost.wait()
            cause = causes[0] if causes else None
            msg = f"connection to {self._opt.endpoint} lost" + (f" ({cause!r})" if cause else "")
            raise ConnectorError(msg)
        finally:
            self._client = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), self._opt.timeout_s)

    async def _client_for(self) -> Client:
        opt = self._opt
        client = Client(opt.endpoint, timeout=opt.timeout_s, watchdog_intervall=1.0)
        client.name = client.description = f"plantwin {self.name}"
        client.application_uri = f"urn:plantwin:{self.name}"
        client.session_timeout = 600_000  # ms; what servers commonly grant at most
        if opt.username is not None:
            client.set_user(opt.username)
        if opt.password is not None:
            client.set_password(opt.password)
        if opt.security_policy != "None":
            assert opt.certificate is not None
            assert opt.private_key is not None
            # Servers check that the client's application URI is the one in its certificate.
            client.application_uri = (
                await _certificate_uri(opt.certificate) or client.application_uri
            )
            policy = getattr(security_policies, f"SecurityPolicy{opt.security_policy}")
            await client.set_security(
                policy,
                opt.certificate,
                opt.private_key,
                server_certificate=opt.server_certificate,
                mode=getattr(ua.MessageSecurityMode, opt.security_mode),
            )
        return client

    async def _subscribe(self, client: Client) -> None:
        opt = self._opt
        addresses = [*self._reads, *self._writes.values()]
        nodes = await resolve(client, addresses, opt.namespace)
        reads, writes = nodes[: len(self._reads)], nodes[len(self._reads) :]
        self._write_nodes = dict(zip(self._writes, writes, strict=True))
        self._write_types = {}
        problems = [
            f"{a.text}: {n}" for a, n in zip(addresses, nodes, strict=True) if isinstance(n, str)
        ]
        params = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=opt.publishing_interval_ms,
            RequestedLifetimeCount=10_000,
            RequestedMaxKeepAliveCount=max(3, int(10_000 / max(opt.publishing_interval_ms, 1.0))),
            MaxNotificationsPerPublish=0,
            PublishingEnabled=True,
            Priority=0,
        )
        sub = BatchingSubscription(
            client.uaclient.session,
            params,
            source=self.name,
            addresses=[a.text for a in self._reads],
            sink=self._queue.put,
            counters=self._counters,
            now_ns=self._clock.now_ns,
        )
        await sub.init()
        requests = [
            self._item(handle, node)
            for handle, node in enumerate(reads, start=1)
            if isinstance(node, ua.NodeId)
        ]
        for start in range(0, len(requests), _CHUNK):
            chunk = requests[start : start + _CHUNK]
            results = await sub.create_monitored_items(chunk)
            for request, result in zip(chunk, results, strict=True):
                if isinstance(result, ua.StatusCode):
                    address = self._reads[request.RequestedParameters.ClientHandle - 1].text
                    problems.append(f"{address}: {result.name}")
        if problems:
            shown = "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else "")
            self._last_error = f"{len(problems)} address(es) not usable on the server: {shown}"
            log.warning("OPC UA connector %s: %s", self.name, self._last_error)

    def _item(self, handle: int, node: ua.NodeId) -> ua.MonitoredItemCreateRequest:
        opt = self._opt
        flt = ua.DataChangeFilter(
            Trigger=_TRIGGERS[opt.trigger],
            DeadbandType=_DEADBANDS[opt.deadband_type],
            DeadbandValue=opt.deadband,
        )
        return ua.MonitoredItemCreateRequest(
            ItemToMonitor=ua.ReadValueId(NodeId=node, AttributeId=AttributeIds.Value),
            MonitoringMode=ua.MonitoringMode.Reporting,
            RequestedParameters=ua.MonitoringParameters(
                ClientHandle=handle,
                SamplingInterval=opt.sampling_interval_ms,
                QueueSize=opt.queue_size,
                DiscardOldest=True,
                Filter=flt,
            ),
        )

    # ------------------------------------------------------------------ commands
    async def write(self, address: str, value: float) -> None:
        """Write ``value`` to the node bound to ``address``; ConnectorError says why not."""
        where = f"connector {self.name!r}"
        if address not in self._writes:
            known = ", ".join(sorted(self._writes)) or "none"
            msg = f"{where} has no command bound to address {address!r} (commands: {known})"
            raise ConnectorError(msg)
        client = self._client
        if client is None:
            msg = f"{where} cannot write {address!r}: not connected ({self._status.value}"
            msg += f"; last error: {self._last_error})" if self._last_error else ")"
            raise ConnectorError(msg)
        node = self._write_nodes.get(address)
        if not isinstance(node, ua.NodeId):
            msg = f"{where} cannot write {address!r}: {node or 'not on the server'}"
            raise ConnectorError(msg)
        try:
            target = client.get_node(node)
            vtype = self._write_types.get(address)
            if vtype is None:
                vtype = await target.read_data_type_as_variant_type()
                self._write_types[address] = vtype
            variant = ua.Variant(_convert(value, vtype), vtype)
            await target.write_value(ua.DataValue(variant))
        except UaStatusCodeError as err:
            msg = f"{where}: the server refused {value!r} at {address!r}: {err}"
            self._last_error = msg
            raise ConnectorError(msg) from err
        except (OSError, TimeoutError, UaError, ValueError, OverflowError) as err:
            msg = f"{where}: writing {value!r} to {address!r} failed: {type(err).__name__}: {err}"
            self._last_error = msg
            raise ConnectorError(msg) from err


async def _certificate_uri(path: str) -> str | None:
    try:
        cert = await uacrypto.load_certificate(path)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (OSError, ValueError, x509.ExtensionNotFound) as err:
        if isinstance(err, OSError):
            msg = f"cannot read the client certificate {path!r}: {err.strerror}"
            raise ConnectorError(msg) from err
        return None
    uris = names.value.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def _convert(value: float, vtype: ua.VariantType) -> float | int | bool:
    if vtype is ua.VariantType.Boolean:
        return bool(value)
    if vtype in _INTEGER_TYPES:
        if value != round(value):
            msg = f"{value!r} is not a whole number, and the node holds {vtype.name}"
            raise ValueError(msg)
        return round(value)
    return float(value)
