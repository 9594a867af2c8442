"""What an FMU declares, read from its modelDescription.xml with the standard library.

The plant file is checked against this when it is loaded (variable names, causality, units,
FMI version, co-simulation), without the simulation driver: the model layer stays free of
FMPy, and a wrong binding is a load error with file and line rather than a failure at run time.
"""

from __future__ import annotations

import platform
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

# FMI 2.0 <Real>, FMI 3.0 <Float64>: the variable types plantwin binds to signals.
_REAL_TAGS = ("Real", "Float64")
_FMI3_TAGS = (
    "Float64",
    "Float32",
    "Int8",
    "UInt8",
    "Int16",
    "UInt16",
    "Int32",
    "UInt32",
    "Int64",
    "UInt64",
    "Boolean",
    "String",
    "Binary",
    "Clock",
    "Enumeration",
)


class FmuDescriptionError(ValueError):
    """The file is not an FMU plantwin can step, with the reason."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FmuVariable:
    name: str
    value_reference: int
    causality: str  # parameter, input, output, local, ...
    variability: str
    real: bool  # Real (FMI 2) or Float64/Float32 (FMI 3)
    unit: str | None
    start: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FmuDescription:
    fmi_version: str  # "2.0" or "3.0"
    model_name: str
    model_identifier: str  # co-simulation interface
    token: str  # FMI 2 guid, FMI 3 instantiationToken
    variables: dict[str, FmuVariable]
    binary: bool  # a shared library for this platform is in the file
    sources: bool  # C sources are in the file (a source FMU)

    @property
    def major(self) -> int:
        return int(self.fmi_version.split(".", 1)[0])


def read_description(path: Path) -> FmuDescription:
    """The description of the FMU at ``path``.

    Raises:
        FmuDescriptionError: missing or unreadable file, an FMI version other than 2.0/3.x,
            or an FMU without a co-simulation interface.
    """
    if not path.is_file():
        msg = f"no FMU at {path}"
        raise FmuDescriptionError(msg)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            try:
                text = archive.read("modelDescription.xml")
            except KeyError as err:
                msg = f"{path.name} has no modelDescription.xml (is it an FMU?)"
                raise FmuDescriptionError(msg) from err
    except (zipfile.BadZipFile, OSError) as err:
        msg = f"{path.name} is not an FMU (a zip archive): {err}"
        raise FmuDescriptionError(msg) from err
    try:
        root = ET.fromstring(text)  # noqa: S314 - see the import
    except ET.ParseError as err:
        msg = f"{path.name}: modelDescription.xml is not valid XML: {err}"
        raise FmuDescriptionError(msg) from err
    return _describe(root, names, path.name)


def _describe(root: ET.Element, names: list[str], filename: str) -> FmuDescription:
    version = root.get("fmiVersion", "")
    if version != "2.0" and not version.startswith("3."):
        msg = f"{filename} is an FMI {version or '(unknown)'} FMU; plantwin steps FMI 2.0 and 3.0"
        raise FmuDescriptionError(msg)
    cosim = root.find("CoSimulation")
    if cosim is None:
        msg = (
            f"{filename} has no co-simulation interface (a model-exchange FMU); "
            "plantwin steps co-simulation FMUs only: export it for co-simulation"
        )
        raise FmuDescriptionError(msg)
    identifier = cosim.get("modelIdentifier", "")
    fmi3 = version.startswith("3.")
    token = root.get("instantiationToken" if fmi3 else "guid", "")
    variables = _variables_3(root) if fmi3 else _variables_2(root)
    platform_dir = _platform_dir(fmi3)
    binary = any(
        n.startswith(f"binaries/{platform_dir}/{identifier}.") and not n.endswith("/")
        for n in names
    )
    return FmuDescription(
        fmi_version=version,
        model_name=root.get("modelName", identifier),
        model_identifier=identifier,
        token=token,
        variables=variables,
        binary=binary,
        sources=any(n.startswith("sources/") and n.endswith((".c", ".cpp")) for n in names),
    )


def _variables_2(root: ET.Element) -> dict[str, FmuVariable]:
    out: dict[str, FmuVariable] = {}
    for node in root.iterfind("ModelVariables/ScalarVariable"):
        typed = next(iter(node), None)
        real = typed is not None and typed.tag == "Real"
        out[node.get("name", "")] = FmuVariable(
            name=node.get("name", ""),
            value_reference=int(node.get("valueReference", "0")),
            causality=node.get("causality", "local"),
            variability=node.get("variability", "continuous"),
            real=real,
            unit=typed.get("unit") if typed is not None else None,
            start=_float(typed.get("start")) if typed is not None else None,
        )
    return out


def _variables_3(root: ET.Element) -> dict[str, FmuVariable]:
    out: dict[str, FmuVariable] = {}
    section = root.find("ModelVariables")
    for node in [] if section is None else list(section):
        if node.tag not in _FMI3_TAGS:
            continue
        real = node.tag in _REAL_TAGS and node.get("dimension") is None
        out[node.get("name", "")] = FmuVariable(
            name=node.get("name", ""),
            value_reference=int(node.get("valueReference", "0")),
            causality=node.get("causality", "local"),
            variability=node.get("variability", "continuous" if real else "discrete"),
            real=real and node.find("Dimension") is None,
            unit=node.get("unit"),
            start=_float(node.get("start")),
        )
    return out


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None  # an array start value, or not a number


def _platform_dir(fmi3: bool) -> str:
    """The binaries/ folder an FMU uses for this machine (FMI 2 and FMI 3 names differ)."""
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    system = {"win32": "windows", "darwin": "darwin"}.get(sys.platform, "linux")
    if fmi3:
        return f"{arch}-{system}"
    bits = "64" if arch in ("x86_64", "aarch64") else "32"
    return {"windows": f"win{bits}", "darwin": f"darwin{bits}"}.get(system, f"linux{bits}")
