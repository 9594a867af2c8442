"""Alarms through the ISA-18.2 life cycle (DOMAIN 2.2), first-out, floods and restart.

Each transition is driven on an :class:`AlarmBoard` (condition changes as the rule engine
reports them, operator actions as the API calls them) or through a :class:`RuleProcessor`
fed with samples, and the :class:`AlarmEvent` it yields is checked flag by flag.
"""

from __future__ import annotations

from collections import Counter

import pytest

from plantwin.core.records import AlarmEvent, AlarmState, Event, EventKind
from plantwin.model.plant import Plant, RuleDef
from plantwin.processing.alarms import (
    AlarmActionError,
    AlarmBoard,
    AlarmSettings,
    UnknownAlarmError,
    newest_per_alarm,
)
from tests.processing.rig import ProcessorRig, Row, alarm_events, ns, press_plant

RULES = """\
warn: {kind: threshold, signal: temp, above: 60, priority: low, suppress_in: [maintenance]}
hot:
  kind: threshold
  signal: temp
  above: 80
  priority: high
  suppress_in: [maintenance]
  message: "{name} at {value:.1f} {unit}, limit {limit}"
trip: {kind: threshold, signal: pressure, above: 8, priority: medium, latching: true}
hot_x: {kind: threshold, signal: temp, above: 80, alarm: false}
high_p: {kind: threshold, signal: pressure, above: 8, alarm: false}
overload: {kind: expression, when: hot_x and high_p, priority: high}
"""

A = AlarmState


@pytest.fixture(scope="module")
def plant() -> Plant:
    return press_plant(RULES, instances=3)


def _rules(plant: Plant) -> dict[str, RuleDef]:
    return {r.id: r for r in plant.rules()}


class Board:
    """An AlarmBoard with short-hands for the tests' condition changes."""

    def __init__(self, plant: Plant, settings: AlarmSettings | None = None) -> None:
        self.board = AlarmBoard(plant, settings)
        self.rules = _rules(plant)

    def on(self, alarm: str, t: float, value: float = 90.0) -> list[AlarmEvent | Event]:
        return self.board.condition(ns(t), self.rules[alarm], True, value)

    def off(self, alarm: str, t: float, value: float = 10.0) -> list[AlarmEvent | Event]:
        return self.board.condition(ns(t), self.rules[alarm], False, value)

    def state(self, alarm: str) -> AlarmState:
        return self.board.points[alarm].state


def _one(records: list[AlarmEvent | Event]) -> AlarmEvent:
    assert len(records) == 1, records
    event = records[0]
    assert isinstance(event, AlarmEvent)
    return event


def _check(
    event: AlarmEvent,
    *,
    action: str,
    previous: AlarmState,
    state: AlarmState,
    t: float,
    active: bool,
    acked: bool,
    user: str = "",
    reason: str = "",
) -> None:
    got = (event.action, event.previous, event.state, event.ts, event.active, event.acked)
    assert got == (action, previous, state, ns(t), active, acked)
    assert (event.user, event.reason) == (user, reason)


@pytest.fixture
def b(plant: Plant) -> Board:
    return Board(plant)


# ---------------------------------------------------------------- the basic cycle


def test_only_rules_with_alarm_true_are_alarms(b: Board) -> None:
    assert set(b.board.points) == {
        f"s.m{i}:{name}" for i in (1, 2, 3) for name in ("warn", "hot", "trip", "overload")
    }
    assert all(p.state is A.NORMAL and not p.visible for p in b.board.points.values())


def test_normal_unack_ack_normal(b: Board) -> None:
    event = _one(b.on("s.m1:hot", 1, 90.0))
    _check(event, action="activate", previous=A.NORMAL, state=A.UNACKNOWLEDGED, t=1,
           active=True, acked=False)  # fmt: skip
    assert (event.priority, event.twin, event.since, event.value) == ("high", "s.m1", ns(1), 90.0)
    assert event.annunciated
    assert event.first_out
    assert event.message == "m1 at 90.0 °C, limit 80"
    assert b.board.counts()["high"] == 1
    event = b.board.ack("s.m1:hot", ns(2), "kim", "on my way")
    _check(event, action="ack", previous=A.UNACKNOWLEDGED, state=A.ACKNOWLEDGED, t=2,
           active=True, acked=True, user="kim", reason="on my way")  # fmt: skip
    assert event.since == ns(1)
    assert b.board.counts()["high"] == 1  # steady indication while active
    event = _one(b.off("s.m1:hot", 3, 70.0))
    _check(event, action="clear", previous=A.ACKNOWLEDGED, state=A.NORMAL, t=3,
           active=False, acked=True)  # fmt: skip
    assert not event.latched
    assert b.board.counts()["high"] == 0


def test_unack_returns_to_normal_unacknowledged_and_ack_clears_it(b: Board) -> None:
    b.on("s.m1:warn", 1)
    event = _one(b.off("s.m1:warn", 2))
    _check(event, action="clear", previous=A.UNACKNOWLEDGED, state=A.RTN_UNACKNOWLEDGED, t=2,
           active=False, acked=False)  # fmt: skip
    assert b.board.points["s.m1:warn"].visible  # still shown until acknowledged
    event = b.board.ack("s.m1:warn", ns(3), "lee")
    _check(event, action="ack", previous=A.RTN_UNACKNOWLEDGED, state=A.NORMAL, t=3,
           active=False, acked=True, user="lee")  # fmt: skip
    assert not b.board.points["s.m1:warn"].visible


def test_rtn_unack_goes_back_to_unack_when_the_condition_returns(b: Board) -> None:
    b.on("s.m1:warn", 1)
    b.off("s.m1:warn", 2)
    event = _one(b.on("s.m1:warn", 3, 65.0))
    _check(event, action="activate", previous=A.RTN_UNACKNOWLEDGED, state=A.UNACKNOWLEDGED,
           t=3, active=True, acked=False)  # fmt: skip
    assert (event.since, event.value) == (ns(3), 65.0)


def test_repeated_condition_reports_are_not_transitions(b: Board) -> None:
    b.on("s.m1:warn", 1)
    assert b.on("s.m1:warn", 2) == []
    b.off("s.m1:warn", 3)
    assert b.off("s.m1:warn", 4) == []


# ---------------------------------------------------------------- latching


def test_latching_alarm_stays_latched_until_reset(b: Board) -> None:
    b.on("s.m1:trip", 1, 9.0)
    b.board.ack("s.m1:trip", ns(2), "kim")
    event = _one(b.off("s.m1:trip", 3, 5.0))
    _check(event, action="clear", previous=A.ACKNOWLEDGED, state=A.LATCHED, t=3,
           active=False, acked=True)  # fmt: skip
    assert event.latched
    assert b.board.points["s.m1:trip"].visible
    with pytest.raises(AlarmActionError, match="nothing to acknowledge"):
        b.board.ack("s.m1:trip", ns(4), "kim")
    event = b.board.reset("s.m1:trip", ns(5), "kim", "valve checked")
    _check(event, action="reset", previous=A.LATCHED, state=A.NORMAL, t=5,
           active=False, acked=True, user="kim", reason="valve checked")  # fmt: skip
    assert not event.latched
    with pytest.raises(AlarmActionError, match="not latched"):
        b.board.reset("s.m1:trip", ns(6), "kim")


def test_latching_alarm_cleared_before_ack_needs_ack_and_reset(b: Board) -> None:
    b.on("s.m1:trip", 1, 9.0)
    event = _one(b.off("s.m1:trip", 2, 5.0))
    assert (event.state, event.latched, event.acked) == (A.RTN_UNACKNOWLEDGED, True, False)
    event = b.board.ack("s.m1:trip", ns(3), "kim")
    assert (event.previous, event.state) == (A.RTN_UNACKNOWLEDGED, A.LATCHED)
    assert b.board.reset("s.m1:trip", ns(4), "kim").state is A.NORMAL


def test_reset_is_refused_while_the_condition_is_active(b: Board) -> None:
    with pytest.raises(AlarmActionError):
        b.board.reset("s.m1:trip", ns(0), "kim")  # normal: nothing to reset
    b.on("s.m1:trip", 1, 9.0)
    b.board.ack("s.m1:trip", ns(2), "kim")
    with pytest.raises(AlarmActionError):
        b.board.reset("s.m1:trip", ns(3), "kim")
    b.off("s.m1:trip", 4)
    b.on("s.m1:trip", 5)  # back while latched: active again, a new activation
    assert b.state("s.m1:trip") is A.UNACKNOWLEDGED
    with pytest.raises(AlarmActionError):
        b.board.reset("s.m1:trip", ns(6), "kim")
    assert b.state("s.m1:trip") is A.UNACKNOWLEDGED


def test_non_latching_alarm_cannot_be_reset(b: Board) -> None:
    b.on("s.m1:warn", 1)
    b.board.ack("s.m1:warn", ns(2), "kim")
    b.off("s.m1:warn", 3)
    with pytest.raises(AlarmActionError, match="not latched"):
        b.board.reset("s.m1:warn", ns(4), "kim")


# ---------------------------------------------------------------- shelving


def test_shelving_is_time_limited(plant: Plant) -> None:
    b = Board(plant, AlarmSettings(max_shelve_s=3600))
    for duration in (0.0, -5.0, 3600.5, 8 * 3600.0):
        with pytest.raises(AlarmActionError, match="at most 3600 s"):
            b.board.shelve("s.m1:hot", ns(0), duration, "kim")
    assert b.state("s.m1:hot") is A.NORMAL
    event = b.board.shelve("s.m1:hot", ns(0), 3600, "kim", "sensor swap")
    assert (event.state, event.shelved_until) == (A.SHELVED, ns(3600))
    assert (event.user, event.reason) == ("kim", "sensor swap")


def test_shelved_alarm_is_hidden_and_auto_unshelve_reannunciates(b: Board) -> None:
    b.on("s.m1:hot", 1)
    b.board.ack("s.m1:hot", ns(2), "kim")
    event = b.board.shelve("s.m1:hot", ns(3), 60, "kim", "known cause")
    _check(event, action="shelve", previous=A.ACKNOWLEDGED, state=A.SHELVED, t=3,
           active=True, acked=True, user="kim", reason="known cause")  # fmt: skip
    assert event.shelved_until == ns(63)
    assert not b.board.points["s.m1:hot"].visible
    assert b.board.counts()["high"] == 0
    assert b.board.tick(ns(62)) == []
    event = _one(b.board.tick(ns(63)))
    # Still active when the shelf runs out: it sounds again, unacknowledged.
    _check(event, action="unshelve", previous=A.SHELVED, state=A.UNACKNOWLEDGED, t=63,
           active=True, acked=False, reason="shelve expired")  # fmt: skip
    assert event.shelved_until is None
    assert event.annunciated
    assert b.board.counts()["high"] == 1
    assert b.board.tick(ns(100)) == []


def test_auto_unshelve_of_a_normal_alarm_returns_to_normal(b: Board) -> None:
    b.board.shelve("s.m2:warn", ns(0), 10, "kim")
    event = _one(b.board.tick(ns(10)))
    _check(event, action="unshelve", previous=A.SHELVED, state=A.NORMAL, t=10,
           active=False, acked=True, reason="shelve expired")  # fmt: skip


def test_manual_unshelve_and_condition_changes_while_shelved(b: Board) -> None:
    with pytest.raises(AlarmActionError, match="not shelved"):
        b.board.unshelve("s.m1:warn", ns(0), "kim")
    b.board.shelve("s.m1:warn", ns(0), 600, "kim")
    event = _one(b.on("s.m1:warn", 1))  # logged, but hidden
    assert (event.action, event.state, event.active) == ("activate", A.SHELVED, True)
    assert not b.board.points["s.m1:warn"].visible
    event = b.board.unshelve("s.m1:warn", ns(2), "park", "done")
    _check(event, action="unshelve", previous=A.SHELVED, state=A.UNACKNOWLEDGED, t=2,
           active=True, acked=False, user="park", reason="done")  # fmt: skip
    assert b.board.tick(ns(1000)) == []  # the shelf is gone: nothing expires later


# ---------------------------------------------------------------- out of service


def test_out_of_service_needs_a_reason_and_return_reannunciates(b: Board) -> None:
    for reason in ("", "   "):
        with pytest.raises(AlarmActionError, match="needs a reason"):
            b.board.remove_from_service("s.m1:hot", ns(0), "kim", reason)
    b.board.shelve("s.m1:hot", ns(0), 60, "kim")
    event = b.board.remove_from_service("s.m1:hot", ns(1), "kim", "permit 4711")
    _check(event, action="out_of_service", previous=A.SHELVED, state=A.OUT_OF_SERVICE, t=1,
           active=False, acked=True, user="kim", reason="permit 4711")  # fmt: skip
    assert (event.out_of_service, event.shelved_until) == (True, None)
    with pytest.raises(AlarmActionError, match="already out of service"):
        b.board.remove_from_service("s.m1:hot", ns(2), "kim", "again")
    with pytest.raises(AlarmActionError, match="out of service"):
        b.board.shelve("s.m1:hot", ns(2), 60, "kim")
    event = _one(b.on("s.m1:hot", 3))
    assert (event.state, event.active) == (A.OUT_OF_SERVICE, True)
    assert not b.board.points["s.m1:hot"].visible
    assert b.board.tick(ns(100)) == []  # the shelf was dropped with the removal
    event = b.board.return_to_service("s.m1:hot", ns(200), "kim", "repaired")
    _check(event, action="in_service", previous=A.OUT_OF_SERVICE, state=A.UNACKNOWLEDGED,
           t=200, active=True, acked=False, user="kim", reason="repaired")  # fmt: skip
    assert not event.out_of_service
    with pytest.raises(AlarmActionError, match="in service"):
        b.board.return_to_service("s.m1:hot", ns(201), "kim")


def test_return_to_service_of_a_normal_alarm_is_normal(b: Board) -> None:
    b.board.remove_from_service("s.m3:trip", ns(0), "kim", "MOC-12")
    event = b.board.return_to_service("s.m3:trip", ns(1), "kim")
    assert (event.previous, event.state) == (A.OUT_OF_SERVICE, A.NORMAL)


# ---------------------------------------------------------------- suppression by design


def test_suppression_by_machine_state_through_the_processor(plant: Plant) -> None:
    rig = ProcessorRig(plant)
    events = alarm_events(rig.feed([("s.m1/state", 0, 4)]))  # maintenance
    # warn and hot name maintenance in suppress_in; trip and overload do not.
    assert sorted((e.alarm, e.action, e.state) for e in events) == [
        ("s.m1:hot", "suppress", A.SUPPRESSED),
        ("s.m1:warn", "suppress", A.SUPPRESSED),
    ]
    assert all(e.previous is A.NORMAL and e.suppressed for e in events)
    events = alarm_events(rig.feed([("s.m1/temp", 1, 90.0)]))
    by_alarm = {e.alarm: e for e in events if e.alarm in ("s.m1:warn", "s.m1:hot")}
    assert {e.action for e in by_alarm.values()} == {"activate"}
    assert {e.state for e in by_alarm.values()} == {A.SUPPRESSED}
    board = rig.processor.board
    assert not board.points["s.m1:hot"].visible
    assert board.counts()["high"] == 0
    assert alarm_events(rig.feed([("s.m1/state", 2, 4)])) == []  # no state change
    # Maintenance over and still hot: both sound again.
    events = alarm_events(rig.feed([("s.m1/state", 3, 1)]))
    assert sorted((e.alarm, e.action, e.previous, e.state, e.suppressed) for e in events) == [
        ("s.m1:hot", "unsuppress", A.SUPPRESSED, A.UNACKNOWLEDGED, False),
        ("s.m1:warn", "unsuppress", A.SUPPRESSED, A.UNACKNOWLEDGED, False),
    ]
    assert board.counts() == {"low": 1, "medium": 0, "high": 1, "critical": 0}
    # Another machine's maintenance leaves m1 alone.
    events = alarm_events(rig.feed([("s.m2/state", 4, 4)]))
    assert {e.alarm for e in events} == {"s.m2:warn", "s.m2:hot"}


def test_suppression_of_a_normal_alarm_ends_normal(plant: Plant) -> None:
    rig = ProcessorRig(plant)
    rig.feed([("s.m2/state", 0, 4)])
    events = alarm_events(rig.feed([("s.m2/state", 1, 0)]))
    assert {(e.action, e.state) for e in events} == {("unsuppress", A.NORMAL)}


def test_activation_before_maintenance_in_one_batch_is_not_suppressed(plant: Plant) -> None:
    rig = ProcessorRig(plant)
    rows: list[Row] = [("s.m1/temp", 1, 90.0), ("s.m1/state", 5, 4)]
    events = [e for e in alarm_events(rig.feed(rows)) if e.alarm == "s.m1:hot"]
    assert [(e.action, e.ts, e.state) for e in events] == [
        ("activate", ns(1), A.UNACKNOWLEDGED),
        ("suppress", ns(5), A.SUPPRESSED),
    ]


def _hide(b: Board, how: str, alarm: str) -> None:
    if how == "shelve":
        b.board.shelve(alarm, ns(0), 600, "kim")
    elif how == "out_of_service":
        b.board.remove_from_service(alarm, ns(0), "kim", "permit 1")
    else:
        b.board.state_changed(ns(0), "s.m1", "maintenance")


def _unhide(b: Board, how: str, alarm: str) -> AlarmEvent:
    if how == "shelve":
        return b.board.unshelve(alarm, ns(10), "kim")
    if how == "out_of_service":
        return b.board.return_to_service(alarm, ns(10), "kim")
    records = b.board.state_changed(ns(10), "s.m1", "running")
    return _one([r for r in records if isinstance(r, AlarmEvent) and r.alarm == alarm])


@pytest.mark.parametrize("how", ["shelve", "out_of_service", "suppress"])
def test_alarm_that_came_and_went_while_hidden_returns_to_normal(b: Board, how: str) -> None:
    _hide(b, how, "s.m1:warn")
    b.on("s.m1:warn", 1)
    b.off("s.m1:warn", 2)
    event = _unhide(b, how, "s.m1:warn")
    assert (event.state, event.acked) == (A.NORMAL, True)
    assert not b.board.points["s.m1:warn"].visible


# ---------------------------------------------------------------- refused actions


def test_actions_not_allowed_in_the_state_raise(b: Board) -> None:
    with pytest.raises(AlarmActionError, match="normal: nothing to acknowledge"):
        b.board.ack("s.m1:warn", ns(0), "kim")
    b.on("s.m1:warn", 1)
    b.board.ack("s.m1:warn", ns(2), "kim")
    with pytest.raises(AlarmActionError, match="acknowledged: nothing to acknowledge"):
        b.board.ack("s.m1:warn", ns(3), "kim")
    with pytest.raises(AlarmActionError):
        b.board.unshelve("s.m1:warn", ns(3), "kim")
    with pytest.raises(AlarmActionError):
        b.board.return_to_service("s.m1:warn", ns(3), "kim")
    with pytest.raises(AlarmActionError):
        b.board.reset("s.m1:warn", ns(3), "kim")
    # A refused action changes nothing.
    point = b.board.points["s.m1:warn"]
    assert (point.state, point.changed) == (A.ACKNOWLEDGED, ns(2))


@pytest.mark.parametrize(
    "action",
    ["ack", "reset", "shelve", "unshelve", "remove_from_service", "return_to_service"],
)
def test_unknown_alarm_id_raises(b: Board, action: str) -> None:
    board = b.board
    calls = {
        "ack": lambda: board.ack("s.m9:warn", ns(0), "kim"),
        "reset": lambda: board.reset("s.m1:nosuch", ns(0), "kim"),
        "shelve": lambda: board.shelve("s.m1:hot_x", ns(0), 60, "kim"),  # not an alarm
        "unshelve": lambda: board.unshelve("warn", ns(0), "kim"),
        "remove_from_service": lambda: board.remove_from_service("x", ns(0), "kim", "r"),
        "return_to_service": lambda: board.return_to_service("", ns(0), "kim"),
    }
    with pytest.raises(UnknownAlarmError, match="twin id"):
        calls[action]()


def test_operator_events_reach_the_outbox_once(plant: Plant) -> None:
    rig = ProcessorRig(plant)
    rig.feed([("s.m1/temp", 0, 90.0)])
    event = rig.processor.board.ack("s.m1:hot", ns(1), "kim")
    rig.processor.submit(event)
    assert rig.processor.drain() == [event]
    assert rig.processor.drain() == []


# ---------------------------------------------------------------- first-out


def test_first_out_per_machine_group(b: Board) -> None:
    first = _one(b.on("s.m1:warn", 1))
    second = _one(b.on("s.m1:hot", 2))
    third = _one(b.on("s.m1:trip", 3))
    other = _one(b.on("s.m2:hot", 4))
    assert (first.first_out, second.first_out, third.first_out, other.first_out) == (
        True,
        False,
        False,
        True,
    )
    assert b.board.points["s.m1:warn"].first_out
    # The group calms down completely; the next activation starts a new sequence.
    for alarm in ("s.m1:warn", "s.m1:hot", "s.m1:trip"):
        b.off(alarm, 5)
    assert _one(b.on("s.m1:hot", 6)).first_out
    assert not _one(b.on("s.m1:warn", 7)).first_out


def test_first_out_through_the_processor_follows_sample_time(plant: Plant) -> None:
    rig = ProcessorRig(plant)
    rows: list[Row] = [("s.m1/temp", 2.0, 90.0), ("s.m1/pressure", 1.0, 9.0)]
    events = [e for e in alarm_events(rig.feed(rows)) if e.action == "activate"]
    assert [e.alarm for e in events if e.first_out] == ["s.m1:trip"]  # pressure came first
    assert [e.ts for e in events] == sorted(e.ts for e in events)


# ---------------------------------------------------------------- floods


def test_flood_of_the_same_fault_on_50_machines_stays_readable() -> None:
    n = 50
    plant = press_plant(RULES, instances=n)
    rig = ProcessorRig(plant)
    # The same fault everywhere within 5 s: hot and high pressure on every machine.
    rows: list[Row] = []
    for i in range(1, n + 1):
        t = 0.1 * i
        rows += [(f"s.m{i}/temp", t, 90.0), (f"s.m{i}/pressure", t, 9.0)]
    records = rig.feed(rows)
    floods = [r for r in records if isinstance(r, Event)]
    assert len(floods) == 1
    flood = floods[0]
    assert (flood.kind, flood.twin, flood.data["flood"]) == (EventKind.ALARM, "s", True)
    assert flood.data["count"] == 11  # more than 10 in 10 minutes
    activations = [e for e in alarm_events(records) if e.action == "activate"]
    # Every activation is logged: 4 alarms per machine (warn, hot, trip, overload).
    assert Counter(e.alarm.split(":")[1] for e in activations) == {
        "warn": n,
        "hot": n,
        "trip": n,
        "overload": n,
    }
    start = records.index(flood)
    before = [e for e in alarm_events(records[:start]) if e.action == "activate"]
    after = [e for e in alarm_events(records[start:]) if e.action == "activate"]
    assert len(before) == 10
    assert all(e.annunciated for e in before)
    for event in after:
        high = event.priority in ("high", "critical")
        assert event.annunciated is high, event
    assert all(e.annunciated for e in activations if e.priority == "high")
    # Exactly one first-out per machine, and it is that machine's earliest activation.
    first_outs = Counter(e.twin for e in activations if e.first_out)
    assert first_outs == {f"s.m{i}": 1 for i in range(1, n + 1)}
    board = rig.processor.board
    counts = board.counts()
    assert counts["high"] == 2 * n  # hot and overload on every machine, all shown
    assert counts["low"] + counts["medium"] == sum(1 for e in before if e.priority != "high")
    assert board.flood_since == {"s": flood.ts}
    # Still within the window: still a flood.
    assert [r for r in rig.tick(300) if isinstance(r, Event)] == []
    # Ten minutes after the last activation with nothing new, tick ends it.
    ends = [r for r in rig.tick(0.1 * n + 600.5) if isinstance(r, Event)]
    assert len(ends) == 1
    assert ends[0].data["flood"] is False
    assert ends[0].data["since"] == flood.ts
    assert board.flood_since == {}
    # A low-priority alarm after the flood is annunciated again.
    events = alarm_events(rig.feed([("s.m1/temp", 700, 50.0), ("s.m1/temp", 701, 65.0)]))
    assert [(e.alarm, e.action, e.annunciated) for e in events if e.alarm == "s.m1:warn"] == [
        ("s.m1:warn", "clear", True),
        ("s.m1:warn", "activate", True),
    ]


def test_flood_is_counted_per_site_and_needs_more_than_the_limit(plant: Plant) -> None:
    b = Board(plant, AlarmSettings(flood_count=3, flood_window_s=60))
    for i, alarm in enumerate(["s.m1:warn", "s.m2:warn", "s.m3:warn"]):
        assert all(isinstance(r, AlarmEvent) for r in b.on(alarm, i))
    records = b.on("s.m1:trip", 3)  # the fourth in a minute
    assert [type(r) for r in records] == [Event, AlarmEvent]
    assert records[1].annunciated is False  # type: ignore[union-attr]
    # Activations older than the window no longer count.
    assert b.board.tick(ns(59)) == []
    over = b.board.tick(ns(61))
    assert [r.data["flood"] for r in over if isinstance(r, Event)] == [False]


# ---------------------------------------------------------------- restart


def test_restore_reproduces_every_flag(plant: Plant) -> None:
    b = Board(plant)
    log: list[AlarmEvent] = []

    def keep(records: list[AlarmEvent | Event]) -> None:
        log.extend(r for r in records if isinstance(r, AlarmEvent))

    keep(b.on("s.m1:hot", 1, 91.0))  # unacknowledged, first-out
    keep(b.on("s.m1:warn", 1.5, 91.0))  # not first-out
    log.append(b.board.ack("s.m1:warn", ns(2), "kim"))  # acknowledged
    keep(b.on("s.m2:trip", 3, 9.5))
    keep(b.off("s.m2:trip", 4, 2.0))  # latched, unacknowledged
    keep(b.on("s.m3:warn", 5))
    log.append(b.board.shelve("s.m3:warn", ns(6), 120, "kim", "test"))  # shelved
    log.append(b.board.remove_from_service("s.m3:trip", ns(7), "kim", "permit"))
    keep(b.board.state_changed(ns(8), "s.m2", "maintenance"))  # suppressed
    fresh = AlarmBoard(plant)
    fresh.restore(newest_per_alarm(reversed(log)))
    fields = [
        "active", "acked", "latched", "shelved_until", "out_of_service", "suppressed",
        "annunciated", "first_out", "since", "value", "message", "state",
    ]  # fmt: skip
    for alarm, point in b.board.points.items():
        want = {f: getattr(point, f) for f in fields}
        assert {f: getattr(fresh.points[alarm], f) for f in fields} == want, alarm
    assert sorted(fresh.active_ids()) == sorted(b.board.active_ids())
    assert fresh.counts() == b.board.counts()
    # The restored board carries on: the shelf still runs out on time.
    events = [e for e in fresh.tick(ns(126)) if isinstance(e, AlarmEvent)]
    assert [(e.alarm, e.state) for e in events] == [("s.m3:warn", A.UNACKNOWLEDGED)]


def test_newest_per_alarm_takes_the_latest_event_in_any_order(b: Board) -> None:
    events = [
        _one(b.on("s.m1:warn", 1)),
        b.board.ack("s.m1:warn", ns(2), "kim"),
        _one(b.off("s.m1:warn", 3)),
    ]
    for order in (events, events[::-1]):
        assert [e.action for e in newest_per_alarm(order)] == ["clear"]


def _processor_events(rig: ProcessorRig, rows: list[Row]) -> list[AlarmEvent]:
    return alarm_events(rig.feed(rows))


def test_restored_active_alarm_clears_on_the_next_normal_sample(plant: Plant) -> None:
    first = ProcessorRig(plant)
    log = _processor_events(first, [("s.m1/temp", 1, 90.0), ("s.m1/pressure", 1, 9.0)])
    log.append(first.processor.board.ack("s.m1:hot", ns(2), "kim"))
    # Restart: a new processor on a new twin, resumed from the log.
    second = ProcessorRig(plant)
    second.processor.restore(log[::-1])
    assert second.processor.drain() == []  # no state rules to re-evaluate
    board = second.processor.board
    assert board.points["s.m1:hot"].state is A.ACKNOWLEDGED
    events = _processor_events(second, [("s.m1/temp", 3, 20.0)])
    # overload (hot_x and high_p) is decided by hot_x alone once temp is seen again.
    assert sorted((e.alarm, e.action, e.state) for e in events) == [
        ("s.m1:hot", "clear", A.NORMAL),
        ("s.m1:overload", "clear", A.RTN_UNACKNOWLEDGED),
        ("s.m1:warn", "clear", A.RTN_UNACKNOWLEDGED),
    ]
    # And a restored active alarm does not activate twice on an abnormal sample.
    assert _processor_events(second, [("s.m1/pressure", 4, 9.5)]) == []


def test_restored_active_expression_alarm_clears_on_the_next_normal_samples(
    plant: Plant,
) -> None:
    first = ProcessorRig(plant)
    log = _processor_events(first, [("s.m1/temp", 1, 90.0), ("s.m1/pressure", 1, 9.0)])
    assert "s.m1:overload" in {e.alarm for e in log}
    second = ProcessorRig(plant)
    second.processor.restore(log)
    events = _processor_events(second, [("s.m1/temp", 3, 20.0), ("s.m1/pressure", 3, 1.0)])
    assert ("s.m1:overload", "clear") in {(e.alarm, e.action) for e in events}


def test_restore_primes_state_rules_from_the_restored_twin() -> None:
    plant = press_plant("down: {kind: state, states: [down], priority: high}", instances=1)
    first = ProcessorRig(plant)
    log = _processor_events(first, [("s.m1/state", 1, 3)])
    assert [(e.alarm, e.action) for e in log] == [("s.m1:down", "activate")]
    # Restart while still down: the twin knows the state, the log knows the alarm.
    second = ProcessorRig(plant)
    second.twin.apply(second.batch([("s.m1/state", 1, 3)]))
    second.processor.restore(log)
    assert second.processor.drain() == []  # already active: nothing new to report
    events = _processor_events(second, [("s.m1/state", 5, 1)])
    assert [(e.alarm, e.action, e.state) for e in events] == [
        ("s.m1:down", "clear", A.RTN_UNACKNOWLEDGED)
    ]


def test_processor_tick_drives_delays_and_shelving_together(plant: Plant) -> None:
    delayed = press_plant(
        "hot: {kind: threshold, signal: temp, above: 80, on_delay: 30 s, priority: high}",
        instances=1,
    )
    rig = ProcessorRig(delayed)
    assert rig.feed([("s.m1/temp", 0, 90.0)]) == []
    assert rig.tick(29) == []
    events = alarm_events(rig.tick(30))
    assert [(e.alarm, e.action, e.ts) for e in events] == [("s.m1:hot", "activate", ns(30))]
    rig.processor.board.shelve("s.m1:hot", ns(31), 10, "kim")
    events = alarm_events(rig.tick(41))
    assert [(e.action, e.state) for e in events] == [("unshelve", A.UNACKNOWLEDGED)]


# ---------------------------------------------------------------- re-alarm, one-shot shelving


def test_an_acknowledged_alarm_still_active_sounds_again_after_its_realarm_time() -> None:
    plant = press_plant(
        "hot: {kind: threshold, signal: temp, above: 80, priority: high, realarm: 1 h}",
        instances=1,
    )
    b = Board(plant)
    b.on("s.m1:hot", 0)
    b.board.ack("s.m1:hot", ns(10), "kim")
    assert b.board.tick(ns(10 + 3599)) == []
    event = _one(b.board.tick(ns(10 + 3600)))
    _check(event, action="realarm", previous=A.ACKNOWLEDGED, state=A.UNACKNOWLEDGED,
           t=3610, active=True, acked=False, reason="still active")  # fmt: skip
    assert b.board.tick(ns(20_000)) == []  # once per acknowledgement, not on every tick
    b.board.ack("s.m1:hot", ns(20_000), "lee")
    b.off("s.m1:hot", 20_001)
    assert b.board.tick(ns(30_000)) == []  # cleared: nothing to re-alarm


def test_one_shot_shelving_ends_when_the_alarm_clears(b: Board) -> None:
    with pytest.raises(AlarmActionError, match="not active"):
        b.board.shelve("s.m1:hot", ns(0), 3600, "kim", one_shot=True)
    b.on("s.m1:hot", 1)
    b.board.shelve("s.m1:hot", ns(2), 3600, "kim", "known cause", one_shot=True)
    assert b.state("s.m1:hot") is A.SHELVED
    cleared = b.off("s.m1:hot", 5)
    assert [e.action for e in cleared if isinstance(e, AlarmEvent)] == ["clear", "unshelve"]
    _check(_one(cleared[1:]), action="unshelve", previous=A.SHELVED, state=A.NORMAL, t=5,
           active=False, acked=True, reason="one-shot: cleared")  # fmt: skip
    b.on("s.m1:hot", 6)  # the next activation sounds
    assert b.state("s.m1:hot") is A.UNACKNOWLEDGED
