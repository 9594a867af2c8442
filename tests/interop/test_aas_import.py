"""`import_aas` on shells written by other tools or by hand, and on bad input."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest
from basyx.aas import model
from basyx.aas.adapter import aasx
from basyx.aas.adapter.json import write_aas_json_file
from basyx.aas.model import datatypes

from plantwin.core.errors import InteropError
from plantwin.interop.aas import import_aas
from plantwin.model.plant import TwinKind

VENDOR = "https://vendor.example"


def ref(semantic_id: str) -> model.ExternalReference:
    return model.ExternalReference((model.Key(model.KeyTypes.GLOBAL_REFERENCE, semantic_id),))


def shell(name: str, submodels: list[model.Submodel]) -> model.AssetAdministrationShell:
    return model.AssetAdministrationShell(
        asset_information=model.AssetInformation(global_asset_id=f"{VENDOR}/asset/{name}"),
        id_=f"{VENDOR}/aas/{name}",
        id_short=name.replace(" ", "_"),
        display_name=model.MultiLanguageNameType({"en": name}),
        submodel={model.ModelReference.from_referable(s) for s in submodels},
    )


def pump_environment() -> list[model.Identifiable]:
    """A pump as a vendor might ship it: a nameplate and technical data, nothing else."""
    nameplate = model.Submodel(
        f"{VENDOR}/sm/pump/nameplate",
        [
            model.MultiLanguageProperty(
                "ManufacturerName",
                model.MultiLanguageTextType({"de": "Pumpen AG"}),
                semantic_id=ref("0173-1#02-AAO677#002"),
            ),
            model.MultiLanguageProperty(
                "ManufacturerProductDesignation",
                model.MultiLanguageTextType({"en": "Centrifugal pump", "de": "Kreiselpumpe"}),
            ),
            model.Property("SerialNumber", datatypes.String, "P-101-778"),
            model.Property("YearOfConstruction", datatypes.String, "2015"),
            model.SubmodelElementCollection(
                "ContactInformation", [model.Property("Street", datatypes.String, "Hauptstr. 1")]
            ),
            model.File("CompanyLogo", "image/png", "/aasx/logo.png"),
        ],
        id_short="Nameplate",
        semantic_id=ref("https://admin-shell.io/zvei/nameplate/2/0/Nameplate"),
    )
    technical = model.Submodel(
        f"{VENDOR}/sm/pump/technical",
        [
            model.SubmodelElementCollection(
                "TechnicalProperties",
                [
                    model.Property("MaxFlow", datatypes.Double, 120.5),
                    model.Property("Stages", datatypes.Int, 3),
                    model.Property("Atex", datatypes.Boolean, False),
                    model.Property("Tested", datatypes.Date, date(2015, 3, 2)),
                    model.Property("Weight", datatypes.Double),
                    model.Range("OperatingTemperature", datatypes.Double, min=-10.0, max=80.0),
                ],
            )
        ],
        id_short="TechnicalData",
        semantic_id=ref("https://admin-shell.io/ZVEI/TechnicalData/Submodel/1/2"),
    )
    return [shell("Pump P-101", [nameplate, technical]), nameplate, technical]


def test_partial_vendor_shell_imports_with_notes(tmp_path: Path) -> None:
    path = tmp_path / "pump.json"
    write_aas_json_file(path, model.DictIdentifiableStore(pump_environment()))
    result = import_aas(path)
    plant = result.plant  # loaded by plantwin: the plant file is valid
    assert [t.id for t in plant.twins.values()] == ["site", "site.Pump_P-101"]
    pump = plant.twins["site.Pump_P-101"]
    assert pump.kind is TwinKind.ASSET
    assert pump.name == "Pump P-101"
    assert dict(pump.properties) == {
        "maker": "Pumpen AG",  # the only language given
        "product_designation": "Centrifugal pump",  # English preferred
        "serial": "P-101-778",
        "year_of_construction": "2015",
        "Street": "Hauptstr. 1",
        "MaxFlow": 120.5,
        "Stages": 3,
        "Atex": False,
        "Tested": date(2015, 3, 2),
    }
    assert pump.signals == ()
    notes = "\n".join(result.notes)
    assert "no plantwin 'Plant' submodel" in notes
    assert "one site 'site'" in notes
    assert "asset 'Pump_P-101' has no signals" in notes
    assert "not imported (no plant-file equivalent): CompanyLogo (File)" in notes
    assert "TechnicalProperties.OperatingTemperature (Range)" in notes
    assert "Weight has no value" in notes
    assert result.text.startswith("# plantwin plant file imported by `plantwin import aas`")
    assert "# - no plantwin 'Plant' submodel" in result.text


# As typed by hand: a cell listing its parts (IDTA 02011), the robot, and a fence shell
# without an idShort.
HAND_WRITTEN = """{
  "assetAdministrationShells": [
    {"modelType": "AssetAdministrationShell", "id": "urn:x:aas:cell", "idShort": "Cell-7",
     "assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:x:asset:cell"},
     "submodels": [{"type": "ModelReference",
                    "keys": [{"type": "Submodel", "value": "urn:x:sm:bom"}]}]},
    {"modelType": "AssetAdministrationShell", "id": "urn:x:aas:robot", "idShort": "robot",
     "assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:x:asset:robot"}},
    {"modelType": "AssetAdministrationShell", "id": "urn:x:aas:fence",
     "assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:x:asset:fence"}}
  ],
  "submodels": [
    {"modelType": "Submodel", "id": "urn:x:sm:bom", "idShort": "BOM",
     "semanticId": {"type": "ExternalReference", "keys": [{"type": "GlobalReference",
        "value": "https://admin-shell.io/idta/HierarchicalStructures/1/0/Submodel"}]},
     "submodelElements": [
       {"modelType": "Property", "idShort": "ArcheType", "valueType": "xs:string",
        "value": "OneDown"},
       {"modelType": "Entity", "idShort": "EntryNode", "entityType": "SelfManagedEntity",
        "globalAssetId": "urn:x:asset:cell",
        "statements": [
          {"modelType": "Entity", "idShort": "Robot", "entityType": "SelfManagedEntity",
           "globalAssetId": "urn:x:asset:robot"},
          {"modelType": "Entity", "idShort": "Gripper", "entityType": "CoManagedEntity"}
        ]}
     ]}
  ]
}
"""


def test_hand_written_shells_and_part_list(tmp_path: Path) -> None:
    path = tmp_path / "cell.json"
    path.write_text(HAND_WRITTEN)
    result = import_aas(path)
    kinds = {t.id: t.kind for t in result.plant.twins.values()}
    assert kinds == {
        "site": TwinKind.SITE,
        "site.Cell-7": TwinKind.ASSET,
        "site.Cell-7.Robot": TwinKind.COMPONENT,  # its shell is read for it
        "site.Cell-7.Gripper": TwinKind.COMPONENT,  # no shell of its own
        "site.fence": TwinKind.ASSET,  # no idShort: named after its id
    }
    notes = "\n".join(result.notes)
    assert "asset 'fence' has no signals" in notes


def write_aasx_without_shells(path: Path) -> None:
    lone = model.Submodel("urn:x:sm:lone", id_short="Lone")
    with aasx.AASXWriter(path, failsafe=False) as writer:
        writer.write_all_aas_objects(
            "/aasx/data.json",
            model.DictIdentifiableStore([lone]),
            aasx.DictSupplementaryFileContainer(),  # type: ignore[no-untyped-call]
            write_json=True,
        )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.json", b"not json {", r"a\.json:1: not JSON: Expecting value \(line 1, column 1\)"),
        (
            "b.json",
            b'{"x": 1,\n "y": }',
            r"b\.json:2: not JSON: Expecting value \(line 2, column 7\)",
        ),
        ("c.json", b"\xff\xfe\x00", r"c\.json: not JSON: not UTF-8 text"),
        ("d.json", b"[1, 2]", r"d\.json: no Asset Administration Shell in the file \(0 submodel"),
        (
            "e.json",
            b'{"assetAdministrationShells": [{"modelType": "AssetAdministrationShell", '
            b'"id": "urn:x"}]}',
            r"e\.json: not a valid AAS \(metamodel V3\) JSON document: missing 'assetInformation'",
        ),
        ("f.aasx", b"PK\x03\x04 not really a zip", r"f\.aasx: not a valid AASX package"),
    ],
)
def test_bad_input_says_where_and_why(
    name: str, content: bytes, message: str, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InteropError, match=message):
        import_aas(path)


def test_aasx_without_shells_or_without_aas_data(tmp_path: Path) -> None:
    no_shells = tmp_path / "no-shells.aasx"
    write_aasx_without_shells(no_shells)
    with pytest.raises(InteropError, match=r"no-shells\.aasx: no Asset Administration Shell "):
        import_aas(no_shells)
    empty = tmp_path / "empty.aasx"
    with aasx.AASXWriter(empty):
        pass
    with pytest.raises(InteropError, match=r"empty\.aasx: not a valid AASX package: No AAS"):
        import_aas(empty)
    plain_zip = tmp_path / "plain.aasx"
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(InteropError, match=r"plain\.aasx: not a valid AASX package: .*OPC"):
        import_aas(plain_zip)
    with pytest.raises(InteropError, match=r"missing\.json: cannot read the file"):
        import_aas(tmp_path / "missing.json")


def test_rules_from_another_tool_are_read_and_odd_items_noted(tmp_path: Path) -> None:
    """A Rules submodel found by semantic id: a plain rule is read, anything else is noted."""
    signals = model.Submodel(
        f"{VENDOR}/sm/oven/signals",
        [
            model.SubmodelElementCollection(
                "temp", [model.Property("Unit", datatypes.String, "degC")]
            )
        ],
        id_short="Signals",
        semantic_id=ref("urn:plantwin:aas:1:Signals"),
    )
    rules = model.Submodel(
        f"{VENDOR}/sm/oven/rules",
        [
            model.SubmodelElementCollection(
                "too_hot",
                [
                    model.Property("Kind", datatypes.String, "threshold"),
                    model.Property("Signal", datatypes.String, "temp"),
                    model.Property("Above", datatypes.Int, 250),
                    model.Property("Priority", datatypes.String, "urgent"),  # not a priority
                ],
            ),
            model.Property("Comment", datatypes.String, "checked weekly"),
            model.SubmodelElementCollection(
                "mystery", [model.Property("Kind", datatypes.String, "fuzzy")]
            ),
        ],
        id_short="AlarmRules",
        semantic_id=ref("urn:plantwin:aas:1:Rules"),
    )
    path = tmp_path / "oven.json"
    write_aas_json_file(
        path, model.DictIdentifiableStore([shell("oven", [signals, rules]), signals, rules])
    )
    result = import_aas(path)
    (rule,) = result.plant.twins["site.oven"].rules
    assert (rule.name, rule.signal, rule.above, rule.priority.value) == (
        "too_hot",
        "site.oven/temp",
        250.0,
        "medium",
    )
    notes = "\n".join(result.notes)
    assert "Comment is not a rule collection with a Kind; left out" in notes
    assert "mystery is not a rule collection with a Kind; left out" in notes
    assert "rule 'too_hot': priority 'urgent' is not one of low, medium, high, critical" in notes
