"""AAS export and import of the demo plant, next to basyx's own JSON round trip of the same model.

The baseline is what basyx alone does with the already-built AAS objects: serialise them to
JSON text and parse that text back (strict). ``export_aas`` does more: it builds the objects
from the plant, writes the file, reads it back and compares every object; ``import_aas``
reads the file and writes and validates a plant file. Median of several runs.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from basyx.aas.adapter.json import read_aas_json_file, write_aas_json_file

from bench.common import emit, pin_to_one_core
from plantwin.interop.aas import export_aas, import_aas
from plantwin.interop.aas.export_plant import plant_to_aas
from plantwin.interop.aas.ids import Ids, default_base
from plantwin.model.loader import load_plant

PLANT = Path(__file__).resolve().parent.parent / "examples" / "machining-line.yaml"
RUNS = 7


def median_seconds(action: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    print(pin_to_one_core())
    plant = load_plant(PLANT)
    store = plant_to_aas(plant, Ids(default_base(plant.name)))

    def basyx_round_trip() -> None:
        text = io.StringIO()
        write_aas_json_file(text, store)
        text.seek(0)
        read_aas_json_file(text, failsafe=False)

    figures: dict[str, object] = {"bench": "aas_export", "plant": PLANT.name}
    baseline = median_seconds(basyx_round_trip)
    figures["basyx_json_round_trip_ms"] = round(baseline * 1000, 1)
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".json", ".aasx"):
            path = Path(tmp) / f"plant{suffix}"
            written = export_aas(plant, path)
            export = median_seconds(partial(export_aas, plant, path))
            back = median_seconds(partial(import_aas, path))
            key = suffix[1:]
            figures[f"{key}_bytes"] = written.size
            figures[f"{key}_export_ms"] = round(export * 1000, 1)
            figures[f"{key}_import_ms"] = round(back * 1000, 1)
            figures[f"{key}_export_vs_basyx"] = round(export / baseline, 2)
    figures["shells"] = written.shells
    figures["submodels"] = written.submodels
    print(f"{'':28}{'ms':>8}{'bytes':>10}{'x basyx':>9}")
    print(f"{'basyx JSON round trip':28}{baseline * 1000:8.1f}")
    for key in ("json", "aasx"):
        ms, size = figures[f"{key}_export_ms"], figures[f"{key}_bytes"]
        print(f"{'export ' + key:28}{ms:>8}{size:>10}{figures[f'{key}_export_vs_basyx']:>9}")
        print(f"{'import ' + key:28}{figures[f'{key}_import_ms']:>8}")
    emit(figures)


if __name__ == "__main__":
    main()
