"""MQTT connectors: JSON payloads (``kind: mqtt``) and Sparkplug B (``kind: sparkplug``)."""

from plantwin.connectors.mqtt.connector import MqttConnector
from plantwin.connectors.mqtt.sparkplug.connector import SparkplugConnector

__all__ = ["MqttConnector", "SparkplugConnector"]
