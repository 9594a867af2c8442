"""Resolving window signals: a windowed aggregate (mean, RMS ...) of another signal of the twin."""

from __future__ import annotations

from dataclasses import replace

from plantwin.model.layers import Located
from plantwin.model.plant import SignalDef, WindowDef
from plantwin.model.problems import Path, ProblemLog
from plantwin.model.schema import SignalSpec, WindowFn
from plantwin.model.units import UnitError, duration_ns, parse_unit, symbol

# Each output sums the periods it spans: bounded so one output stays cheap.
MAX_PERIODS = 1440  # e.g. a day every minute

# Aggregates whose result is a count, not a value in the source's unit.
_COUNTING = (WindowFn.COUNT,)


def resolve_windows(
    pending: list[tuple[str, str, Located[SignalSpec]]],
    signals: dict[str, SignalDef],
    broken: set[str],
    log: ProblemLog,
    state_signals: set[str] | None = None,
) -> None:
    """Attach a :class:`WindowDef` to each window signal in ``signals`` (in place).

    ``pending`` holds (signal key, twin id, declaration) of every signal with ``window``.
    """
    windowed = {key for key, _, _ in pending}
    for key, twin, loc in pending:
        spec = loc.value.window
        assert spec is not None
        where = (*loc.path, "window")
        if loc.value.expr is not None:
            log.add(where, "a signal is computed by 'expr' or by 'window', not both")
            continue
        *twin_parts, last = spec.signal.split(".")
        source = f"{'.'.join([twin, *twin_parts])}/{last}"
        if source in broken or key not in signals:
            continue
        if source == key:
            log.add((*where, "signal"), "a window cannot aggregate the signal itself")
            continue
        if source not in signals:
            log.add((*where, "signal"), f"unknown signal '{spec.signal}'")
            continue
        # Windows are computed once per batch, after derived signals: a window of a window,
        # or a state taken from a window, would not be updated (not supported yet).
        if source in windowed:
            log.add((*where, "signal"), "a window cannot aggregate another window signal")
            continue
        if state_signals and key in state_signals:
            log.add(where, "a state signal cannot be a window signal")
            continue
        width = _duration(spec.width, (*where, "width"), log)
        every = width if spec.every is None else _duration(spec.every, (*where, "every"), log)
        if width is None or every is None:
            continue
        if every <= 0 or width <= 0:
            log.add(where, "window width and period must be longer than 0 s")
            continue
        if every > width or width % every:
            log.add(
                (*where, "every"),
                "the period must divide the window width (e.g. width 10 min, every 1 min)",
            )
            continue
        if width // every > MAX_PERIODS:
            log.add(
                (*where, "every"),
                f"a window holds at most {MAX_PERIODS} periods (width / every); "
                "make the period longer",
            )
            continue
        if not _unit_fits(spec.fn, signals[source].unit, signals[key].unit):
            wanted = (
                "a count (dimensionless)"
                if spec.fn in _COUNTING
                else (f"the source's unit '{symbol(parse_unit(signals[source].unit))}'")
            )
            log.add((*loc.path, "unit"), f"a window {spec.fn.value} signal has {wanted}")
            continue
        signals[key] = replace(
            signals[key],
            window=WindowDef(source=source, fn=spec.fn, width_ns=width, every_ns=every),
        )


def _duration(value: str | float, where: Path, log: ProblemLog) -> int | None:
    try:
        return duration_ns(value)
    except UnitError as err:
        log.add(where, str(err))
        return None


def _unit_fits(fn: WindowFn, source: str, target: str) -> bool:
    try:
        src, dst = parse_unit(source), parse_unit(target)
    except UnitError:
        return True  # reported where the unit is declared
    if fn in _COUNTING:
        return bool(dst.dimensionless)
    return bool(src == dst)
