"""The options of an ``opcua`` connector entry in a plant file, checked once at load.

Every problem names the connector and the option, so a typo in a plant file is reported as
``connector 'plc1' option 'publishing_interval': ...`` rather than as a failure at connect.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from plantwin.core.errors import ConnectorError

KNOWN = frozenset(
    {
        "endpoint",
        "security_policy",
        "security_mode",
        "certificate",
        "private_key",
        "server_certificate",
        "username",
        "password",
        "password_env",
        "sampling_interval",
        "publishing_interval",
        "queue_size",
        "deadband",
        "trigger",
        "namespace",
        "timeout",
        "reconnect_initial",
        "reconnect_max",
    }
)
POLICIES = ("None", "Basic256Sha256", "Aes128Sha256RsaOaep", "Aes256Sha256RsaPss")
MODES = ("None", "Sign", "SignAndEncrypt")
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s|min)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "min": 60.0, None: 0.001}  # a bare number is milliseconds


class DeadbandType(StrEnum):
    NONE = "none"
    ABSOLUTE = "absolute"
    PERCENT = "percent"  # of the node's EURange; the server must support it


class Trigger(StrEnum):
    """When the server reports a change (OPC UA DataChangeTrigger)."""

    STATUS = "status"
    STATUS_VALUE = "status_value"
    STATUS_VALUE_TIMESTAMP = "status_value_timestamp"  # every new source timestamp


@dataclass(frozen=True, slots=True, kw_only=True)
class OpcUaOptions:
    endpoint: str
    security_policy: str = "None"
    security_mode: str = "None"
    certificate: str | None = None
    private_key: str | None = None
    server_certificate: str | None = None
    username: str | None = None
    password: str | None = None
    sampling_interval_ms: float = 0.0  # 0: as fast as the server can (event-driven servers)
    publishing_interval_ms: float = 500.0
    queue_size: int = 1000
    deadband_type: DeadbandType = DeadbandType.NONE
    deadband: float = 0.0
    trigger: Trigger = Trigger.STATUS_VALUE_TIMESTAMP
    namespace: str | None = None  # URI for plain string addresses and browse-path segments
    timeout_s: float = 4.0
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0


def parse_options(name: str, options: Mapping[str, object]) -> OpcUaOptions:
    """Check and convert the plant file's options of connector ``name``."""
    p = _Parser(name, options)
    unknown = sorted(set(options) - KNOWN)
    if unknown:
        p.fail(unknown[0], f"unknown option; known: {', '.join(sorted(KNOWN))}")
    endpoint = p.text("endpoint", required=True)
    assert endpoint is not None
    if not endpoint.startswith("opc.tcp://"):
        p.fail("endpoint", f"{endpoint!r} is not an opc.tcp:// URL")
    policy = p.choice("security_policy", POLICIES, "None")
    mode = p.choice("security_mode", MODES, "None" if policy == "None" else "SignAndEncrypt")
    if (policy == "None") != (mode == "None"):
        p.fail("security_mode", f"{mode} does not go with security_policy {policy}")
    certificate, private_key = p.text("certificate"), p.text("private_key")
    if policy != "None" and (certificate is None or private_key is None):
        p.fail("certificate", f"security_policy {policy} needs 'certificate' and 'private_key'")
    password = p.text("password")
    env = p.text("password_env")
    if env is not None:
        if env not in os.environ:
            p.fail("password_env", f"environment variable {env!r} is not set")
        password = os.environ[env]
    username = p.text("username")
    if password is not None and username is None:
        p.fail("password", "a password needs a 'username'")
    deadband_type, deadband = p.deadband()
    queue_size = p.integer("queue_size", 1000)
    if queue_size < 1:
        p.fail("queue_size", f"must be at least 1, got {queue_size}")
    return OpcUaOptions(
        endpoint=endpoint,
        security_policy=policy,
        security_mode=mode,
        certificate=certificate,
        private_key=private_key,
        server_certificate=p.text("server_certificate"),
        username=username,
        password=password,
        sampling_interval_ms=p.duration_s("sampling_interval", 0.0) * 1000,
        publishing_interval_ms=p.duration_s("publishing_interval", 0.5) * 1000,
        queue_size=queue_size,
        deadband_type=deadband_type,
        deadband=deadband,
        trigger=Trigger(
            p.choice("trigger", tuple(t.value for t in Trigger), "status_value_timestamp")
        ),
        namespace=p.text("namespace"),
        timeout_s=p.duration_s("timeout", 4.0, positive=True),
        reconnect_initial_s=p.duration_s("reconnect_initial", 0.5, positive=True),
        reconnect_max_s=p.duration_s("reconnect_max", 30.0, positive=True),
    )


class _Parser:
    def __init__(self, name: str, options: Mapping[str, object]) -> None:
        self.name = name
        self.options = options

    def fail(self, key: str, why: str) -> None:
        msg = f"connector {self.name!r} option {key!r}: {why}"
        raise ConnectorError(msg)

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.options.get(key)
        if value is None:
            if required:
                self.fail(key, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty string, got {value!r}")
        assert isinstance(value, str)
        return value.strip()

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(key) or default
        if value not in choices:
            self.fail(key, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def integer(self, key: str, default: int) -> int:
        value = self.options.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be a whole number, got {value!r}")
        assert isinstance(value, int)
        return value

    def duration_s(self, key: str, default_s: float, *, positive: bool = False) -> float:
        """'500 ms', '2 s', '1 min', or a bare number of milliseconds."""
        value = self.options.get(key)
        if value is None:
            return default_s
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(key, f"must be a duration such as '500 ms' or '2 s', got {value!r}")
        match = _DURATION.match(str(value))
        if match is None:
            self.fail(key, f"must be a duration such as '500 ms' or '2 s', got {value!r}")
        assert match is not None
        seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
        if positive and seconds <= 0:
            self.fail(key, f"must be positive, got {value!r}")
        return seconds

    def deadband(self) -> tuple[DeadbandType, float]:
        value = self.options.get("deadband")
        if value is None:
            return DeadbandType.NONE, 0.0
        if not isinstance(value, Mapping) or set(value) != {"type", "value"}:
            self.fail("deadband", "write it as {type: absolute | percent, value: NUMBER}")
        assert isinstance(value, Mapping)
        kind, amount = value["type"], value["value"]
        if kind not in ("absolute", "percent"):
            self.fail("deadband", f"type {kind!r} is not absolute or percent")
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            self.fail("deadband", f"value must be a number >= 0, got {amount!r}")
        if kind == "percent" and amount > 100:
            self.fail("deadband", f"a percent deadband is 0..100, got {amount}")
        assert isinstance(amount, int | float)
        return DeadbandType(kind), float(amount)
