"""The one composition root: settings -> concrete store, bus, connectors, API."""

from plantwin.runtime.runtime import Runtime, StartupError
from plantwin.runtime.settings import Settings

__all__ = ["Runtime", "Settings", "StartupError"]
