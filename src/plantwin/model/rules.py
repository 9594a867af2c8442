"""Resolving rules: which signal or state each condition watches, with limits in its unit.

Rules are written on a type (every twin of the type gets them) or on one twin, keyed by
name; a twin's own entry replaces its type's rule of the same name, and ``enabled: false``
removes it. Limits written as quantities ('4.5 mm/s', '1 K/min') are converted to the
signal's unit once, here, so evaluation compares plain floats.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from plantwin.model.expressions import Expression, ExpressionError, parse
from plantwin.model.layers import Located
from plantwin.model.plant import RuleDef, SignalDef
from plantwin.model.problems import Path, ProblemLog
from plantwin.model.resolve import ID_PATTERN, TwinDraft
from plantwin.model.schema import RuleKind, RuleSpec
from plantwin.model.units import UnitError, amount, duration_ns, parse_unit, percent, symbol

DEFAULT_RATE_WINDOW_NS = 60 * 1_000_000_000
MESSAGE_FIELDS = ("twin", "name", "rule", "value", "limit", "unit", "signal")

# Fields that mean something for each kind (the rest are reported when set).
_FIELDS: dict[RuleKind, frozenset[str]] = {
    RuleKind.THRESHOLD: frozenset({"signal", "above", "below", "deadband"}),
    RuleKind.RANGE: frozenset({"signal", "above", "below", "deadband"}),
    RuleKind.RATE: frozenset({"signal", "above", "below", "deadband", "over"}),
    RuleKind.DEVIATION: frozenset({"signal", "reference", "above", "below", "deadband"}),
    RuleKind.STALE: frozenset({"signal", "after"}),
    RuleKind.STATE: frozenset({"states", "longer_than"}),
    RuleKind.EXPRESSION: frozenset({"when"}),
}
_KIND_FIELDS = frozenset().union(*_FIELDS.values())


class _Pending:
    """An expression rule waiting for every rule to be known."""

    def __init__(self, rule: RuleDef, expression: Expression, path: Path) -> None:
        self.rule = rule
        self.expression = expression
        self.path = path


def resolve_rules(
    twins: Mapping[str, TwinDraft],
    signals: Mapping[str, SignalDef],
    broken: set[str],
    log: ProblemLog,
) -> dict[str, tuple[RuleDef, ...]]:
    """Rules per twin id, after logging every problem found."""
    out: dict[str, list[RuleDef]] = {twin_id: [] for twin_id in twins}
    pending: list[_Pending] = []
    failed: set[str] = set()  # rules reported broken: expressions naming them stay quiet
    for draft in twins.values():
        for name, loc in draft.effective.rules.items():
            if not loc.value.enabled:
                continue
            if not ID_PATTERN.match(name):
                log.add(
                    loc.path,
                    f"rule name '{name}' must start with a letter and use only "
                    "letters, digits, '_' and '-' (at most 64)",
                )
                continue
            checked = _RuleChecker(draft, name, loc, twins, signals, broken, log).check()
            if checked is None:
                failed.add(f"{draft.id}:{name}")
                continue
            rule, expression = checked
            if expression is not None:
                pending.append(_Pending(rule, expression, loc.path))
            else:
                out[draft.id].append(rule)
    known = {rule.id for rules in out.values() for rule in rules}
    known |= {p.rule.id for p in pending}
    resolved = _expressions(pending, known, failed, log)
    for rule in resolved:
        out[rule.twin].append(rule)
    return {twin_id: tuple(rules) for twin_id, rules in out.items()}


class _RuleChecker:
    def __init__(
        self,
        draft: TwinDraft,
        name: str,
        loc: Located[RuleSpec],
        twins: Mapping[str, TwinDraft],
        signals: Mapping[str, SignalDef],
        broken: set[str],
        log: ProblemLog,
    ) -> None:
        self.draft = draft
        self.name = name
        self.spec = loc.value
        self.path = loc.path
        self.twins = twins
        self.signals = signals
        self.broken = broken
        self.log = log
        self.ok = True

    def problem(self, field: str | None, message: str) -> None:
        self.log.add((*self.path, field) if field else self.path, message)
        self.ok = False

    def check(self) -> tuple[RuleDef, Expression | None] | None:  # noqa: PLR0912
        spec = self.spec
        allowed = _FIELDS[spec.kind]
        for field in sorted(_KIND_FIELDS - allowed):
            if getattr(spec, field) is not None:
                self.problem(field, f"'{field}' does not apply to a {spec.kind} rule")
        signal = self._signal("signal") if "signal" in allowed else None
        if "signal" in allowed and spec.signal is None:
            self.problem(None, f"a {spec.kind} rule needs 'signal'")
        if spec.signal is not None and signal is None:
            return None  # limits are in the signal's unit: nothing more can be checked
        reference = None
        if spec.kind is RuleKind.DEVIATION:
            reference = self._signal("reference")
            if spec.reference is None:
                self.problem(None, "a deviation rule needs 'reference'")
        unit = self.signals[signal].unit if signal else "dimensionless"
        above, below, relative = self._limits(signal, unit)
        deadband = self._deadband(signal, unit, above, below, relative)
        over = self._duration("over") if spec.kind is RuleKind.RATE else 0
        if spec.kind is RuleKind.RATE and spec.over is None:
            over = DEFAULT_RATE_WINDOW_NS
        if spec.kind is RuleKind.RATE and over == 0:
            self.problem("over", "a rate window must be longer than 0 s")
        after = self._duration("after")
        if spec.kind is RuleKind.STALE and after == 0:
            self.problem(
                "after" if spec.after is not None else None,
                "a stale rule needs 'after', a duration longer than 0 s",
            )
        on_delay = self._duration("on_delay")
        if spec.longer_than is not None:
            if spec.on_delay is not None:
                self.problem("longer_than", "give 'longer_than' or 'on_delay', not both")
            on_delay = self._duration("longer_than")
        off_delay = self._duration("off_delay")
        states, state_twin = self._states()
        expression = None
        if spec.kind is RuleKind.EXPRESSION:
            if spec.when is None:
                self.problem(None, "an expression rule needs 'when', e.g. 'hot and fast'")
            else:
                try:
                    expression = parse(spec.when)
                except ExpressionError as err:
                    self.problem("when", str(err))
        message = self._message()
        if not self.ok:
            return None
        display = unit
        if spec.kind is RuleKind.RATE:
            display = f"({unit})/s"
        elif relative:
            display = "percent"
        rule = RuleDef(
            id=f"{self.draft.id}:{self.name}",
            twin=self.draft.id,
            name=self.name,
            kind=spec.kind,
            description=spec.description,
            signal=signal,
            reference=reference,
            relative=relative,
            above=above,
            below=below,
            deadband=deadband,
            over_ns=over,
            after_ns=after,
            states=states,
            on_delay_ns=on_delay,
            off_delay_ns=off_delay,
            realarm_ns=self._duration("realarm"),
            priority=spec.priority,
            message=message,
            alarm=spec.alarm,
            latching=spec.latching,
            suppress_in=tuple(spec.suppress_in or ()),
            state_twin=state_twin,
            unit=_display(display),
        )
        return rule, expression

    def _signal(self, field: str) -> str | None:
        name = getattr(self.spec, field)
        if name is None:
            return None
        *twin_parts, last = name.split(".")
        key = f"{'.'.join([self.draft.id, *twin_parts])}/{last}"
        if key in self.broken:
            self.ok = False  # already reported where the signal is declared
            return None
        if key not in self.signals:
            known = ", ".join(sorted(s.rsplit("/", 1)[1] for s in self.draft.signals)) or "none"
            self.problem(field, f"unknown signal '{name}' (signals of this twin: {known})")
            return None
        return key

    def _limits(self, signal: str | None, unit: str) -> tuple[float | None, float | None, bool]:
        spec = self.spec
        if spec.kind not in (RuleKind.THRESHOLD, RuleKind.RANGE, RuleKind.RATE, RuleKind.DEVIATION):
            return None, None, False
        raw = {"above": spec.above, "below": spec.below}
        relative = {k: percent(v) is not None for k, v in raw.items() if v is not None}
        is_relative = spec.kind is RuleKind.DEVIATION and any(relative.values())
        if is_relative and not all(relative.values()):
            self.problem(None, "give both limits in percent of the reference, or neither")
        values: dict[str, float | None] = {}
        for field, value in raw.items():
            values[field] = None
            if value is None:
                continue
            if is_relative:
                values[field] = percent(value)
                continue
            try:
                values[field] = amount(
                    value,
                    unit,
                    difference=spec.kind is RuleKind.DEVIATION,
                    per_second=spec.kind is RuleKind.RATE,
                )
            except UnitError as err:
                self.problem(field, str(err))
        above, below = values["above"], values["below"]
        if spec.kind is RuleKind.RANGE and signal is not None:
            declared = self.signals[signal]
            above = declared.high if above is None and spec.above is None else above
            below = declared.low if below is None and spec.below is None else below
        if above is None and below is None and spec.above is None and spec.below is None:
            extra = " (or declare the signal's range)" if spec.kind is RuleKind.RANGE else ""
            self.problem(None, f"a {spec.kind} rule needs 'above' or 'below'{extra}")
        if above is not None and below is not None and not below < above:
            self.problem(None, f"'below' ({below:g}) must be less than 'above' ({above:g})")
        return above, below, is_relative

    def _deadband(
        self,
        signal: str | None,
        unit: str,
        above: float | None,
        below: float | None,
        relative: bool,
    ) -> float:
        value = self.spec.deadband
        if value is None:
            return 0.0
        share = percent(value)
        if share is not None and self.spec.kind is RuleKind.RATE:
            self.problem("deadband", "a rate rule's deadband is a rate, e.g. '0.1 K/min'")
            return 0.0
        if share is None and relative:
            self.problem(
                "deadband",
                "limits in percent of the reference take a deadband in percent too, e.g. '1 %'",
            )
            return 0.0
        if share is not None and not relative:
            declared = self.signals[signal] if signal else None
            if declared and declared.low is not None and declared.high is not None:
                base = declared.high - declared.low  # EEMUA 191: percent of the span
            else:
                base = max(abs(above or 0.0), abs(below or 0.0))
            result = share / 100 * base
        elif share is not None:
            result = share
        else:
            try:
                result = amount(
                    value, unit, difference=True, per_second=self.spec.kind is RuleKind.RATE
                )
            except UnitError as err:
                self.problem("deadband", str(err))
                return 0.0
        if result < 0:
            self.problem("deadband", "a deadband cannot be negative")
        return result

    def _duration(self, field: str) -> int:
        value = getattr(self.spec, field)
        if value is None:
            return 0
        try:
            return duration_ns(value)
        except UnitError as err:
            self.problem(field, str(err))
            return 0

    def _states(self) -> tuple[tuple[str, ...], str | None]:
        """The state names a state rule watches, and the twin whose states drive it."""
        spec = self.spec
        owner = self._state_owner()
        names = {s.name for s in owner.states.states} if owner and owner.states else set()
        for field in ("states", "suppress_in"):
            for state in getattr(spec, field) or ():
                if state not in names:
                    shown = ", ".join(sorted(names)) or "no twin above has a state model"
                    self.problem(field, f"unknown state '{state}' ({shown})")
        if spec.kind is RuleKind.STATE and not spec.states:
            self.problem(None, "a state rule needs 'states', e.g. [down]")
        return tuple(spec.states or ()), owner.id if owner else None

    def _state_owner(self) -> TwinDraft | None:
        """The twin itself if it has states, else its nearest ancestor that has."""
        current: TwinDraft | None = self.draft
        while current is not None:
            if current.states is not None:
                return current
            current = self.twins.get(current.parent) if current.parent else None
        return None

    def _message(self) -> str:
        text = self.spec.message
        if text is None:
            return ""
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError as err:
            self.problem("message", f"bad message template: {err}")
            return ""
        for field in fields:
            if field not in MESSAGE_FIELDS:
                self.problem(
                    "message",
                    f"unknown placeholder '{{{field}}}' (use "
                    + ", ".join(f"{{{f}}}" for f in MESSAGE_FIELDS)
                    + ")",
                )
        return text


def _display(unit: str) -> str:
    try:
        return symbol(parse_unit(unit))
    except UnitError:
        return unit


def _expressions(
    pending: list[_Pending], known: set[str], failed: set[str], log: ProblemLog
) -> list[RuleDef]:
    """Expression rules with their names resolved, in an order where inputs come first."""
    from dataclasses import replace  # noqa: PLC0415 - local to keep the module's imports short

    by_id: dict[str, tuple[RuleDef, Path]] = {}
    for item in pending:
        inputs: dict[str, str] = {}
        ok = True
        for name in item.expression.names:
            *twin_parts, last = name.split(".")
            rule_id = f"{'.'.join([item.rule.twin, *twin_parts])}:{last}"
            if rule_id in failed:
                ok = False
            elif rule_id == item.rule.id:
                log.add((*item.path, "when"), f"'{name}' refers to the rule itself")
                ok = False
            elif rule_id not in known:
                log.add(
                    (*item.path, "when"),
                    f"unknown rule '{name}' (name rules of this twin or 'component.rule')",
                )
                ok = False
            inputs[name] = rule_id
        if ok:
            rule = replace(item.rule, when=item.expression, inputs=inputs)
            by_id[rule.id] = (rule, item.path)
    ordered: list[RuleDef] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(rule_id: str) -> bool:
        if rule_id in done or rule_id not in by_id:
            return True
        rule, path = by_id[rule_id]
        if rule_id in visiting:
            log.add((*path, "when"), f"rule '{rule.name}' depends on itself through 'when'")
            return False
        visiting.add(rule_id)
        ok = all(visit(dep) for dep in rule.inputs.values())
        visiting.discard(rule_id)
        if ok:
            done.add(rule_id)
            ordered.append(rule)
        return ok

    for rule_id in by_id:
        visit(rule_id)
    return ordered
