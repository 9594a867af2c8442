"""AAS files: JSON and AASX, written, then read back by basyx before they count as written.

Errors name the file and say why: not JSON (with line and column), not an AAS document (basyx's
reason), not an AASX package, or an AASX package without AAS data.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from basyx.aas import model
from basyx.aas.adapter import aasx
from basyx.aas.adapter.json import AASToJsonEncoder, read_aas_json_file, write_aas_json_file

# pyecma376_2 (basyx's OPC package library) and basyx's file container have no annotations.
from pyecma376_2.core_properties import OPCCoreProperties

from plantwin.core.errors import InteropError

Store = model.DictIdentifiableStore[model.Identifiable]
FORMATS = (".json", ".aasx")
# What basyx raises on a document it cannot turn into AAS objects (strict mode).
_BASYX_ERRORS = (KeyError, TypeError, ValueError, SyntaxError, model.AASConstraintViolation)


@dataclass(frozen=True, slots=True, kw_only=True)
class Written:
    path: Path
    shells: int
    submodels: int
    size: int  # bytes
    seconds: float  # building, writing and reading back


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        msg = f"{path}: unknown AAS file type '{suffix}' (use .json or .aasx)"
        raise InteropError(msg)
    return suffix


def write_store(store: Store, path: Path, *, title: str, started: float) -> Written:
    """Write ``store`` to ``path`` (JSON or AASX by suffix) and check it by reading it back.

    The file is written beside ``path`` first and moved into place only when basyx reads
    back exactly the objects that were written, so a failed check leaves no half file.
    """
    suffix = file_format(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if suffix == ".json":
            write_aas_json_file(partial, store, indent=1)
        else:
            _write_aasx(store, partial, title)
        back = read_store(partial)
        _check_same(store, back, path)
        size = partial.stat().st_size
        os.replace(partial, path)
    except OSError as err:
        msg = f"{path}: cannot write the file: {err}"
        raise InteropError(msg) from err
    finally:
        partial.unlink(missing_ok=True)
    shells = sum(1 for o in store if isinstance(o, model.AssetAdministrationShell))
    submodels = sum(1 for o in store if isinstance(o, model.Submodel))
    return Written(
        path=path,
        shells=shells,
        submodels=submodels,
        size=size,
        seconds=time.perf_counter() - started,
    )


def _write_aasx(store: Store, path: Path, title: str) -> None:
    shell_ids = [o.id for o in store if isinstance(o, model.AssetAdministrationShell)]
    with aasx.AASXWriter(path, failsafe=False) as writer:
        # XML inside the package: the serialisation every AASX tool reads.
        writer.write_aas(shell_ids, store, _no_files())
        meta = OPCCoreProperties()  # type: ignore[no-untyped-call]
        meta.creator = "plantwin"
        meta.title = title
        writer.write_core_properties(meta)


def read_store(path: Path) -> Store:
    """Every AAS object in a JSON file or AASX package, parsed strictly by basyx."""
    try:
        with path.open("rb") as handle:
            is_zip = handle.read(4) == b"PK\x03\x04"
    except OSError as err:
        msg = f"{path}: cannot read the file: {err}"
        raise InteropError(msg) from err
    if is_zip or path.suffix.lower() == ".aasx":
        return _read_aasx(path)
    return _read_json(path)


def _read_json(path: Path) -> Store:
    try:
        return read_aas_json_file(path, failsafe=False)
    except UnicodeDecodeError as err:
        msg = f"{path}: not JSON: not UTF-8 text ({err.reason} at byte {err.start})"
        raise InteropError(msg) from err
    except json.JSONDecodeError as err:
        msg = f"{path}:{err.lineno}: not JSON: {err.msg} (line {err.lineno}, column {err.colno})"
        raise InteropError(msg) from err
    except _BASYX_ERRORS as err:
        msg = f"{path}: not a valid AAS (metamodel V3) JSON document: {_reason(err)}"
        raise InteropError(msg) from err


def _read_aasx(path: Path) -> Store:
    store: Store = model.DictIdentifiableStore()
    try:
        with aasx.AASXReader(path, failsafe=False) as reader:
            reader.read_into(store, _no_files())
    except _BASYX_ERRORS as err:
        msg = f"{path}: not a valid AASX package: {_reason(err)}"
        raise InteropError(msg) from err
    return store


def _no_files() -> aasx.DictSupplementaryFileContainer:
    """plantwin writes no supplementary files (documents, images), and reads none."""
    return aasx.DictSupplementaryFileContainer()  # type: ignore[no-untyped-call]


def _reason(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    cause = err.__cause__
    if isinstance(cause, KeyError):  # basyx's way of saying a required field is absent
        return f"missing {cause}: {text}"
    if cause is not None and str(cause) and str(cause) not in text:
        text += f" ({cause})"
    return text


def _check_same(written: Store, back: Store, path: Path) -> None:
    expected, found = _canonical(written), _canonical(back)
    missing = sorted(set(expected) - set(found))
    changed = sorted(k for k in expected.keys() & found.keys() if expected[k] != found[k])
    if missing or changed:
        what = ", ".join([*(f"missing {k}" for k in missing), *(f"changed {k}" for k in changed)])
        msg = f"{path}: reading the written file back with basyx does not give the model: {what}"
        raise InteropError(msg)


def _canonical(store: Store) -> dict[str, str]:
    """Each object as sorted JSON; a shell's submodel references are a set, so sorted too."""
    out: dict[str, str] = {}
    for obj in store:
        data = json.loads(json.dumps(obj, cls=AASToJsonEncoder))
        if isinstance(data.get("submodels"), list):
            data["submodels"].sort(key=lambda ref: json.dumps(ref, sort_keys=True))
        out[obj.id] = json.dumps(data, sort_keys=True)
    return out
