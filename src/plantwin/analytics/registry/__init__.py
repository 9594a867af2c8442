"""The model registry: every trained model stored with version, data range, features, metrics.

Usage::

    registry = ModelRegistry(store)
    info = await registry.register(
        "spindle-rul", fitted, kind="rul.lightgbm-quantile",
        data_start=t0, data_end=t1, data_sources=("plant/L1/M1/spindle",),
        features=names, metrics={"mae_h": 3.1}, params={"window_s": 3600},
    )
    loaded = await registry.load("spindle-rul")  # newest version; or version=2
    loaded.info.version, loaded.model  # the fitted object as registered
"""

from plantwin.analytics.registry.registry import (
    LoadedModel,
    ModelNotFoundError,
    ModelRegistry,
    info_dict,
)

__all__ = ["LoadedModel", "ModelNotFoundError", "ModelRegistry", "info_dict"]
