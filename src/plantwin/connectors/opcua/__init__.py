"""OPC UA client connector (asyncua): subscriptions in, commands out."""

from plantwin.connectors.opcua.connector import OpcUaConnector
from plantwin.connectors.opcua.options import OpcUaOptions, parse_options

__all__ = ["OpcUaConnector", "OpcUaOptions", "parse_options"]
