"""Compile a source FMU (a folder with modelDescription.xml and sources/) for this machine.

FMPy generates a CMake project for the FMU's source files and builds it with the system C
compiler, so an FMU can live in git as a few kB of text and be built on a fresh clone. Run as
``python -m plantwin.simulation.fmu.build SOURCE_DIR OUT.fmu``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from fmpy.build import build_platform_binary
from fmpy.util import create_zip_archive

from plantwin.core.errors import SimulationError


def build_fmu(source_dir: str | Path, out: str | Path) -> Path:
    """Compile the source FMU in ``source_dir`` and write the binary FMU to ``out``.

    Raises:
        SimulationError: when the folder is not a source FMU or the compiler fails.
    """
    source, target = Path(source_dir), Path(out)
    if not (source / "modelDescription.xml").is_file():
        msg = f"{source}: not a source FMU (no modelDescription.xml)"
        raise SimulationError(msg)
    with tempfile.TemporaryDirectory(prefix="plantwin-fmu-") as tmp:
        unzipped = Path(tmp) / "fmu"
        shutil.copytree(source, unzipped)
        build = Path(tmp) / "build"
        build.mkdir()
        try:
            build_platform_binary(unzipped, build_dir=build)
        except (subprocess.CalledProcessError, OSError, ValueError) as err:
            msg = f"{source}: building the FMU failed: {err}"
            raise SimulationError(msg) from err
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        create_zip_archive(partial, unzipped)
        partial.replace(target)
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m plantwin.simulation.fmu.build SOURCE_DIR OUT.fmu", file=sys.stderr)
        return 2
    try:
        print(build_fmu(argv[0], argv[1]))
    except SimulationError as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
