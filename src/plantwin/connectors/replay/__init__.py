"""File replay: CSV or Parquet recordings played back as readings (see ReplayConnector)."""

from plantwin.connectors.replay.connector import ReplayConnector
from plantwin.connectors.replay.options import Layout, ReplayOptions, parse_options, parse_speed

__all__ = ["Layout", "ReplayConnector", "ReplayOptions", "parse_options", "parse_speed"]
