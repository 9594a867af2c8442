"""The protocol description served at GET /api/v1/live/protocol (see docs/live-api.md)."""

from __future__ import annotations

from plantwin.api.live.ring import Kind
from plantwin.api.live.schemas import (
    AuthMessage,
    FrameOut,
    GapOut,
    LiveErrorOut,
    LiveProtocolOut,
    SnapshotOut,
    SubscribedOut,
    SubscribeMessage,
    Subscription,
)

DESCRIPTION = """\
Connect a WebSocket to /api/v1/live (optionally ?token=...). Send a `subscribe` message
(optionally preceded by an `auth` message). The server answers `subscribed`, then a
`snapshot` of everything selected (its `seq` is the newest sequence number it covers), then
`frame`s. Every message the server carries (a batch of samples, a state change, an alarm
event, a command step, an event) gets the next number of one sequence per server run
(`stream`). Each frame's `seq` is [first, last]: first is one past the previous frame's
last (or the snapshot's seq), including numbers the subscription filtered out, so a client
can check it missed nothing. Frames come at most `max_rate_hz` times per second; samples
are decimated to one point per signal per frame: [ts_ms, value, min, max, n, quality].
Records (states, alarms, commands, events) are never decimated.
To resume after a reconnect, subscribe with `resume_from` (the last `seq` received) and
`stream`: the server resends everything after it from its ring of recent messages. If it
no longer holds them, or the stream differs (a restart), it sends `gap` (naming the
numbers missed) and a fresh `snapshot` instead, so a client never misses data silently.
A client that falls out of the ring while connected gets the same `gap` + `snapshot`.
A client message that is wrong is answered with `error` and changes nothing. The server
closes with 4408 when one frame waits more than 10 s for a client (stalled), 4401 when
the token is refused, 4400 when no subscription arrives in 10 s, 4503 when the live API is
not running, 1001 when the server stops.\
"""

PROTOCOL = LiveProtocolOut(
    endpoint="/api/v1/live",
    description=DESCRIPTION,
    close_codes={
        "1001": "server stopping",
        "4400": "no subscribe message in time",
        "4401": "token refused",
        "4408": "client too slow: a frame waited more than 10 s",
        "4503": "live API not running in this process",
    },
    auth=AuthMessage(auth={"token": "..."}),
    subscribe=SubscribeMessage(
        subscribe=Subscription(
            twins=["changwon.L1.mill1"],
            signals=["changwon.meter1/power"],
            kinds=[Kind.SAMPLES, Kind.STATES, Kind.ALARMS],
            max_rate_hz=5,
        ),
        resume_from=1841,
        stream="3f0c2a9b7d514e6a",
    ),
    subscribed=SubscribedOut(
        stream="3f0c2a9b7d514e6a",
        seq=1841,
        signals=12,
        twins=2,
        kinds=[Kind.ALARMS, Kind.SAMPLES, Kind.STATES],
        max_rate_hz=5,
    ),
    frame=FrameOut(
        seq=(1842, 1850),
        samples={"changwon.meter1/power": [1795514400123, 61.2, 58.9, 63.0, 4, 0]},
        states=[
            {
                "seq": 1847,
                "ts": "2026-11-24T07:00:00.120Z",
                "twin": "changwon.L1.mill1",
                "state": "running",
                "previous": "idle",
                "previous_since": "2026-11-24T06:58:10Z",
            }
        ],
    ),
    gap=GapOut(missed_from=1842, missed_to=30211, reason="the client fell behind the ring"),
    snapshot=SnapshotOut(
        stream="3f0c2a9b7d514e6a",
        seq=30211,
        time="2026-11-24T07:00:05Z",
        signals={"changwon.meter1/power": [1795514404998, 60.7, 0]},
        states={
            "changwon.L1.mill1": {
                "state": "running",
                "since": "2026-11-24T07:00:00.120Z",
                "rollup": "production",
                "rollup_since": "2026-11-24T07:00:00.120Z",
            }
        },
    ),
    error=LiveErrorOut(where="subscribe.signals[0]", message="no signal 'cnc9/speed'"),
)
