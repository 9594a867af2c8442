"""Ingest: raw readings from connectors become validated, unit-converted sample batches."""

from plantwin.ingest.decode import decode_json_lines
from plantwin.ingest.normalise import Ingestor, IngestResult, IngestStats

__all__ = ["IngestResult", "IngestStats", "Ingestor", "decode_json_lines"]
