"""``plantwin replay``: play a recorded file into the store and the twin, then stop.

The file goes through a ``kind: replay`` connector of the plant file, whose options give the
column mapping and whose bindings map the file's addresses to signals; the command line can
override the file, the speed and any mapping option. Only that connector runs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from plantwin.connectors.replay import ReplayConnector
from plantwin.core.records import DeadLetter
from plantwin.core.store import RecordQuery
from plantwin.model.loader import load_plant
from plantwin.model.plant import Plant
from plantwin.runtime.runtime import Runtime, StartupError
from plantwin.runtime.settings import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaySummary:
    connector: str
    file: Path
    rows: int  # data rows in the file
    samples: int  # samples the file held (good rows; non-empty cells of a wide file)
    stored: int  # samples committed by this run, derived ones included
    derived: int
    duplicates: int  # samples the store already had (a file replayed twice)
    dead_letters: int
    first_dead: list[DeadLetter]  # up to 10, oldest first, to show what went wrong
    seconds: float
    first: int | None  # time range of the replayed samples (ns)
    last: int | None
    reordered: bool


def choose_connector(plant: Plant, name: str | None) -> str:
    """The replay connector to use: ``name``, or the plant file's only one."""
    replays = [n for n, c in plant.connectors.items() if c.kind == "replay"]
    if name is not None:
        declared = plant.connectors.get(name)
        if declared is None or declared.kind != "replay":
            what = "not declared" if declared is None else f"of kind {declared.kind}"
            listed = ", ".join(replays) or "none"
            msg = f"connector '{name}' is {what}; replay connectors: {listed}"
            raise StartupError(msg)
        return name
    if len(replays) == 1:
        return replays[0]
    if not replays:
        msg = (
            f"{plant.source} declares no replay connector; add one (kind: replay) whose "
            "options map the file's columns and whose bindings map its addresses to signals"
        )
        raise StartupError(msg)
    msg = f"{plant.source} declares several replay connectors ({', '.join(replays)}); "
    raise StartupError(msg + "choose one with --connector")


def plan_replay(
    settings: Settings,
    *,
    file: Path,
    connector: str | None = None,
    speed: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> tuple[Settings, str]:
    """Settings that run only the chosen replay connector on ``file``, and its name.

    Raises PlantFileError for a broken plant file, StartupError when no connector fits.
    """
    name = choose_connector(load_plant(settings.plant), connector)
    overrides: dict[str, object] = dict(mapping or {})
    overrides["file"] = str(file.resolve())  # relative to here, not to the plant file
    if speed is not None:
        overrides["speed"] = speed
    run = replace(settings, only_connectors=frozenset({name}), connector_options={name: overrides})
    return run, name


async def replay_file(settings: Settings, name: str) -> ReplaySummary:
    """Run the replay connector ``name`` (see :func:`plan_replay`) to the end of its file."""
    started = time.perf_counter()
    since = time.time_ns()  # dead letters of this run were received after it (wall clock)
    async with Runtime(settings) as runtime:
        replay = runtime.connectors[0]
        assert isinstance(replay, ReplayConnector)
        before = runtime.store.stats()
        await runtime.run_to_end()
        after = runtime.store.stats()
        dead = await runtime.store.records(RecordQuery(kind=DeadLetter, start=since, limit=10_000))
        data = replay.data
        stats = runtime.pipeline.stats
    letters = sorted((d for d in dead if isinstance(d, DeadLetter)), key=_order)
    return ReplaySummary(
        connector=name,
        file=replay.options.file,
        rows=data.rows,
        samples=len(data),
        stored=after.committed_samples - before.committed_samples,
        derived=stats.derived,
        duplicates=after.duplicates_dropped - before.duplicates_dropped,
        dead_letters=stats.dead_letters,
        first_dead=letters[:10],
        seconds=time.perf_counter() - started,
        first=int(data.ts[0]) if len(data) else None,
        last=int(data.ts[-1]) if len(data) else None,
        reordered=data.reordered,
    )


def _order(letter: DeadLetter) -> tuple[int, str]:
    """File order for 'f.csv:12' locations; others after them."""
    tail = letter.location.rsplit(":", 1)[-1].split()[-1] if ":" in letter.location else ""
    return (int(tail), letter.location) if tail.isdecimal() else (1 << 62, letter.location)
