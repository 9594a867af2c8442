"""plantwin.connectors"""
