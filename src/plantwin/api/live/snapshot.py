"""A fresh picture of everything a subscription selects: sent first, and after any gap."""

from __future__ import annotations

from typing import Any

import numpy as np

from plantwin.api.alarms import _out as alarm_out
from plantwin.api.commands import _out as command_out
from plantwin.api.context import ApiContext
from plantwin.api.live.frames import NS_PER_MS
from plantwin.api.live.ring import Kind
from plantwin.api.live.selection import Selection
from plantwin.core.clock import iso
from plantwin.core.records import FINAL_COMMAND_STATUSES
from plantwin.twin.latest import NEVER


def snapshot(ctx: ApiContext, sel: Selection, stream: str, seq: int) -> dict[str, Any]:
    """The selected live values, states, alarms not normal and unfinished commands.

    Read after the ring's head was taken as ``seq``: the twin is at least as new as that.
    """
    out: dict[str, Any] = {
        "type": "snapshot",
        "stream": stream,
        "seq": seq,
        "time": iso(ctx.clock.now_ns()),
    }
    if Kind.SAMPLES in sel.kinds:
        latest = ctx.twin.latest
        ids = np.flatnonzero(sel.mask & (latest.ts != NEVER))
        keys = {sid: key for key, sid in ctx.catalog.ids.items()}
        out["signals"] = {
            keys[s]: [t, v, q]
            for s, t, v, q in zip(
                ids.tolist(),
                (latest.ts[ids] // NS_PER_MS).tolist(),
                latest.value[ids].tolist(),
                latest.quality[ids].tolist(),
                strict=True,
            )
        }
    if Kind.STATES in sel.kinds:
        states: dict[str, dict[str, Any]] = {}
        for twin_id in sorted(sel.twins):
            status = ctx.twin.states.status[twin_id]
            states[twin_id] = {
                "state": status.state.name if status.state is not None else None,
                "since": iso(status.since) if status.since is not None else None,
                "rollup": status.rollup.value if status.rollup is not None else None,
                "rollup_since": iso(status.rollup_since) if status.rollup_since else None,
            }
        out["states"] = states
    if Kind.ALARMS in sel.kinds and ctx.rules is not None:
        out["alarms"] = [
            alarm_out(p).model_dump(mode="json")
            for p in ctx.rules.board.points.values()
            if p.visible and p.rule.twin in sel.twins
        ]
    if Kind.COMMANDS in sel.kinds and ctx.commands is not None:
        out["commands"] = [
            command_out(c).model_dump(mode="json")
            for c in ctx.commands.commands.values()
            if c.status not in FINAL_COMMAND_STATUSES and c.twin in sel.twins
        ]
    return out
