"""Which connector implementation runs each connector kind a plant file declares.

Each kind maps to a factory that gets the declared connector (its options come from the plant
file), the bindings that name it (the addresses to subscribe to) and the plant clock. A kind
without a factory yet is reported as not running, and the rest of the plant starts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence

from plantwin.connectors.mqtt import MqttConnector, SparkplugConnector
from plantwin.core.clock import Clock
from plantwin.core.connector import Connector
from plantwin.model.plant import BindingDef, ConnectorDef, Plant

ConnectorFactory = Callable[[ConnectorDef, Sequence[BindingDef], Clock], Connector]

# Kinds whose driver runs its own network thread next to the event loop.
THREADED_KINDS = frozenset({"mqtt", "sparkplug"})
# With a busy network thread, the event loop waits for the GIL up to the switch interval at
# each hand-over; CPython's 5 ms default put 50-150 ms on the p99 of MQTT publish -> live
# state at 10,000 messages/s, 1 ms keeps it near 15 ms at the same throughput.
SWITCH_INTERVAL_S = 0.001

# kind -> factory; "demo" is built by the runtime itself (it needs the simulator settings).
FACTORIES: Mapping[str, ConnectorFactory] = {
    "mqtt": MqttConnector.from_plant,
    "sparkplug": SparkplugConnector.from_plant,
}


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
