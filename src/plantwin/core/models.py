"""Trained-model records of the model registry: what a model is, what it was trained on.

The registry (:mod:`plantwin.analytics.registry`) makes them; stores keep them through the
:class:`~plantwin.core.store.ModelStore` seam. The fitted model itself is an opaque
``artifact`` (bytes) with its SHA-256, kept apart from the record so listing stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")

ParamValue = str | float | int | bool


def check_model_name(name: str) -> None:
    """Raise ValueError unless ``name`` is 1-64 lowercase letters, digits, '.', '_' or '-'."""
    if not MODEL_NAME.fullmatch(name):
        msg = (
            f"model name {name!r} is not allowed: use 1-64 lowercase letters, digits, '.', '_' "
            "or '-', starting with a letter or digit"
        )
        raise ValueError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelInfo:
    """One registered version of a named model (without its artifact bytes).

    ``version`` counts 1, 2, 3 ... per name; a store refuses any other next version.
    ``data_start``/``data_end`` (ns UTC, end exclusive) and ``data_sources`` (twin ids or
    signal keys) say what history it learned from; ``metrics`` how well it did on held-out
    data; ``params`` the settings that made it (hyper-parameters, horizons, windows).
    """

    name: str
    version: int
    kind: str  # what loads the artifact, e.g. "rul.lightgbm-quantile"
    created: int  # ns UTC
    data_start: int
    data_end: int
    data_sources: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    metrics: Mapping[str, float] = field(default_factory=dict)
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    sha256: str = ""  # hex digest of the artifact
    size: int = 0  # artifact bytes

    @property
    def ref(self) -> str:
        """``name@version``, the way logs, events and the CLI name one version."""
        return f"{self.name}@{self.version}"
