"""The rule engine's fast paths give the same conditions as the general ones.

Quiet bounds (skip samples where no rule can change): two engines run over the same
batches, one with the bounds, one that checks every sample (``quiet=False``, the general
path); their condition changes must be identical, value for value, while the fast one
classifies fewer (sample, rule) pairs, and the general one re-combines every expression at
every tick. Derived samples handed over apart from their batch must give what the same
samples merged into it give.
"""

from __future__ import annotations

import numpy as np
import pytest

from plantwin.core.samples import Quality, SampleBatch
from plantwin.model.plant import Plant
from plantwin.processing.deviation_table import DeviationTable, ReferenceSpan
from plantwin.processing.rules import ConditionChange, RuleEngine
from tests.processing.rig import Rig, Row, ns, press_plant

# Every analog kind, both sides, deadbands, delays; deviations absolute and relative, one
# against a reference that crosses zero (the kink of a percentage) and one against a signal
# that has limits of its own.
RULES = """\
hi: {kind: threshold, signal: temp, above: 60, deadband: 2}
lo: {kind: threshold, signal: temp, below: 20, deadband: 1, on_delay: 2 s}
band: {kind: range, signal: pressure, below: 2, above: 8, deadband: 0.5}
d_abs: {kind: deviation, signal: temp, reference: ref, above: 5, below: -5, deadband: 1}
d_up: {kind: deviation, signal: pressure, reference: ref, above: 3}
d_rel: {kind: deviation, signal: temp, reference: ref, above: 10 %, below: -10 %, deadband: 2 %}
d_rel_lo: {kind: deviation, signal: pressure, reference: temp, below: -50 %, off_delay: 1 s}
d_rel_hi: {kind: deviation, signal: ref, reference: pressure, above: 200 %, deadband: 20 %}
heat: {kind: rate, signal: temp, above: 1 K/s, over: 5 s}
quiet: {kind: stale, signal: pressure, after: 4 s}
both: {kind: expression, when: hi and d_abs}
down: {kind: state, states: [down], longer_than: 3 s}
"""
KEYS = [f"s.m{m}/{name}" for m in (1, 2, 3) for name in ("temp", "ref", "pressure", "state")]


def _rigs(plant: Plant) -> tuple[Rig, Rig]:
    fast, general = Rig(plant), Rig(plant)
    general.engine = RuleEngine(plant, general.catalog, start_ns=ns(0), quiet=False)
    assert fast.engine.quiet
    return fast, general


def _as_tuples(changes: list[ConditionChange]) -> list[tuple[str, int, bool, float | None]]:
    return [(c.rule.id, c.ts, c.active, c.value) for c in changes]


def _stream(seed: int, batches: int) -> list[list[Row]]:
    """Random walks per signal, mostly steady with jumps, some bad samples and lone spikes."""
    rng = np.random.default_rng(seed)
    level = {key: float(rng.uniform(-10, 70)) for key in KEYS}
    out: list[list[Row]] = []
    t = 0.0
    for _ in range(batches):
        rows: list[Row] = []
        for _ in range(int(rng.integers(1, 40))):
            key = KEYS[int(rng.integers(len(KEYS)))]
            t += float(rng.choice([0.0, 0.25, 0.5, 1.0]))
            if key.endswith("/state"):
                rows.append((key, t, float(rng.choice([0, 1, 1, 1, 3]))))
                continue
            step = rng.normal(0, 0.5) if rng.random() > 0.05 else rng.normal(0, 25)
            level[key] = float(np.clip(level[key] + step, -30, 90))
            quality = int(Quality.BAD) if rng.random() < 0.08 else 0
            rows.append((key, t, round(level[key], 2), quality))
        out.append(rows)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_quiet_bounds_give_the_same_changes_as_checking_every_sample(seed: int) -> None:
    fast, general = _rigs(press_plant(RULES, instances=3))
    got: list[tuple[str, int, bool, float | None]] = []
    for k, rows in enumerate(_stream(seed, 120)):
        a, b = _as_tuples(fast.changes(rows)), _as_tuples(general.changes(rows))
        assert a == b, f"seed {seed}, batch {k}"
        got += a
        if k % 10 == 9:
            at = ns(rows[-1][1] + 3)
            general.engine._settled = False  # the general path: every tick combines everything
            ta = _as_tuples(fast.engine.tick(at, fast.twin.latest))
            assert ta == _as_tuples(general.engine.tick(at, general.twin.latest))
            got += ta
    # The stream does exercise the rules, and the fast path does skip work.
    names = {line.split(":")[0] for line in RULES.splitlines()}
    assert {rule.split(":")[1] for rule, *_ in got} == names
    assert fast.engine.evaluations < general.engine.evaluations


def test_a_steady_batch_classifies_no_pair() -> None:
    steady = "\n".join(line for line in RULES.splitlines() if "pressure" not in line)
    fast, general = _rigs(press_plant(steady, instances=1))
    start: list[Row] = [("s.m1/ref", 0, 40.0), ("s.m1/temp", 0, 41.0), ("s.m1/pressure", 0, 5.0)]
    assert fast.changes(start) == general.changes(start) == []
    before = fast.engine.evaluations
    rows: list[Row] = []
    for t in range(1, 30):
        rows += [("s.m1/ref", t, 40.0 + t % 3), ("s.m1/temp", t, 41.0 - t % 2)]
        rows += [("s.m1/pressure", t, 5.0 + (t % 4) / 4)]
    assert fast.changes(rows) == []
    assert _as_tuples(general.changes(rows)) == []
    assert fast.engine.evaluations == before  # every sample inside its quiet bounds


def test_a_sample_just_past_a_deviation_limit_is_not_skipped() -> None:
    """Bounds from the batch's reference range: the extreme reference decides."""
    plant = press_plant(
        "d: {kind: deviation, signal: temp, reference: ref, above: 10 %}", instances=1
    )
    fast, general = _rigs(plant)
    rows: list[Row] = [("s.m1/ref", 0, 50.0), ("s.m1/ref", 1, 40.0), ("s.m1/ref", 2, 60.0)]
    rows += [("s.m1/temp", 1, 44.0001)]  # +10.0003 % of the reference at 1 s (40)
    a, b = fast.changes(rows), general.changes(rows)
    assert _as_tuples(a) == _as_tuples(b)
    assert [(c.rule.id, c.ts, c.active) for c in a] == [("s.m1:d", ns(1), True)]


@pytest.mark.parametrize(
    ("above", "below", "unit"),
    [(20, -30, ""), (20, -30, " %"), (150, -130, " %"), (-40, -300, " %")],
)
def test_deviation_bounds_hold_for_every_reference_in_the_span(
    above: float, below: float, unit: str
) -> None:
    """Inside the bounds, no reference value in the span makes the rule change.

    Percentages beyond 100 % make the quiet bound least at a reference of 0, not at an end
    of the span, when the span crosses 0.
    """
    plant = press_plant(
        f"d: {{kind: deviation, signal: temp, reference: ref, above: {above}{unit}, "
        f"below: {below}{unit}, deadband: 5{unit}}}",
        instances=1,
    )
    rig = Rig(plant)
    rules = rig.engine.rules
    table = DeviationTable([i for i, r in enumerate(rules) if r.reference], rules, rig.catalog)
    temp, ref = rig.catalog.id("s.m1/temp"), rig.catalog.id("s.m1/ref")
    size = rig.catalog.size
    rng = np.random.default_rng(7)
    tested = 0
    for lo_ref, hi_ref in [(10.0, 11.0), (-12.0, -10.0), (-1.0, 2.0), (-3.0, 0.5), (0.0, 0.0)]:
        span = ReferenceSpan.of(
            np.full(size, np.nan),
            np.ones(size, np.bool_),
            np.array([ref, ref], np.intp),
            np.array([lo_ref, hi_ref]),
            np.ones(2, np.bool_),
        )
        refs = np.concatenate([np.linspace(lo_ref, hi_ref, 201), [0.0] if lo_ref < 0 else []])
        refs = refs[(refs >= lo_ref) & (refs <= hi_ref)]
        for active in (False, True):
            table.refresh(np.array([active]))
            low, high = table.bounds(span, np.full(2 * size, np.inf))
            lo_x, hi_x = max(low[temp], -500.0), min(high[temp], 500.0)
            for x in rng.uniform(lo_x, hi_x, 200) if lo_x < hi_x else []:
                d = x - refs
                if unit:
                    with np.errstate(divide="ignore", invalid="ignore"):
                        d = np.where(np.abs(refs) > 1e-12, d / np.abs(refs) * 100, np.nan)
                violating, clear = table.classify(np.zeros(refs.size, np.int64), d)
                changes = clear if active else violating
                assert not changes.any(), (lo_ref, hi_ref, active, x)
                tested += 1
    assert tested >= 400  # at least two spans leave a quiet interval to test


@pytest.mark.parametrize("reads_derived", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_derived_samples_apart_give_what_they_give_merged(seed: int, reads_derived: bool) -> None:
    """The pipeline hands derived samples apart; the engine merges them only if needed."""
    rules = RULES
    if reads_derived:
        rules += "twice: {kind: threshold, signal: double, above: 100, deadband: 5}\n"
    plant = press_plant(rules, instances=3, signals="double: {unit: bar, expr: pressure * 2}")
    merged, apart = Rig(plant), Rig(plant)
    got: list[tuple[str, int, bool, float | None]] = []
    derived = 0
    for k, rows in enumerate(_stream(seed, 80)):
        batch = merged.batch(rows)
        one, two = merged.twin.apply(batch), apart.twin.apply(batch)
        derived += len(one.derived)
        both = SampleBatch.merge_disjoint(batch, one.derived)
        a = _as_tuples(merged.engine.evaluate(both, one.changes, merged.twin.latest))
        b = apart.engine.evaluate(batch, two.changes, apart.twin.latest, derived=two.derived)
        assert a == _as_tuples(b), f"seed {seed}, batch {k}"
        got += a
    assert derived > 100
    assert any(rule.endswith(":twice") for rule, *_ in got) == reads_derived
