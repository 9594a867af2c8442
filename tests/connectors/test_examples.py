"""The example plant files for MQTT and Sparkplug B load and build their connectors."""

from __future__ import annotations

from plantwin.connectors.mqtt import MqttConnector, SparkplugConnector
from plantwin.core.clock import WallClock
from plantwin.model.loader import load_plant
from plantwin.runtime.connectors import build
from tests.conftest import ROOT


def test_mqtt_example_binds_topics_fields_and_wildcards() -> None:
    plant = load_plant(ROOT / "examples" / "mqtt-line.yaml")
    connector = build(plant, plant.connectors["broker"], WallClock())
    assert isinstance(connector, MqttConnector)
    router = connector.router
    assert [r.address for r in router.routes("plant/L1/press2/temps")] == [
        "plant/L1/press2/temps:temps.motor",
        "plant/L1/press2/temps:temps.die",
    ]
    assert [r.address for r in router.routes("gateways/gw7/meter1/power")] == [
        "gateways/+/meter1/power"
    ]
    assert router.routes("plant/L1/press1/cmd/stroke_rate") == []  # commands are not read
    assert connector.options.connection.client_id == "plantwin-press-line"


def test_sparkplug_example_binds_node_and_device_metrics() -> None:
    plant = load_plant(ROOT / "examples" / "sparkplug-line.yaml")
    connector = build(plant, plant.connectors["spb"], WallClock())
    assert isinstance(connector, SparkplugConnector)
    bound = connector.host.bound
    assert bound[("Packaging/line2-gw/filler", "Outputs/Speed")] == (
        "Packaging/line2-gw/filler:Outputs/Speed"
    )
    assert ("Packaging/line2-gw", "Line/AirPressure") in bound
    assert connector.session.subscriptions == ["spBv1.0/Packaging/#"]
