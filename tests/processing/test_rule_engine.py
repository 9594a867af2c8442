"""The rule engine on the live stream: each rule kind, delays, quality, batching.

Every scenario is fed through the twin first (as the pipeline does) and the engine's
condition changes are compared with the ones a reader works out from the rule by hand.
The property tests at the end compare the vectorised engine with a plain per-sample model
of threshold rules (deadband, on/off delay) over random streams cut into random batches.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plantwin.core.samples import Quality
from plantwin.model.plant import Plant, RuleDef
from plantwin.model.schema import RuleKind
from tests.processing.rig import Rig, Row, Seen, ns, press_plant, seconds

ON, OFF = True, False


def _rig(rules: str, *, instances: int = 2, start: float = 0.0) -> Rig:
    return Rig(press_plant(rules, instances=instances), start=start)


# ---------------------------------------------------------------- threshold and deadband


def test_threshold_above_with_deadband_does_not_chatter_inside_the_band() -> None:
    rig = _rig("hot: {kind: threshold, signal: temp, above: 80, deadband: 5}")
    rule = next(r for r in rig.plant.rules() if r.id == "s.m1:hot")
    assert (rule.above, rule.below, rule.deadband) == (80.0, None, 5.0)
    script: list[tuple[float, float, list[Seen]]] = [
        (0, 70.0, []),
        (1, 81.0, [Seen("s.m1:hot", 1, ON)]),
        (2, 79.0, []),  # inside the band (75, 80]: still active
        (3, 81.0, []),
        (4, 76.0, []),
        (5, 80.5, []),
        (6, 75.0, [Seen("s.m1:hot", 6, OFF)]),  # at the band's edge: clear
        (7, 79.0, []),  # inside the band while clear: no new activation
        (8, 80.0, []),  # equal to the limit is not above it
        (9, 80.1, [Seen("s.m1:hot", 9, ON)]),
    ]
    for t, value, expected in script:
        assert rig.feed([("s.m1/temp", t, value)]) == expected, f"at {t} s, value {value}"


def test_threshold_below_with_deadband() -> None:
    rig = _rig("cold: {kind: threshold, signal: temp, below: 10, deadband: 2}")
    script: list[tuple[float, float, list[Seen]]] = [
        (0, 15.0, []),
        (1, 9.9, [Seen("s.m2:cold", 1, ON)]),
        (2, 11.9, []),  # inside [10, 12)
        (3, 9.0, []),
        (4, 11.5, []),
        (5, 12.0, [Seen("s.m2:cold", 5, OFF)]),
        (6, 10.0, []),  # equal to the limit is not below it
        (7, 9.5, [Seen("s.m2:cold", 7, ON)]),
    ]
    for t, value, expected in script:
        assert rig.feed([("s.m2/temp", t, value)]) == expected, f"at {t} s, value {value}"


def test_threshold_with_both_limits_clears_only_inside_both_bands() -> None:
    rig = _rig("band: {kind: threshold, signal: temp, above: 80, below: 20, deadband: 5}")
    assert rig.feed([("s.m1/temp", 0, 85.0)]) == [Seen("s.m1:band", 0, ON)]
    assert rig.feed([("s.m1/temp", 1, 10.0)]) == []  # still violating, on the other side
    assert rig.feed([("s.m1/temp", 2, 22.0)]) == []  # inside the low band
    assert rig.feed([("s.m1/temp", 3, 50.0)]) == [Seen("s.m1:band", 3, OFF)]


def test_several_transitions_within_one_batch_come_out_in_time_order() -> None:
    rig = _rig("hot: {kind: threshold, signal: temp, above: 80}")
    rows: list[Row] = [  # deliberately not in time order: canonical() sorts them
        ("s.m1/temp", 3, 60.0),
        ("s.m1/temp", 0, 85.0),
        ("s.m1/temp", 4, 81.0),
        ("s.m1/temp", 2, 90.0),
        ("s.m1/temp", 1, 70.0),
    ]
    changes = rig.changes(rows)
    assert [Seen(c.rule.id, seconds(c.ts), c.active) for c in changes] == [
        Seen("s.m1:hot", 0, ON),
        Seen("s.m1:hot", 1, OFF),
        Seen("s.m1:hot", 2, ON),
        Seen("s.m1:hot", 3, OFF),
        Seen("s.m1:hot", 4, ON),
    ]
    assert [c.value for c in changes] == [85.0, 70.0, 90.0, 60.0, 81.0]


def test_many_instances_of_a_type_in_one_batch() -> None:
    n = 60
    rig = _rig("hot: {kind: threshold, signal: temp, above: 80, deadband: 2}", instances=n)
    rows: list[Row] = [
        (f"s.m{i}/temp", 0.01 * i, 85.0 if i % 2 == 0 else 70.0) for i in range(1, n + 1)
    ]
    first = rig.feed(rows)
    assert sorted(first) == sorted(Seen(f"s.m{i}:hot", 0.01 * i, ON) for i in range(2, n + 1, 2))
    # Everyone hot now: only the odd ones change; the even ones sit inside the band next.
    second = rig.feed([(f"s.m{i}/temp", 10 + 0.01 * i, 90.0) for i in range(1, n + 1)])
    assert sorted(second) == sorted(
        Seen(f"s.m{i}:hot", 10 + 0.01 * i, ON) for i in range(1, n + 1, 2)
    )
    third = rig.feed([(f"s.m{i}/temp", 20.0, 79.0 if i <= 30 else 77.0) for i in range(1, n + 1)])
    assert sorted(third) == sorted(Seen(f"s.m{i}:hot", 20, OFF) for i in range(31, n + 1))


def test_a_reversal_within_one_batch_is_not_lost() -> None:
    rig = _rig("hot: {kind: threshold, signal: temp, above: 10}", instances=1)
    assert rig.feed([("s.m1/temp", 1, 11.0), ("s.m1/temp", 2, 0.0)]) == [
        Seen("s.m1:hot", 1, ON),
        Seen("s.m1:hot", 2, OFF),
    ]


def test_bad_quality_samples_are_ignored() -> None:
    rig = _rig("hot: {kind: threshold, signal: temp, above: 80}")
    assert rig.feed([("s.m1/temp", 0, 95.0, int(Quality.BAD))]) == []
    assert rig.feed([("s.m1/temp", 1, 95.0, int(Quality.UNCERTAIN))]) == [Seen("s.m1:hot", 1, ON)]
    assert rig.feed([("s.m1/temp", 2, 10.0, int(Quality.BAD | Quality.STALE))]) == []
    assert rig.feed([("s.m1/temp", 3, 10.0)]) == [Seen("s.m1:hot", 3, OFF)]
    # A bad sample among good ones in one batch does not break the sequence.
    rows: list[Row] = [
        ("s.m1/temp", 4, 90.0),
        ("s.m1/temp", 5, 0.0, int(Quality.BAD)),
        ("s.m1/temp", 6, 85.0),
    ]
    assert rig.feed(rows) == [Seen("s.m1:hot", 4, ON)]


# ---------------------------------------------------------------- delays


def test_on_delay_is_cancelled_when_the_condition_clears_early() -> None:
    rig = _rig("hot: {kind: threshold, signal: temp, above: 80, on_delay: 10 s}")
    assert rig.feed([("s.m1/temp", 0, 85.0)]) == []
    assert rig.tick(5) == []
    assert rig.feed([("s.m1/temp", 6, 70.0)]) == []
    assert rig.tick(30) == []  # the timer set at 0 s must not fire at 10 s
    assert rig.feed([("s.m1/temp", 31, 90.0)]) == []
    assert rig.tick(40.9) == []
    assert rig.tick(41) == [Seen("s.m1:hot", 41, ON)]


def test_on_delay_fires_at_t_plus_delay_within_one_batch() -> None:
    rig = _rig("hot: {kind: threshold, signal: temp, above: 80, on_delay: 10 s}")
    rows: list[Row] = [("s.m1/temp", 20, 85.0), ("s.m1/temp", 25, 86.0), ("s.m1/temp", 32, 87.0)]
    changes = rig.changes(rows)
    assert [(c.rule.id, seconds(c.ts), c.active) for c in changes] == [("s.m1:hot", 30, ON)]
    assert changes[0].value == 85.0  # the sample that crossed the limit
    # Cleared and back within the batch before the delay ran out: nothing.
    rows = [("s.m1/temp", 40, 70.0), ("s.m1/temp", 41, 90.0), ("s.m1/temp", 45, 70.0)]
    assert rig.feed(rows) == [Seen("s.m1:hot", 40, OFF)]
    assert rig.tick(100) == []


def test_on_delay_fires_by_tick_or_by_its_own_signal_not_by_another_signal() -> None:
    rig = _rig("hot: {kind: threshold, signal: temp, above: 80, on_delay: 10 s}")
    assert rig.feed([("s.m1/temp", 50, 90.0)]) == []
    assert rig.tick(59.999) == []
    assert rig.tick(60) == [Seen("s.m1:hot", 60, ON)]
    assert rig.feed([("s.m1/temp", 70, 70.0)]) == [Seen("s.m1:hot", 70, OFF)]
    assert rig.feed([("s.m1/temp", 80, 90.0)]) == []
    # Another signal's sample (maybe from a connector that is ahead) does not prove temp
    # stayed hot until 90 s: the delay waits for temp's own next sample, or the tick.
    assert rig.feed([("s.m2/pressure", 95, 1.0)]) == []
    assert rig.feed([("s.m1/temp", 96, 90.0)]) == [Seen("s.m1:hot", 90, ON)]


def test_a_late_sample_of_the_rules_signal_still_cancels_its_delay() -> None:
    rig = _rig("hot: {kind: threshold, signal: temp, above: 80, on_delay: 10 s}")
    assert rig.feed([("s.m1/temp", 0, 90.0)]) == []
    assert rig.feed([("s.m2/temp", 10.5, 20.0)]) == []  # another machine, further ahead
    # temp fell at 9 s, before the delay ran out: it never counted.
    assert rig.feed([("s.m1/temp", 9, 70.0), ("s.m1/temp", 11, 70.0)]) == []
    assert rig.tick(30) == []


def test_off_delay_holds_the_condition_and_is_cancelled_when_it_returns() -> None:
    rig = _rig("hot: {kind: threshold, signal: temp, above: 80, off_delay: 10 s}")
    assert rig.feed([("s.m1/temp", 0, 85.0)]) == [Seen("s.m1:hot", 0, ON)]
    assert rig.feed([("s.m1/temp", 5, 70.0)]) == []
    assert rig.feed([("s.m1/temp", 8, 85.0)]) == []  # back before 15 s: the clear is dropped
    assert rig.tick(20) == []
    assert rig.feed([("s.m1/temp", 30, 70.0)]) == []
    assert rig.tick(39) == []
    assert rig.tick(40) == [Seen("s.m1:hot", 40, OFF)]
    assert rig.feed([("s.m1/temp", 50, 90.0)]) == [Seen("s.m1:hot", 50, ON)]
    rows: list[Row] = [("s.m1/temp", 55, 70.0), ("s.m1/temp", 70, 71.0)]
    assert rig.feed(rows) == [Seen("s.m1:hot", 65, OFF)]


def test_on_and_off_delay_together() -> None:
    rig = _rig("hot: {kind: threshold, signal: temp, above: 80, on_delay: 5 s, off_delay: 3 s}")
    rows: list[Row] = [
        ("s.m1/temp", 0, 90.0),  # raw on; active at 5
        ("s.m1/temp", 6, 70.0),  # raw off; inactive at 9
        ("s.m1/temp", 8, 90.0),  # back before 9: stays active
        ("s.m1/temp", 10, 70.0),  # raw off; inactive at 13
        ("s.m1/temp", 20, 90.0),  # raw on; would be active at 25
        ("s.m1/temp", 24, 70.0),  # ... but clears at 24
    ]
    assert rig.feed(rows) == [Seen("s.m1:hot", 5, ON), Seen("s.m1:hot", 13, OFF)]
    assert rig.tick(60) == []


# ---------------------------------------------------------------- other kinds


def test_range_rule_uses_the_declared_range() -> None:
    rig = _rig("out: {kind: range, signal: pressure}")
    rule = next(r for r in rig.plant.rules() if r.id == "s.m1:out")
    assert (rule.kind, rule.below, rule.above) == (RuleKind.RANGE, 0.0, 10.0)
    script: list[tuple[float, float, list[Seen]]] = [
        (0, 5.0, []),
        (1, 10.5, [Seen("s.m1:out", 1, ON)]),
        (2, 9.0, [Seen("s.m1:out", 2, OFF)]),
        (3, -0.5, [Seen("s.m1:out", 3, ON)]),
        (4, 0.0, [Seen("s.m1:out", 4, OFF)]),
        (5, 10.0, []),
    ]
    for t, value, expected in script:
        assert rig.feed([("s.m1/pressure", t, value)]) == expected, f"at {t} s, value {value}"


def test_rate_rule_compares_the_slope_over_its_window() -> None:
    rig = _rig("heating: {kind: rate, signal: temp, above: 6 K/min, over: 10 s}")
    rule = next(r for r in rig.plant.rules() if r.id == "s.m1:heating")
    assert rule.above == pytest.approx(0.1)  # K/s
    assert rule.over_ns == ns(10) - ns(0)
    # Flat for the first window: no change.
    assert rig.feed([("s.m1/temp", t, 20.0) for t in range(11)]) == []
    # Rising 0.5 K/s: the window that ends at 20 s sees it, not earlier.
    for t in range(11, 20):
        assert rig.feed([("s.m1/temp", t, 20.0 + 0.5 * (t - 10))]) == [], f"at {t} s"
    changes = rig.changes([("s.m1/temp", 20, 25.0)])
    assert [(c.rule.id, seconds(c.ts), c.active) for c in changes] == [("s.m1:heating", 20, ON)]
    assert changes[0].value == pytest.approx(0.5)
    # Flat again: the next full window clears it.
    assert rig.feed([("s.m1/temp", t, 25.0) for t in range(21, 30)]) == []
    assert rig.feed([("s.m1/temp", 30, 25.0)]) == [Seen("s.m1:heating", 30, OFF)]
    # Falling fast does not trip an 'above' limit.
    assert rig.feed([("s.m1/temp", 40, 5.0)]) == []


def test_deviation_absolute_against_a_reference_signal() -> None:
    rig = _rig("drift: {kind: deviation, signal: temp, reference: ref, above: 5, below: -5}")
    rule = next(r for r in rig.plant.rules() if r.id == "s.m1:drift")
    assert (rule.reference, rule.relative, rule.above, rule.below) == ("s.m1/ref", False, 5, -5)
    assert rig.feed([("s.m1/temp", 0, 99.0)]) == []  # no reference yet: nothing to compare
    assert rig.feed([("s.m1/ref", 1, 50.0)]) == []
    assert rig.feed([("s.m1/temp", 2, 56.0)]) == [Seen("s.m1:drift", 2, ON)]
    assert rig.feed([("s.m1/temp", 3, 54.0)]) == [Seen("s.m1:drift", 3, OFF)]
    assert rig.feed([("s.m1/temp", 4, 44.0)]) == [Seen("s.m1:drift", 4, ON)]
    assert rig.feed([("s.m1/ref", 5, 40.0)]) == []
    assert rig.feed([("s.m1/temp", 6, 44.0)]) == [Seen("s.m1:drift", 6, OFF)]  # 4 K above
    assert rig.feed([("s.m2/temp", 7, 44.0)]) == []  # m2 has no reference of its own


def test_deviation_relative_in_percent_of_the_reference() -> None:
    rig = _rig("drift: {kind: deviation, signal: temp, reference: ref, above: 10 %, below: -10 %}")
    rule = next(r for r in rig.plant.rules() if r.id == "s.m2:drift")
    assert (rule.relative, rule.above, rule.below, rule.unit) == (True, 10.0, -10.0, "%")
    assert rig.feed([("s.m2/ref", 0, 50.0)]) == []
    script: list[tuple[float, float, list[Seen]]] = [
        (1, 52.0, []),
        (2, 56.0, [Seen("s.m2:drift", 2, ON)]),  # +12 %
        (3, 54.0, [Seen("s.m2:drift", 3, OFF)]),  # +8 %
        (4, 44.0, [Seen("s.m2:drift", 4, ON)]),  # -12 %
        (5, 47.0, [Seen("s.m2:drift", 5, OFF)]),  # -6 %
    ]
    for t, value, expected in script:
        assert rig.feed([("s.m2/temp", t, value)]) == expected, f"at {t} s, value {value}"


def test_deviation_uses_the_reference_at_the_samples_time_within_a_batch() -> None:
    rig = _rig("drift: {kind: deviation, signal: temp, reference: ref, above: 10 %, below: -10 %}")
    assert rig.feed([("s.m1/ref", 0, 50.0), ("s.m1/temp", 0, 50.0)]) == []
    # At 1 s temp is 12 % above the reference (50); the reference moves to 60 only at 2 s.
    rows: list[Row] = [("s.m1/temp", 1, 56.0), ("s.m1/ref", 2, 60.0), ("s.m1/temp", 3, 60.0)]
    assert rig.feed(rows) == [Seen("s.m1:drift", 1, ON), Seen("s.m1:drift", 3, OFF)]


def test_stale_via_tick_and_cleared_by_a_new_sample() -> None:
    rig = _rig("quiet: {kind: stale, signal: pressure, after: 60 s}", start=0)
    assert rig.tick(30) == []
    # Never seen since start: stale 60 s after the start, for both presses.
    assert sorted(rig.tick(61)) == [Seen("s.m1:quiet", 60, ON), Seen("s.m2:quiet", 60, ON)]
    assert rig.tick(62) == []  # no repeat
    assert rig.feed([("s.m1/pressure", 70, 5.0)]) == [Seen("s.m1:quiet", 70, OFF)]
    assert rig.tick(100) == []
    assert rig.tick(130) == []  # exactly 'after' since the last sample: not yet stale
    assert rig.tick(131) == [Seen("s.m1:quiet", 130, ON)]
    assert rig.feed([("s.m1/pressure", 140, 5.0), ("s.m2/pressure", 141, 5.0)]) == [
        Seen("s.m1:quiet", 140, OFF),
        Seen("s.m2:quiet", 141, OFF),
    ]


def test_stale_with_on_delay_does_not_fire_when_data_returns_in_time() -> None:
    rig = _rig("quiet: {kind: stale, signal: pressure, after: 60 s, on_delay: 30 s}")
    rig.feed([("s.m1/pressure", 0, 5.0), ("s.m2/pressure", 0, 5.0)])
    assert rig.tick(70) == []  # stale since 60 s, delayed to 90 s
    assert rig.feed([("s.m1/pressure", 80, 5.0)]) == []
    assert rig.tick(95) == [Seen("s.m2:quiet", 90, ON)]


def test_state_rule_with_longer_than() -> None:
    rig = _rig("down_long: {kind: state, states: [down], longer_than: 10 min}")
    assert rig.feed([("s.m1/state", 0, 1)]) == []
    assert rig.feed([("s.m1/state", 10, 3)]) == []
    assert rig.tick(609) == []
    assert rig.tick(610) == [Seen("s.m1:down_long", 610, ON)]
    assert rig.feed([("s.m1/state", 700, 1)]) == [Seen("s.m1:down_long", 700, OFF)]
    # Down for 5 minutes only: nothing.
    assert rig.feed([("s.m1/state", 800, 3)]) == []
    assert rig.feed([("s.m1/state", 1100, 0)]) == []
    assert rig.tick(3000) == []


def test_state_rule_without_delay_follows_the_state_in_one_batch() -> None:
    rig = _rig("stopped: {kind: state, states: [down, maintenance]}")
    rows: list[Row] = [
        ("s.m2/state", 0, 1),
        ("s.m2/state", 1, 3),
        ("s.m2/state", 2, 4),  # down -> maintenance: still inside
        ("s.m2/state", 3, 1),
    ]
    assert rig.feed(rows) == [Seen("s.m2:stopped", 1, ON), Seen("s.m2:stopped", 3, OFF)]


EXPRESSION_RULES = """\
hot: {kind: threshold, signal: temp, above: 80, alarm: false}
high_p: {kind: threshold, signal: pressure, above: 8, alarm: false}
overload: {kind: expression, when: hot and high_p, priority: high}
either: {kind: expression, when: hot or high_p, alarm: false}
"""


def test_expression_rule_combines_two_conditions() -> None:
    rig = _rig(EXPRESSION_RULES)
    assert sorted(rig.feed([("s.m1/temp", 0, 85.0)])) == [
        Seen("s.m1:either", 0, ON),
        Seen("s.m1:hot", 0, ON),
    ]
    assert sorted(rig.feed([("s.m1/pressure", 1, 9.0)])) == [
        Seen("s.m1:high_p", 1, ON),
        Seen("s.m1:overload", 1, ON),
    ]
    assert sorted(rig.feed([("s.m1/temp", 2, 70.0)])) == [
        Seen("s.m1:hot", 2, OFF),
        Seen("s.m1:overload", 2, OFF),
    ]
    assert sorted(rig.feed([("s.m1/pressure", 3, 1.0)])) == [
        Seen("s.m1:either", 3, OFF),
        Seen("s.m1:high_p", 3, OFF),
    ]
    assert rig.feed([("s.m2/temp", 4, 70.0)]) == []


def test_expression_rule_follows_its_inputs_delays() -> None:
    rules = """\
    hot: {kind: threshold, signal: temp, above: 80, on_delay: 5 s, alarm: false}
    high_p: {kind: threshold, signal: pressure, above: 8, alarm: false}
    overload: {kind: expression, when: hot and high_p}
    """
    rig = _rig(rules)
    assert rig.feed([("s.m1/temp", 0, 85.0), ("s.m1/pressure", 1, 9.0)]) == [
        Seen("s.m1:high_p", 1, ON)
    ]
    assert sorted(rig.tick(5)) == [Seen("s.m1:hot", 5, ON), Seen("s.m1:overload", 5, ON)]


def test_negated_expression_is_active_without_waiting_for_an_input_change() -> None:
    rig = _rig(
        """\
        hot: {kind: threshold, signal: temp, above: 80, alarm: false}
        cool: {kind: expression, when: not hot}
        """,
        instances=1,
    )
    changes = rig.feed([("s.m1/temp", 1, 20.0)]) + rig.tick(100)
    assert [c.active for c in changes if c.rule == "s.m1:cool"] == [ON]


def test_expression_rule_sees_its_inputs_at_the_same_time_within_one_batch() -> None:
    rig = _rig(EXPRESSION_RULES)
    rows: list[Row] = [
        ("s.m1/pressure", 1, 9.0),  # high_p on at 1 s
        ("s.m1/pressure", 2, 5.0),  # high_p off at 2 s
        ("s.m1/temp", 3, 85.0),  # hot on at 3 s: never both at once
    ]
    changes = rig.feed(rows)
    assert [c for c in changes if c.rule == "s.m1:overload"] == []


# ---------------------------------------------------------------- property: engine vs a model


@dataclass(frozen=True)
class Limits:
    above: int | None
    below: int | None
    deadband: int
    on_delay: int
    off_delay: int

    def yaml(self, name: str, signal: str) -> str:
        parts = [f"kind: threshold, signal: {signal}, deadband: {self.deadband}"]
        if self.above is not None:
            parts.append(f"above: {self.above}")
        if self.below is not None:
            parts.append(f"below: {self.below}")
        parts.append(f"on_delay: {self.on_delay} s, off_delay: {self.off_delay} s")
        return f"{name}: {{{', '.join(parts)}}}\n"


@st.composite
def limits(draw: st.DrawFn) -> Limits:
    kind = draw(st.sampled_from(["above", "below", "both"]))
    deadband = draw(st.integers(0, 4))
    above = draw(st.integers(10, 16)) if kind != "below" else None
    below = draw(st.integers(2, 8)) if kind != "above" else None
    return Limits(
        above=above,
        below=below,
        deadband=deadband,
        on_delay=draw(st.sampled_from([0, 0, 1, 2, 3, 5])),
        off_delay=draw(st.sampled_from([0, 0, 1, 2, 4])),
    )


@dataclass(frozen=True)
class Sample:
    key: str
    t: int  # whole seconds, so samples can land exactly on a delay's end
    value: float
    bad: bool


@st.composite
def streams(draw: st.DrawFn) -> list[Sample]:
    """Samples in time order; several signals may share a timestamp, one signal never."""
    keys = ["s.m1/temp", "s.m1/pressure", "s.m2/temp", "s.m2/pressure"]
    out: list[Sample] = []
    t = 0
    for _ in range(draw(st.integers(1, 60))):
        t += draw(st.integers(0, 3))
        used = {s.key for s in out if s.t == t}
        key = draw(st.sampled_from(keys))
        if key in used:
            continue
        value = draw(st.integers(0, 20)) + draw(st.sampled_from([0.0, 0.0, 0.5]))
        out.append(Sample(key, t, value, draw(st.integers(0, 9)) == 0))
    return out


def model(rule: RuleDef, samples: list[Sample]) -> list[tuple[str, int, bool, float | None]]:
    """Per-sample reference: hysteresis on raw samples, then on/off delays in plant time.

    The raw condition turns on when a good sample is beyond a limit and off when one is
    inside both limits by at least the deadband. The active condition follows raw after the
    delay; a raw change back before the delay has run out (strictly before its end) cancels
    it. Changes carry the value of the sample that made the raw change.
    """
    out: list[tuple[str, int, bool, float | None]] = []
    raw = active = False
    pending: tuple[int, bool, float] | None = None  # due (ns), becomes, value
    for s in samples:
        if s.key != rule.signal or s.bad:
            continue
        ts = ns(s.t)
        if pending is not None and pending[0] <= ts:
            active = pending[1]
            out.append((rule.id, pending[0], active, pending[2]))
            pending = None
        above = rule.above if rule.above is not None else math.inf
        below = rule.below if rule.below is not None else -math.inf
        if not raw and (s.value > above or s.value < below):
            raw = True
        elif raw and below + rule.deadband <= s.value <= above - rule.deadband:
            raw = False
        else:
            continue
        if raw == active:
            pending = None
            continue
        delay = rule.on_delay_ns if raw else rule.off_delay_ns
        if delay == 0:
            active = raw
            out.append((rule.id, ts, active, s.value))
        else:
            pending = (ts + delay, raw, s.value)
    if pending is not None:  # the test flushes every timer at the end
        out.append((rule.id, pending[0], pending[1], pending[2]))
    return out


def _plant_for(rules: list[Limits]) -> Plant:
    text = "".join(
        lim.yaml(f"r{i}", "temp" if i % 2 == 0 else "pressure") for i, lim in enumerate(rules)
    )
    return press_plant(text, instances=2)


Change = tuple[str, int, bool, float | None]


def _engine_vs_model(rules: list[Limits], samples: list[Sample], bounds: list[int]) -> None:
    """Feed ``samples`` cut at ``bounds`` and compare every rule's changes with the model."""
    plant = _plant_for(rules)
    rig = Rig(plant)
    got: list[Change] = []
    for lo, hi in itertools.pairwise(bounds):
        rows: list[Row] = [
            (s.key, s.t, s.value, int(Quality.BAD) if s.bad else 0) for s in samples[lo:hi]
        ]
        got += [(c.rule.id, c.ts, c.active, c.value) for c in rig.changes(rows)]
    far = samples[-1].t + 3600 if samples else 3600
    got += [(c.rule.id, c.ts, c.active, c.value) for c in rig.engine.tick(ns(far), rig.twin.latest)]
    expected = [change for rule in plant.rules() for change in model(rule, samples)]
    # Per rule, in the order emitted: each rule's changes must come out in time order.
    by_rule = {r.id: [c for c in got if c[0] == r.id] for r in plant.rules()}
    want = {r.id: [c for c in expected if c[0] == r.id] for r in plant.rules()}
    assert by_rule == want


@pytest.mark.slow
@settings(max_examples=300)
@given(
    rules=st.lists(limits(), min_size=1, max_size=4),
    samples=streams(),
    cuts=st.lists(st.integers(0, 60), max_size=8),
)
def test_vectorised_engine_matches_a_per_sample_model(
    rules: list[Limits], samples: list[Sample], cuts: list[int]
) -> None:
    bounds = sorted({0, len(samples), *(c for c in cuts if c < len(samples))})
    _engine_vs_model(rules, samples, bounds)


@pytest.mark.slow
@settings(max_examples=150)
@given(
    rules=st.lists(limits(), min_size=1, max_size=4),
    samples=streams(),
    cuts=st.lists(st.integers(0, 60), max_size=8),
)
def test_engine_matches_the_model_with_one_sample_per_signal_per_batch(
    rules: list[Limits], samples: list[Sample], cuts: list[int]
) -> None:
    """The same comparison with batches that never hold two samples of one signal.

    Still many signals, rules and instances per batch and delays across batches, but no
    reversal inside a batch: this guards the rest while the bug above is open.
    """
    bounds = {0, len(samples), *(c for c in cuts if c < len(samples))}
    held: set[str] = set()
    for k, sample in enumerate(samples):
        if k in bounds:
            held = set()
        if sample.key in held:
            bounds.add(k)
            held = set()
        held.add(sample.key)
    _engine_vs_model(rules, samples, sorted(bounds))
