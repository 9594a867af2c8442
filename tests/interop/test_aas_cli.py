"""`plantwin export aas` and `plantwin import aas` end to end, as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, ROOT

pytestmark = pytest.mark.integration


def plantwin(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plantwin.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
        # This checkout's source, whichever plantwin the environment has installed.
        env={"COLUMNS": "200", "PATH": "", "PYTHONPATH": str(ROOT / "src")},
    )


def test_export_import_validate(tmp_path: Path) -> None:
    exported = plantwin("export", "aas", str(EXAMPLE), cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("wrote machining-line.aasx: 17 shells, 69 submodels, "), (
        exported.stdout
    )
    assert "read back by basyx: ok" in exported.stdout
    assert (tmp_path / "machining-line.aasx").is_file()
    as_json = plantwin("export", "aas", str(EXAMPLE), "-o", "plant.json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    for source in ("machining-line.aasx", "plant.json"):
        imported = plantwin("import", "aas", source, "-o", "back.yaml", cwd=tmp_path)
        assert imported.returncode == 0, imported.stderr
        assert imported.stdout.strip() == (
            f"wrote back.yaml from {source}: 16 twins, 97 signals, 7 commands, "
            "75 bindings, 0 note(s)"
        )
        validated = plantwin("validate", "back.yaml", cwd=tmp_path)
        assert validated.returncode == 0, validated.stderr
        assert (
            "Changwon machining demo: 16 twins, 97 signals (8 derived, 3 windowed), 29 rules"
            in validated.stdout
        )


def test_import_to_stdout_with_notes_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(
        '{"assetAdministrationShells": [{"modelType": "AssetAdministrationShell", '
        '"id": "urn:x:aas:press", "idShort": "press", '
        '"assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:x:asset:press"}}]}'
    )
    result = plantwin("import", "aas", "one.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "sites:\n  site:\n" in result.stdout
    assert "      press: {}\n" in result.stdout
    assert "note: no site in the file: one site 'site'" in result.stderr
    assert "imported one.json: 2 twins, 0 signals" in result.stderr


def test_bad_input_exits_1_with_where_and_why(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text("# not JSON\n")
    result = plantwin("import", "aas", "notes.json", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: notes.json:1: not JSON: Expecting value (line 1, column 1)"
    )
    (tmp_path / "broken.yaml").write_text("plantwin: 1\nname: x\nsites: {s: {bogus: 1}}\n")
    result = plantwin("export", "aas", "broken.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "broken.yaml:3 sites.s.bogus" in result.stderr
    result = plantwin("export", "aas", str(EXAMPLE), "-o", "plant.xml", cwd=tmp_path)
    assert result.returncode == 1
    assert "plant.xml: unknown AAS file type '.xml' (use .json or .aasx)" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.yaml", "notes.json"]
