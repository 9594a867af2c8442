"""One client of the live API: its subscription, its place in the ring, its pace.

The session is the only writer to its socket. It sends a frame when the ring holds entries
past its position and its rate allows (a token bucket: ``max_rate_hz`` frames a second on
average, two back to back at most), so samples that arrive meanwhile are coalesced into one
point per signal. Sequence numbers of every
frame continue the previous one's, including entries the subscription filtered out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from plantwin.api.context import ApiContext
from plantwin.api.live.frames import frame, groups
from plantwin.api.live.hub import LiveHub
from plantwin.api.live.schemas import SubscribeMessage
from plantwin.api.live.selection import Selection, select
from plantwin.api.live.snapshot import snapshot

Send = Callable[[str], Awaitable[None]]

# Frames a client may get back to back. With a plain "at least 1/rate apart" rule, data that
# arrives at about the client's rate locks in phase with it and waits up to a whole period
# (measured: +50 ms at 10 Hz); a bucket of two absorbs that jitter, the mean rate still holds.
BURST = 2.0


class SlowClientError(Exception):
    """A frame could not be handed to the client's socket in time."""


@dataclass(frozen=True, slots=True)
class _Request:
    message: SubscribeMessage
    selection: Selection


class LiveSession:
    def __init__(
        self,
        ctx: ApiContext,
        hub: LiveHub,
        send: Send,
        *,
        user: object | None = None,
        heartbeat_s: float = 5.0,
        batch_entries: int = 5_000,
    ) -> None:
        self.ctx = ctx
        self.hub = hub
        self._socket_send = send
        self.user = user  # who authenticated (route.authenticate); None until auth is wired
        self.heartbeat_s = heartbeat_s
        self.batch_entries = batch_entries
        self.selection: Selection | None = None
        self.cursor = 0  # next sequence number to look at
        self.reported = 0  # every number below this was accounted for in a sent message
        self._request: _Request | None = None
        self._controls: list[dict[str, Any]] = []  # errors to tell the client, in order
        self._wake = hub.watch()
        self._tokens = BURST  # frames that may go out now (a token bucket, refilled at the rate)
        self._refilled = time.monotonic()

    def subscribe(self, message: SubscribeMessage) -> None:
        """Take a (new) subscription from the client; raises LiveRequestError if wrong."""
        self._request = _Request(message, select(message.subscribe, self.ctx.catalog))
        self._wake.set()

    def tell(self, message: dict[str, Any]) -> None:
        self._controls.append(message)
        self._wake.set()

    async def run(self) -> None:
        """Send until the hub closes; raises SlowClientError for a stalled client."""
        try:
            while not self.hub.closed:
                self._wake.clear()
                await self._flush_controls()
                if self._request is not None:
                    await self._start(self._request)
                sel = self.selection
                if sel is None or self.cursor > self.hub.ring.head:
                    await self._idle()
                    continue
                if self.cursor < self.hub.ring.oldest:
                    await self._gap(sel, "the client fell behind the server's ring")
                    continue
                wait = self._wait(sel)
                if wait > 0:  # coalesce: let more arrive until this client's next frame
                    await asyncio.sleep(wait)
                    continue  # the ring may have moved past this client meanwhile
                self._tokens = max(0.0, self._tokens - 1.0)
                await self._frames(sel)
        finally:
            self.hub.unwatch(self._wake)

    def _wait(self, sel: Selection) -> float:
        """Refill the bucket; how long until a frame may go (0: now)."""
        now = time.monotonic()
        self._tokens = min(BURST, self._tokens + (now - self._refilled) / sel.interval_s)
        self._refilled = now
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) * sel.interval_s

    async def _start(self, request: _Request) -> None:
        self._request = None
        self.selection = sel = request.selection
        sub, ring = request.message.subscribe, self.hub.ring
        await self._send_json(
            {
                "type": "subscribed",
                "stream": self.hub.stream,
                "seq": ring.head,
                "signals": sel.signal_count,
                "twins": len(sel.twins),
                "kinds": sorted(sel.kinds),
                "max_rate_hz": sub.max_rate_hz,
            }
        )
        resume = request.message.resume_from
        if resume is None:
            await self._snapshot(sel)
            return
        if request.message.stream not in (None, self.hub.stream):
            await self._gap(sel, "another server run: sequence numbers restarted", resume + 1)
        elif resume > ring.head:
            await self._gap(sel, f"sequence {resume} was never sent by this run", resume + 1)
        elif resume + 1 < ring.oldest:
            await self._gap(sel, "the server no longer holds messages that old", resume + 1)
        else:
            self.cursor = self.reported = resume + 1

    async def _gap(self, sel: Selection, reason: str, missed_from: int | None = None) -> None:
        head = self.hub.ring.head
        start = self.reported if missed_from is None else missed_from
        self.hub.stats.gaps += 1
        await self._send_json(
            {
                "type": "gap",
                "gap": True,
                "missed_from": start,
                "missed_to": head,
                "reason": reason,
            }
        )
        await self._snapshot(sel)

    async def _snapshot(self, sel: Selection) -> None:
        head = self.hub.ring.head
        await self._send_json(snapshot(self.ctx, sel, self.hub.stream, head))
        self.cursor = self.reported = head + 1

    async def _frames(self, sel: Selection) -> None:
        entries = self.hub.ring.since(self.cursor, self.batch_entries)
        for group in groups(entries, sel.interval_s):
            key = (sel.key, self.reported, group[-1].seq)
            if key in self.hub.encoded:
                text = self.hub.encoded[key]
            else:
                out = frame(group, self.reported, sel, self.hub.keys)
                text = None if out is None else _encode(out)
                self.hub.remember(key, text)
            if text is not None:
                await self._send(text)
                self.reported = group[-1].seq + 1
        self.cursor = entries[-1].seq + 1

    async def _idle(self) -> None:
        """Wait for news; on a quiet selection, say now and then how far the client is."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.heartbeat_s)
            return
        if self.selection is not None and self.reported < self.cursor:
            await self._send_json({"type": "frame", "seq": [self.reported, self.cursor - 1]})
            self.reported = self.cursor

    async def _flush_controls(self) -> None:
        while self._controls:
            await self._send_json(self._controls.pop(0))

    async def _send_json(self, message: dict[str, Any]) -> None:
        await self._send(_encode(message))

    async def _send(self, text: str) -> None:
        try:
            async with asyncio.timeout(self.hub.send_timeout_s):  # no extra task per send
                await self._socket_send(text)
        except TimeoutError as err:
            self.hub.stats.slow_disconnects += 1
            msg = f"a frame waited more than {self.hub.send_timeout_s:g} s for the client"
            raise SlowClientError(msg) from err
        self.hub.stats.frames += 1
        self.hub.stats.bytes_sent += len(text)


def _encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), allow_nan=False)
