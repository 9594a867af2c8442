"""OPC UA with Basic256Sha256 SignAndEncrypt and client certificates, against a real server."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from plantwin.core.clock import NS_PER_S
from plantwin.core.connector import ConnectorStatus
from tests.connectors.opcua_support import TestServer
from tests.connectors.test_opcua import Collector, T, connected, connector, until
from tests.runtime.demo_process import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def certificate(tmp: Path, name: str, use: ObjectIdentifier) -> tuple[Path, Path]:
    cert, key = tmp / f"{name}.der", tmp / f"{name}-key.pem"
    await setup_self_signed_certificate(
        key, cert, f"urn:plantwin:{name}", socket.gethostname(), [use], {"commonName": name}
    )
    return cert, key


async def test_sign_and_encrypt_with_a_client_certificate(tmp_path: Path) -> None:
    server_cert = await certificate(tmp_path, "server", ExtendedKeyUsageOID.SERVER_AUTH)
    client_cert, client_key = await certificate(tmp_path, "client", ExtendedKeyUsageOID.CLIENT_AUTH)
    secure = {
        "security_policy": "Basic256Sha256",
        "security_mode": "SignAndEncrypt",
        "certificate": str(client_cert),
        "private_key": str(client_key),
    }
    async with TestServer(free_port(), ["m/a"], certificate=server_cert) as srv:
        async with connector(srv.endpoint, "m/a", extra=secure) as conn:
            got = Collector(conn)
            await connected(conn)
            await srv.write("m/a", 4.0, T + NS_PER_S)
            await until(lambda: len(got.rows()) == 1, "a sample over the encrypted channel")
            await got.close()
        async with connector(srv.endpoint, "m/a") as plain:  # no security: no endpoint for it
            await until(lambda: plain.health().last_error is not None, "an error")
            await asyncio.sleep(0.3)
            health = plain.health()
    assert got.rows()[0][2] == 4.0
    assert health.status is ConnectorStatus.RECONNECTING
