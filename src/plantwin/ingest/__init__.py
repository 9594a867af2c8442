"""Ingest: raw readings from connectors become validated, unit-converted sample batches."""

from plantwin.ingest.arrow import PayloadError, decode_arrow_stream
from plantwin.ingest.decode import Decoded, decode_json_lines, decode_json_records
from plantwin.ingest.normalise import Ingestor, IngestResult, IngestStats

__all__ = [
    "Decoded",
    "IngestResult",
    "IngestStats",
    "Ingestor",
    "PayloadError",
    "decode_arrow_stream",
    "decode_json_lines",
    "decode_json_records",
]
