"""`export_aas`: what the demo plant looks like as an AAS, read with basyx independently."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from basyx.aas import model
from basyx.aas.adapter import aasx
from basyx.aas.adapter.json import read_aas_json_file

from plantwin.core.errors import InteropError
from plantwin.interop.aas import export_aas
from plantwin.interop.aas import vocabulary as v
from plantwin.model.loader import load_plant, parse_plant
from plantwin.model.plant import Plant

BASE = "urn:plantwin:changwon-machining-demo"
Store = model.DictIdentifiableStore[model.Identifiable]


def read(path: Path) -> Store:
    """The file as basyx reads it, strictly (no skipped objects)."""
    if path.suffix == ".json":
        return read_aas_json_file(path, failsafe=False)
    store: Store = model.DictIdentifiableStore()
    with aasx.AASXReader(path, failsafe=False) as reader:
        files = aasx.DictSupplementaryFileContainer()  # type: ignore[no-untyped-call]
        reader.read_into(store, files)
    return store


@pytest.fixture(scope="module", params=[".json", ".aasx"])
def exported(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, example_plant: Plant
) -> Store:
    path = tmp_path_factory.mktemp("aas") / f"plant{request.param}"
    written = export_aas(example_plant, path)
    assert written.path == path
    assert written.size == path.stat().st_size > 0
    return read(path)


def submodel(store: Store, twin: str, name: str) -> model.Submodel:
    found = store.get_item(f"{BASE}/sm/{twin}/{name}")
    assert isinstance(found, model.Submodel)
    return found


def items(node: object) -> list[model.SubmodelElement]:
    if isinstance(node, model.Submodel):
        return list(node.submodel_element)
    if isinstance(node, model.Entity):
        return list(node.statement)
    assert isinstance(node, model.SubmodelElementCollection)
    return list(node.value)


def element(parent: object, *path: str) -> model.SubmodelElement:
    node = parent
    for id_short in path:
        node = next(i for i in items(node) if i.id_short == id_short)
    assert isinstance(node, model.SubmodelElement)
    return node


def value(parent: object, *path: str) -> object:
    found = element(parent, *path)
    assert isinstance(found, model.Property)
    return found.value


def test_one_shell_per_twin_plus_the_plant(exported: Store, example_plant: Plant) -> None:
    shells = [o for o in exported if isinstance(o, model.AssetAdministrationShell)]
    assert len(shells) == len(example_plant.twins) + 1
    by_id = {s.id: s for s in shells}
    mill = by_id[f"{BASE}/aas/changwon.L1.mill1"]
    assert mill.asset_information.global_asset_id == f"{BASE}/asset/changwon.L1.mill1"
    assert mill.asset_information.asset_kind is model.AssetKind.INSTANCE
    assert mill.asset_information.asset_type == f"{BASE}/type/cnc_machine"
    assert mill.display_name is not None
    assert mill.display_name["en"] == "CNC mill 1"
    refs = {str(r.key[0].value) for r in mill.submodel}
    names = ["Nameplate", "Properties", "Signals", "States", "Commands", "Bindings", "Rules"]
    assert refs == {f"{BASE}/sm/changwon.L1.mill1/{n}" for n in names}


def test_nameplate_uses_the_idta_template_and_eclass_ids(exported: Store) -> None:
    nameplate = submodel(exported, "changwon.L1.lathe1", "Nameplate")
    assert nameplate.semantic_id is not None
    assert nameplate.semantic_id.key[0].value == v.NAMEPLATE_SUBMODEL
    maker = element(nameplate, "ManufacturerName")
    assert isinstance(maker, model.MultiLanguageProperty)
    assert maker.value is not None
    assert maker.value["en"] == "Hyundai WIA"
    assert maker.semantic_id is not None
    assert maker.semantic_id.key[0].value == "0173-1#02-AAO677#002"
    assert value(nameplate, "SerialNumber") == "L21-11408"
    others = submodel(exported, "changwon.L1.lathe1", "Properties")
    assert str(value(others, "install_date")) == "2020-09-14"  # xs:date
    spindle = submodel(exported, "changwon.L1.lathe1.spindle", "Properties")
    assert value(spindle, "rated_power") == "15 kW"  # the instance's override


def test_signal_collection_carries_unit_range_rate_and_iec61360(exported: Store) -> None:
    signals = submodel(exported, "changwon.L1.mill1.spindle", "Signals")
    vib = element(signals, "vibration")
    assert isinstance(vib, model.SubmodelElementCollection)
    assert vib.description is not None
    assert vib.description["en"].startswith("Broadband velocity RMS")
    assert value(vib, "Unit") == "mm/s"
    span = element(vib, "Range")
    assert isinstance(span, model.Range)
    assert (span.min, span.max) == (0.0, 20.0)
    assert value(vib, "Rate") == 1.0
    assert value(vib, "Counter") is False
    reading = element(vib, "Value")
    assert isinstance(reading, model.Property)
    assert reading.value_type is float
    iec = reading.embedded_data_specifications[0].data_specification_content
    assert isinstance(iec, model.DataSpecificationIEC61360)
    assert (iec.unit, iec.data_type) == ("mm/s", model.DataTypeIEC61360.REAL_MEASURE)
    assert value(signals, "load", "Expression") == "power / rated_power"
    parts = element(submodel(exported, "changwon.L1.mill1.tool", "Signals"), "parts", "Value")
    assert isinstance(parts, model.Property)
    assert parts.value_type is int


def test_states_commands_and_bindings(exported: Store) -> None:
    states = submodel(exported, "changwon.L1.mill1", "States")
    assert value(states, "StateSignal") == "state"
    codes = {e.id_short: value(e, "Code") for e in items(element(states, "States"))}
    assert codes == {"idle": 0, "running": 1, "setup": 2, "down": 3, "maintenance": 4}
    assert value(states, "States", "down", "Category") == "fault"
    op = element(submodel(exported, "changwon.compressor1", "Commands"), "set_pressure")
    assert isinstance(op, model.Operation)
    quals = {q.type: q.value for q in op.qualifier}
    assert quals["Critical"] == "true"
    (pressure,) = op.input_variable
    assert pressure.id_short == "pressure"
    assert {q.type: q.value for q in pressure.qualifier} == {
        "Unit": "bar",
        "Min": "6.0",
        "Max": "7.5",
    }
    bindings = submodel(exported, "changwon.L1.washer1", "Bindings")
    assert value(bindings, "Signals", "tank_temp", "Address") == "L1/washer1/tank_temp_x10"
    assert value(bindings, "Signals", "tank_temp", "Scale") == 0.1
    assert [e.id_short for e in items(bindings)] == ["Signals"]  # the washer has no commands
    compressor = submodel(exported, "changwon.compressor1", "Bindings")
    assert value(compressor, "Commands", "set_pressure", "SourceUnit") == "psi"


def test_rules_and_windows(exported: Store) -> None:
    rules = submodel(exported, "changwon.L1.mill1.spindle", "Rules")
    assert rules.semantic_id is not None
    assert rules.semantic_id.key[0].value == v.RULES_SUBMODEL
    high = element(rules, "vibration_high")
    assert isinstance(high, model.SubmodelElementCollection)
    assert high.semantic_id is not None
    assert high.semantic_id.key[0].value == v.RULE
    fields = {e.id_short: e.value for e in items(high) if isinstance(e, model.Property)}
    assert fields == {
        "Kind": "threshold",
        "Signal": "vibration",
        "Above": 4.5,
        "Deadband": 0.4,  # 2 % of the 0-20 mm/s span, resolved
        "Unit": "mm/s",
        "OnDelay": 10.0,
        "OffDelay": 0.0,
        "Priority": "high",
        "Message": "Spindle vibration {value:.1f} mm/s above {limit} mm/s (zone D): "
        "plan a bearing change",
        "Alarm": True,
        "Latching": False,
        "SuppressIn": '["maintenance"]',
    }
    assert value(rules, "bearing_heating", "Over") == 300.0
    compressor = submodel(exported, "changwon.compressor1", "Rules")
    assert value(compressor, "inefficient", "When") == "loaded and specific_power_high"
    assert value(compressor, "inefficient", "OnDelay") == 120.0
    assert value(compressor, "loaded", "States") == '["loaded"]'
    signals = submodel(exported, "changwon.L1.mill1.spindle", "Signals")
    window = element(signals, "vibration_10m", "Window")
    assert window.semantic_id is not None
    assert window.semantic_id.key[0].value == v.WINDOW
    assert [(e.id_short, value(window, str(e.id_short))) for e in items(window)] == [
        ("Signal", "vibration"),
        ("Function", "mean"),
        ("Width", 600.0),
        ("Every", 60.0),
    ]


def test_notifications_and_windows_over_components(tmp_path: Path) -> None:
    path = tmp_path / "edge.json"
    export_aas(load_plant(Path(__file__).parent / "edge_plant.yaml"), path)
    edge = read(path)
    plant = edge.get_item("urn:plantwin:edge-plant/sm/Plant")
    hooks = element(plant, "Notifications")
    ops = items(hooks)[0]
    assert ops.id_short == "ops"  # 'ops-' is no valid idShort: the name is a qualifier
    assert isinstance(ops, model.SubmodelElementCollection)
    assert [(q.type, q.value) for q in ops.qualifier] == [("plantwin:name", "ops-")]
    assert value(ops, "Retries") == 0
    assert value(ops, "MinPriority") == "critical"
    signals = edge.get_item("urn:plantwin:edge-plant/sm/s1.L-1.p1/Signals")
    moves = element(signals, "moves", "Window")
    assert value(moves, "Signal") == "valve1.position"


def test_hierarchy_submodel_is_the_twin_tree(exported: Store, example_plant: Plant) -> None:
    tree = exported.get_item(f"{BASE}/sm/HierarchicalStructures")
    assert isinstance(tree, model.Submodel)
    assert tree.semantic_id is not None
    assert tree.semantic_id.key[0].value == v.HIERARCHY_SUBMODEL
    assert value(tree, "ArcheType") == "Full"
    shells = {
        o.asset_information.global_asset_id
        for o in exported
        if isinstance(o, model.AssetAdministrationShell)
    }
    found: dict[str, str] = {}
    has_part = 0

    def walk(entity: model.Entity, prefix: str) -> None:
        nonlocal has_part
        for item in entity.statement:
            if isinstance(item, model.RelationshipElement):
                has_part += 1
            if not isinstance(item, model.Entity):
                continue
            twin_id = f"{prefix}.{item.id_short}" if prefix else str(item.id_short)
            assert item.global_asset_id in shells  # every node has its own shell
            found[twin_id] = str(value(item, "TwinKind"))
            walk(item, twin_id)

    entry = element(tree, "EntryNode")
    assert isinstance(entry, model.Entity)
    walk(entry, "")
    assert found == {t.id: t.kind.value for t in example_plant.twins.values()}
    assert has_part == len(example_plant.twins)
    assert value(tree, "EntryNode", "changwon", "TimeZone") == "Asia/Seoul"
    assert value(tree, "EntryNode", "changwon", "L1", "mill1", "Position", "X") == 4.0


def test_re_export_is_byte_identical_and_ids_follow_the_base(
    tmp_path: Path, example_plant: Plant
) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    export_aas(example_plant, first)
    export_aas(example_plant, second)
    assert first.read_bytes() == second.read_bytes()
    packages = [tmp_path / "a.aasx", tmp_path / "b.aasx"]
    for package in packages:
        export_aas(example_plant, package)
    with zipfile.ZipFile(packages[0]) as one, zipfile.ZipFile(packages[1]) as two:
        assert one.namelist() == two.namelist()
        assert all(one.read(name) == two.read(name) for name in one.namelist())
    package = tmp_path / "c.aasx"
    export_aas(example_plant, package, id_base="https://acme.example/twins/")
    ids = {o.id for o in read(package)}
    assert "https://acme.example/twins/aas/changwon.L1.mill1" in ids
    assert {o.id.replace(f"{BASE}/", "") for o in read(first)} == {
        i.replace("https://acme.example/twins/", "") for i in ids
    }


def test_unknown_file_type_and_unwritable_place_are_errors(
    tmp_path: Path, example_plant: Plant
) -> None:
    with pytest.raises(InteropError, match=r"plant\.xml: unknown AAS file type '\.xml'"):
        export_aas(example_plant, tmp_path / "plant.xml")
    with pytest.raises(InteropError, match="cannot write the file"):
        export_aas(example_plant, tmp_path / "missing" / "plant.json")
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


def test_texts_beyond_aas_limits_are_errors_naming_the_twin(tmp_path: Path) -> None:
    long_text = "x" * 1100  # AAS descriptions hold at most 1023 characters
    plant = parse_plant(
        f"plantwin: 1\nname: p\nsites: {{s1: {{lines: {{L1: {{description: {long_text}}}}}}}}}\n"
    )
    with pytest.raises(InteropError, match=r"^twin s1\.L1: cannot be written as an AAS: "):
        export_aas(plant, tmp_path / "p.json")
    assert list(tmp_path.iterdir()) == []
