"""SIP over secure WebSocket: in development call-manager makes itself a certificate (kept for the
next start) and serves WSS with it; outside development it refuses to start without one."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import pytest
from cm_testing import call_manager
from websockets.asyncio.client import connect

from callisto_call_manager.app import wss_certificate
from callisto_call_manager.errors import ConfigError
from callisto_call_manager.settings import CallManagerSettings
from callisto_call_manager.tls import server_context
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.servers import NatsServer, RedisServer, RtpEngine
from callisto_runtime import Mode

pytestmark = pytest.mark.integration
OPTIONS = (
    "OPTIONS sip:callisto@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WSS k3j2h1.invalid;branch=z9hG4bKwss1\r\n"
    "Max-Forwards: 70\r\nTo: <sip:callisto@127.0.0.1>\r\nFrom: <sip:probe@k3j2h1.invalid>;tag=t1\r\n"
    "Call-ID: wss-probe-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
)


async def test_wss_with_the_development_certificate(
    private_nats: NatsServer, redis_server: RedisServer, rtpengine: RtpEngine, token_issuer: TestIssuer,
    tmp_path: Path,
) -> None:  # fmt: skip
    port = free_port()
    async with call_manager(
        private_nats.url,
        redis_server.url,
        rtpengine,
        token_issuer,
        sip_wss_port=port,
        tls_dir=tmp_path / "tls",
    ) as (_, http):
        trusted = ssl.create_default_context(cafile=str(tmp_path / "tls" / "sip-ws.crt"))
        async with connect(f"wss://127.0.0.1:{port}", ssl=trusted, subprotocols=["sip"]) as ws:  # type: ignore[list-item]
            await ws.send(OPTIONS)
            answer = str(await ws.recv())
        metrics = (await http.get("/metrics")).text  # the certificate's expiry, for the alert
        (expiry,) = [
            float(line.split()[1]) for line in metrics.splitlines()
            if line.startswith("callisto_cm_tls_certificate_expiry_timestamp_seconds ")
        ]  # fmt: skip
        assert 364 < (expiry - time.time()) / 86400 < 366
    assert answer.startswith("SIP/2.0 200 OK") and "Call-ID: wss-probe-1" in answer
    made = (tmp_path / "tls" / "sip-ws.crt").read_bytes()
    wss_certificate(CallManagerSettings(mode=Mode.DEVELOPMENT, sip_wss_port=port, tls_dir=tmp_path / "tls"))
    assert (tmp_path / "tls" / "sip-ws.crt").read_bytes() == made  # kept, not made again


def test_production_needs_a_certificate_for_wss(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TLS_CERT_FILE"):
        wss_certificate(CallManagerSettings(mode=Mode.PRODUCTION, sip_wss_port=7443, tls_dir=tmp_path))
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ConfigError, match="WSS certificate"):
        server_context(
            *wss_certificate(CallManagerSettings(mode=Mode.PRODUCTION, tls_cert_file=bad, tls_key_file=bad))
        )
