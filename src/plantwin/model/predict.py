"""Resolving prediction signals: a registered model's output over signals of the twin."""

from __future__ import annotations

from dataclasses import replace

from plantwin.core.models import check_model_name
from plantwin.model.health import DEFAULT_EVERY, _duration, _key, _percent
from plantwin.model.layers import Located
from plantwin.model.plant import PredictDef, SignalDef
from plantwin.model.problems import Path, ProblemLog
from plantwin.model.schema import SignalSpec


def resolve_predict(
    pending: list[tuple[str, str, Located[SignalSpec]]],
    signals: dict[str, SignalDef],
    broken: set[str],
    log: ProblemLog,
    computed: set[str] | frozenset[str] = frozenset(),
) -> set[str]:
    """Attach a :class:`PredictDef` to each prediction signal in ``signals`` (in place); the
    model-version signals they name (computed by the twin too). ``computed``: the keys the
    twin computes otherwise, which a version signal must not be (one writer per signal)."""
    versions: set[str] = set()
    for key, twin, loc in pending:
        spec = loc.value.predict
        assert spec is not None
        where = (*loc.path, "predict")
        if key not in signals:
            continue
        value = loc.value
        if value.expr is not None or value.window is not None or value.health is not None:
            log.add(where, "a signal is computed by one of 'expr', 'window', 'health' or 'predict'")
            continue
        if not _percent(signals[key].unit):
            log.add((*loc.path, "unit"), "a prediction signal's unit is percent (0-100)")
            continue
        try:
            check_model_name(spec.model)
        except ValueError as err:
            log.add((*where, "model"), str(err))
            continue
        inputs = _inputs(spec.signals, twin, key, signals, broken, (*where, "signals"), log)
        every = _duration(
            spec.every if spec.every is not None else DEFAULT_EVERY, (*where, "every"), log
        )
        version = None if spec.version is None else _key(twin, spec.version)
        if version is not None and (
            version not in signals or version == key or version in (inputs or ())
        ):
            log.add((*where, "version"), f"'{spec.version}' is not another signal of this twin")
            continue
        if version is not None and (version in computed or version in versions):
            log.add((*where, "version"), f"'{spec.version}' is computed already, another way")
            continue
        if inputs is None or every is None:
            continue
        if every <= 0:
            log.add((*where, "every"), "the prediction period must be positive")
            continue
        made = PredictDef(model=spec.model, signals=inputs, every_ns=every, version=version)
        signals[key] = replace(signals[key], predict=made)
        versions |= {version} if version is not None else set()
    return versions


def _inputs(
    names: list[str],
    twin: str,
    key: str,
    signals: dict[str, SignalDef],
    broken: set[str],
    where: Path,
    log: ProblemLog,
) -> tuple[str, ...] | None:
    if not names:
        log.add(where, "list at least one signal")
        return None
    inputs: list[str] = []
    for n, name in enumerate(names):
        source = _key(twin, name)
        if source in broken:
            return None
        if source not in signals:
            log.add((*where, n), f"unknown signal '{name}'")
            return None
        if source == key or signals[source].predict is not None or source in inputs:
            log.add((*where, n), f"'{name}' is this or another prediction, or listed twice")
            return None
        inputs.append(source)
    return tuple(inputs)
