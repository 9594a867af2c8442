"""plant -> AAS -> plant keeps every twin, property, signal, unit, state, command, binding,
window, rule and notification."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from plantwin.interop.aas import export_aas, import_aas
from plantwin.model.loader import load_plant, parse_plant
from plantwin.model.plant import Plant
from tests.interop.plant_digest import differences

EDGE = Path(__file__).parent / "edge_plant.yaml"
FORMATS = [".json", ".aasx"]


@pytest.mark.parametrize("suffix", FORMATS)
def test_demo_plant_round_trip_is_exact(suffix: str, tmp_path: Path, example_plant: Plant) -> None:
    path = tmp_path / f"plant{suffix}"
    export_aas(example_plant, path)
    result = import_aas(path)
    assert result.notes == ()
    assert differences(example_plant, result.plant) == []
    # Nothing was lost on the way: the counts the validate command prints, too.
    assert len(result.plant.twins) == 16
    assert len(result.plant.signals) == 97
    assert sum(s.window is not None for s in result.plant.signals.values()) == 3
    assert sum(s.health is not None for s in result.plant.signals.values()) == 8
    assert sum(s.rul is not None for s in result.plant.signals.values()) == 2
    tool = result.plant.signals["changwon.L1.lathe1/tool_wear_health"].health
    assert tool is not None
    assert tool.healthy == (0, float("-inf"), 0.3)  # rows of tools below VB 0.3 mm
    key = "changwon.L1/scrap_probability"
    assert result.plant.signals[key].predict == example_plant.signals[key].predict
    assert len(list(result.plant.rules())) == len(list(example_plant.rules())) == 29
    assert len(result.plant.bindings) == len(example_plant.bindings) == 75
    # Types were flattened, and the twins still name the types they came from.
    assert {t.type for t in result.plant.twins.values()} == {
        t.type for t in example_plant.twins.values()
    }
    types = YAML(typ="safe").load(result.text)["types"]
    assert all(set(spec) <= {"kind", "states", "commands"} for spec in types.values())
    # Rules the types declared are written on the twins, with limits in the signal's unit.
    mill = YAML(typ="safe").load(result.text)["sites"]["changwon"]["lines"]["L1"]["assets"]
    assert mill["mill1"]["rules"]["down_long"] == {
        "kind": "state",
        "states": ["down"],
        "on_delay": 600.0,
        "priority": "high",
        "message": "{name} has been down for more than 10 minutes",
    }
    assert "address: '{line}/{asset}/cmd/{command}'" in result.text  # shared command template


@pytest.mark.parametrize("suffix", FORMATS)
def test_edge_plant_round_trip(suffix: str, tmp_path: Path) -> None:
    """Odd names, every value type, falsy limits and defaults, literal braces, scale/offset."""
    original = load_plant(EDGE)
    path = tmp_path / f"edge{suffix}"
    export_aas(original, path)
    result = import_aas(path)
    assert result.notes == ()
    back = result.plant
    # g1 and g2 share type 'gauge', but its command address 'dev/x{asset}/zero' resolves to
    # names no template can recover; the import gives g2 its own copy of the type.
    assert back.twins["s1.g2"].type == "gauge_2"
    renamed = replace(back.twins["s1.g2"], type="gauge")
    assert differences(original, replace(back, twins={**back.twins, "s1.g2": renamed})) == []
    site = back.twins["s1"].properties
    assert site["rated power"] == "1.5 MW"
    assert site["code"] == "0042"
    assert site["2020"] == "a year-looking key"
    assert site["nothing"] == ""
    (set_force, _stop) = back.twins["s1.L-1.p1"].commands
    assert [(p.name, p.low, p.default) for p in set_force.params] == [
        ("force", 0.0, 2000),
        ("hold", None, False),
        ("cycles", 1.0, 3),
    ]
    assert set_force.allowed_states == ()
    x = next(b for b in back.bindings if b.signal == "s1.L-1.p2/x")
    assert x.address == "ns=2;s={literal}.p2.X"


def test_import_and_re_export_are_fixed_points(tmp_path: Path, example_plant: Plant) -> None:
    first = tmp_path / "first.json"
    export_aas(example_plant, first)
    text = import_aas(first).text
    assert import_aas(first).text == text
    reimported = tmp_path / "again.json"
    export_aas(parse_plant(text, "again.yaml"), reimported)
    assert reimported.read_bytes() == first.read_bytes()


def test_digest_sees_every_rule_window_and_notification_field() -> None:
    """The round-trip checks above would miss a dropped field if the digest ignored it."""
    edge = load_plant(EDGE)
    twin = edge.twins["s1.L-1.p1"]
    rules = {r.name: r for r in twin.rules}
    changed = [
        replace(rules["over_force"], off_delay_ns=0),
        replace(rules["over_force"], latching=False),
        replace(rules["force_jump"], relative=False),
        replace(rules["stopped"], suppress_in=()),
        replace(rules["overload_stuck"], when=rules["over_force"].when),
    ]
    for rule in changed:
        others = tuple(rule if r.name == rule.name else r for r in twin.rules)
        twins = {**edge.twins, twin.id: replace(twin, rules=others)}
        assert differences(edge, replace(edge, twins=twins)) != [], rule
    key = "s1.L-1.p1/force_avg"
    window = edge.signals[key].window
    assert window is not None
    moved = replace(edge.signals[key], window=replace(window, every_ns=window.width_ns))
    assert differences(edge, replace(edge, signals={**edge.signals, key: moved}))
    hook = edge.notifications["ops-"]
    hooks = {**edge.notifications, "ops-": replace(hook, retries=5)}
    assert differences(edge, replace(edge, notifications=hooks)) == [
        f"notifications[ops-]: {hook!r} != {replace(hook, retries=5)!r}"
    ]
