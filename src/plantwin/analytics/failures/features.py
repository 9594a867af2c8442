"""Features from the process signals, plus the derived quantities the failure physics uses.

AI4I's documented rules: heat dissipation fails when the process-air temperature difference
is small at low speed, power fails outside 3500..9000 W (torque x angular speed), overstrain
fails when tool wear x torque exceeds a limit that depends on the product type, and the tool
is replaced (or fails) at 200-240 min of wear. The derived columns make those boundaries
single thresholds a tree can find, instead of curves it must approximate.
"""

from __future__ import annotations

import math

import numpy as np

from plantwin.analytics.failures.data import Ai4iData, FloatArray

# Overstrain limits per product type L, M, H (min*Nm), from the data set's description.
OVERSTRAIN_LIMIT = np.array([11_000.0, 12_000.0, 13_000.0])

FEATURES = (
    "type",
    "air_temperature_k",
    "process_temperature_k",
    "speed_rpm",
    "torque_nm",
    "tool_wear_min",
    "temperature_difference_k",
    "power_w",
    "overstrain_min_nm",
    "overstrain_ratio",
)


def features(data: Ai4iData) -> FloatArray:
    """One row per record, columns in the order of FEATURES."""
    power = data.torque * data.speed * (2.0 * math.pi / 60.0)  # W = Nm * rad/s
    overstrain = data.wear * data.torque
    columns = (
        data.type_code.astype(np.float64),
        data.air,
        data.process,
        data.speed,
        data.torque,
        data.wear,
        data.process - data.air,
        power,
        overstrain,
        overstrain / OVERSTRAIN_LIMIT[data.type_code],  # >= 1 means beyond the type's limit
    )
    return np.column_stack(columns).astype(np.float64)
