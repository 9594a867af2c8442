"""OPC UA connector options and addresses from a plant file: checked at start, clear errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plantwin.connectors.opcua import parse_options
from plantwin.connectors.opcua.addresses import AddressForm, classify
from plantwin.connectors.opcua.notifications import quality, to_ns
from plantwin.connectors.opcua.options import DeadbandType, Trigger
from plantwin.core.errors import ConnectorError
from plantwin.core.samples import Quality

ENDPOINT = "opc.tcp://10.0.0.5:4840"


def test_defaults_and_durations() -> None:
    opt = parse_options(
        "plc1",
        {
            "endpoint": ENDPOINT,
            "sampling_interval": "100 ms",
            "publishing_interval": "2 s",
            "reconnect_max": "1 min",
            "timeout": 1500,
            "deadband": {"type": "percent", "value": 2},
        },
    )
    assert (opt.sampling_interval_ms, opt.publishing_interval_ms) == (100.0, 2000.0)
    assert (opt.reconnect_max_s, opt.timeout_s) == (60.0, 1.5)
    assert (opt.deadband_type, opt.deadband) == (DeadbandType.PERCENT, 2.0)
    assert opt.trigger is Trigger.STATUS_VALUE_TIMESTAMP
    assert (opt.security_policy, opt.security_mode, opt.queue_size) == ("None", "None", 1000)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "option 'endpoint': is required"),
        ({"endpoint": "http://x"}, "option 'endpoint': 'http://x' is not an opc.tcp:// URL"),
        ({"endpoint": ENDPOINT, "publishing": 5}, "option 'publishing': unknown option"),
        ({"endpoint": ENDPOINT, "sampling_interval": "fast"}, "a duration such as '500 ms'"),
        ({"endpoint": ENDPOINT, "queue_size": 0}, "option 'queue_size': must be at least 1"),
        ({"endpoint": ENDPOINT, "deadband": 0.5}, "{type: absolute | percent, value: NUMBER}"),
        (
            {"endpoint": ENDPOINT, "deadband": {"type": "percent", "value": 120}},
            "a percent deadband is 0..100",
        ),
        (
            {"endpoint": ENDPOINT, "password": "x"},
            "option 'password': a password needs a 'username'",
        ),
        (
            {"endpoint": ENDPOINT, "security_policy": "Basic256Sha256"},
            "needs 'certificate' and 'private_key'",
        ),
        ({"endpoint": ENDPOINT, "security_policy": "Basic128"}, "'Basic128' is not one of"),
        ({"endpoint": ENDPOINT, "password_env": "PLANTWIN_NO_SUCH_VAR"}, "is not set"),
    ],
)
def test_bad_options_name_the_connector_and_option(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConnectorError, match="connector 'plc1' option") as err:
        parse_options("plc1", options)
    assert message in str(err.value)


def test_address_forms() -> None:
    def form(text: str, namespace: str | None = None) -> AddressForm:
        return classify(text, namespace=namespace, where="here").form

    assert form("ns=2;s=L1/mill1/power") is AddressForm.NODE_ID
    assert form("nsu=urn:acme;i=7") is AddressForm.NODE_ID
    assert form("i=2258") is AddressForm.NODE_ID
    assert form("/2:Line1/2:Mill1/2:Power") is AddressForm.BROWSE_PATH
    assert form("L1/mill1/power", "urn:acme") is AddressForm.NAMESPACE_STRING
    with pytest.raises(ConnectorError, match="here: address 'L1/mill1/power' is neither"):
        form("L1/mill1/power")


def test_status_codes_and_timestamps() -> None:
    assert quality(0x00000000) == 0
    assert quality(0x408F0000) == Quality.UNCERTAIN  # UncertainLastUsableValue
    assert quality(0x808C0000) == Quality.BAD  # BadSensorFailure
    assert quality(0xC0000000) == Quality.BAD  # reserved severity counts as bad

    assert to_ns(datetime(2026, 1, 1, 0, 0, 1, 250, tzinfo=UTC)) == 1_767_225_601_000_250_000
    assert to_ns(datetime(2026, 1, 1, 0, 0, 1, 250)) == 1_767_225_601_000_250_000  # naive: UTC
