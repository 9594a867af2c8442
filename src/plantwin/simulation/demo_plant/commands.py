"""Command addresses of the demo connector, from the plant file's command bindings."""

from __future__ import annotations

import math
from dataclasses import dataclass

from plantwin.core.errors import ConnectorError
from plantwin.model.plant import Plant
from plantwin.simulation.demo_plant.emission import local_key

# command -> assets on which the simulator can execute it
SUPPORTED = {
    "set_feed_override": ("mill1", "lathe1"),
    "set_spindle_speed": ("mill1", "lathe1"),
    "reset_fault": ("mill1", "lathe1", "washer1", "cmm1", "compressor1"),
    "set_pressure": ("compressor1",),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandTarget:
    address: str
    asset: str  # local asset key, e.g. "mill1"
    command: str
    a: float  # raw (source unit) = a * value (parameter unit) + b
    b: float
    low: float | None
    high: float | None
    unit: str

    def value(self, raw: float) -> float:
        """The parameter value of a raw write, checked against the plant file's limits."""
        if not math.isfinite(raw):
            msg = f"command {self.address!r}: value {raw!r} is not a finite number"
            raise ConnectorError(msg)
        value = (raw - self.b) / self.a
        if (self.low is not None and value < self.low - 1e-9) or (
            self.high is not None and value > self.high + 1e-9
        ):
            low = "" if self.low is None else f"{self.low:g}"
            high = "" if self.high is None else f"{self.high:g}"
            msg = (
                f"command {self.address!r}: {value:g} {self.unit} is outside "
                f"{low}..{high} {self.unit}"
            )
            raise ConnectorError(msg)
        return value


def command_targets(plant: Plant, connector: str) -> dict[str, CommandTarget]:
    """Address -> target for every command bound to ``connector`` that the simulator runs."""
    out: dict[str, CommandTarget] = {}
    for twin in plant.twins.values():
        for cmd in twin.commands:
            binding = cmd.binding
            if binding is None or binding.connector != connector:
                continue
            asset = local_key(plant, twin.id)
            if asset not in SUPPORTED.get(cmd.name, ()):
                msg = (
                    f"the demo plant cannot execute command {cmd.name!r} of {twin.id} "
                    f"(address {binding.address!r})"
                )
                raise ConnectorError(msg)
            param = cmd.params[0] if cmd.params else None
            out[binding.address] = CommandTarget(
                address=binding.address,
                asset=asset,
                command=cmd.name,
                a=binding.a,
                b=binding.b,
                low=None if param is None else param.low,
                high=None if param is None else param.high,
                unit="" if param is None or param.unit is None else param.unit,
            )
    return out
