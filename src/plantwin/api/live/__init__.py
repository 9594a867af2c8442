"""The live API: a WebSocket that streams samples, states, alarms and command steps.

``hub`` numbers what the pipeline publishes and keeps the newest in a ring; each client's
``session`` sends from its own place in it, decimated and coalesced to the client's rate;
``route`` is the endpoint. See docs/live-api.md.
"""

from plantwin.api.live.hub import LiveHub

__all__ = ["LiveHub"]
