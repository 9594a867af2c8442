"""plantwin.ingest"""
