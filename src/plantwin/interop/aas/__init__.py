"""The plant model as an Asset Administration Shell (IDTA AAS metamodel V3) and back.

``export_aas`` writes a plant as JSON or AASX with basyx and reads the file back with
basyx's deserializer before reporting success; ``import_aas`` reads JSON or AASX (written by
plantwin or another tool) and returns a plant file that ``plantwin validate`` accepts, with
notes on everything it had to guess or leave out. The mapping is described in docs/aas.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from plantwin.core.errors import InteropError
from plantwin.interop.aas.export_plant import plant_to_aas
from plantwin.interop.aas.files import Written, file_format, read_store, write_store
from plantwin.interop.aas.ids import Ids, default_base
from plantwin.interop.aas.plant_yaml import plant_yaml
from plantwin.interop.aas.reading import read_plant
from plantwin.model.loader import parse_plant
from plantwin.model.plant import Plant
from plantwin.model.problems import PlantFileError

__all__ = ["Imported", "Written", "export_aas", "import_aas"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Imported:
    text: str  # the plant file (YAML)
    plant: Plant  # the plant file as loaded by plantwin: proof that it is valid
    notes: tuple[str, ...]  # what was guessed or left out


def export_aas(plant: Plant, path: Path, *, id_base: str | None = None) -> Written:
    """Write ``plant`` to ``path`` (``.json`` or ``.aasx``), checked by reading it back.

    ``id_base`` prefixes every identifier (default ``urn:plantwin:<plant name>``).

    Raises:
        InteropError: the file type is unknown, the plant cannot be expressed, writing
            failed, or basyx does not read back what was written.
    """
    started = time.perf_counter()
    file_format(path)
    base = id_base if id_base is not None else default_base(plant.name)
    if not base.strip():
        msg = "the id base must not be empty"
        raise InteropError(msg)
    store = plant_to_aas(plant, Ids(base.rstrip("/")))
    return write_store(store, path, title=plant.name, started=started)


def import_aas(path: Path, *, plant_filename: str = "<imported plant>") -> Imported:
    """The plant described by the AAS JSON file or AASX package at ``path``.

    Raises:
        InteropError: the file is not JSON, not an AAS, has no shells, or (a bug or a
            very odd AAS) does not make a valid plant file; the message says where and why.
    """
    store = read_store(path)
    try:
        imported = read_plant(store, path.name)
        text = plant_yaml(imported, path.name)
    except (KeyError, TypeError, ValueError) as err:  # a shape no AAS writer should produce
        msg = f"{path}: cannot read the AAS as a plant: {err!r}"
        raise InteropError(msg) from err
    try:
        plant = parse_plant(text, plant_filename)
    except PlantFileError as err:
        msg = f"{path}: the AAS does not make a valid plant file:\n{err}"
        raise InteropError(msg) from err
    return Imported(text=text, plant=plant, notes=tuple(imported.notes))
