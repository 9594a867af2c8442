"""Which connector implementation runs each connector kind a plant file declares.

Each kind maps to a factory that gets the declared connector (its options come from the plant
file), the bindings that name it (the addresses to subscribe to) and the plant clock. A kind
without a factory yet is reported as not running, and the rest of the plant starts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence

from plantwin.connectors.http import HttpConnector, parse_http_options
from plantwin.connectors.mqtt import MqttConnector, SparkplugConnector
from plantwin.connectors.opcua import OpcUaConnector, OpcUaOptions, parse_options
from plantwin.connectors.opcua.options import Trigger
from plantwin.connectors.replay import ReplayConnector
from plantwin.connectors.replay import parse_options as parse_replay_options
from plantwin.core.clock import Clock
from plantwin.core.connector import Connector
from plantwin.model.plant import BindingDef, ConnectorDef, Plant

ConnectorFactory = Callable[[ConnectorDef, Sequence[BindingDef], Clock], Connector]


def opcua(declared: ConnectorDef, bindings: Sequence[BindingDef], clock: Clock) -> Connector:
    options = parse_options(declared.name, declared.options)
    return OpcUaConnector(name=declared.name, options=options, bindings=bindings, clock=clock)


def _replay(declared: ConnectorDef, bindings: Sequence[BindingDef], clock: Clock) -> Connector:
    return ReplayConnector(
        name=declared.name,
        options=parse_replay_options(declared),
        clock=clock,
        addresses={b.address for b in bindings},
    )


def _http(declared: ConnectorDef, bindings: Sequence[BindingDef], clock: Clock) -> Connector:
    return HttpConnector(name=declared.name, options=parse_http_options(declared))


# Kinds whose driver runs its own network thread next to the event loop.
THREADED_KINDS = frozenset({"mqtt", "sparkplug"})
# With a busy network thread, the event loop waits for the GIL up to the switch interval at
# each hand-over; CPython's 5 ms default put 50-150 ms on the p99 of MQTT publish -> live
# state at 10,000 messages/s, 1 ms keeps it near 15 ms at the same throughput.
SWITCH_INTERVAL_S = 0.001

# kind -> factory; "demo" is built by the runtime itself (it needs the simulator settings).
FACTORIES: Mapping[str, ConnectorFactory] = {
    "opcua": opcua,
    "replay": _replay,
    "http": _http,
    "mqtt": MqttConnector.from_plant,
    "sparkplug": SparkplugConnector.from_plant,
}


def demo_over_opcua(
    plant: Plant, name: str, endpoint: str, namespace: str, clock: Clock
) -> Connector:
    """The client side of ``plantwin demo``: the ``demo`` connector's bindings, read over OPC UA.

    The demo server names each node after its binding address in ``namespace``, so the plant
    file stays as it is. Every simulated value is a sample (trigger on new timestamps, no
    deadband); the publishing interval batches about 5 notification messages a second, and
    the queue holds what the server may write between two of them at high speed.
    """
    options = OpcUaOptions(
        endpoint=endpoint,
        namespace=namespace,
        publishing_interval_ms=200.0,
        queue_size=10_000,
        trigger=Trigger.STATUS_VALUE_TIMESTAMP,
        reconnect_initial_s=0.2,
        reconnect_max_s=5.0,
    )
    return OpcUaConnector(
        name=name, options=options, bindings=bindings_of(plant, name), clock=clock
    )


def bindings_of(plant: Plant, connector: str) -> list[BindingDef]:
    """Signal and command bindings (``signal`` is then "<twin>#<command>") naming ``connector``."""
    return [b for b in plant.bindings if b.connector == connector]


def build(plant: Plant, declared: ConnectorDef, clock: Clock) -> Connector | None:
    """The connector for ``declared``, or None when this build has no factory for its kind."""
    factory = FACTORIES.get(declared.kind)
    if factory is None:
        return None
    if declared.kind in THREADED_KINDS:
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
    return factory(declared, bindings_of(plant, declared.name), clock)
