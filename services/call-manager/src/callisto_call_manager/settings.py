from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from callisto_call_manager.recording_policy import RecordingPolicy
from callisto_runtime import Mode, ServiceSettings

DEMO_CONFIG = Path(__file__).with_name("demo.yaml")


class CallManagerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CALLISTO_CALL_MANAGER_", extra="ignore", frozen=True)

    http_port: int = Field(default=8102, ge=0, le=65535)
    redis_url: str = "redis://127.0.0.1:6379/0"
    sip_host: str = Field(default="127.0.0.1", description="address SIP listens on and writes in Via/Contact")
    sip_port: int = Field(default=5060, ge=0, le=65535, description="UDP and TCP")
    sip_realm: str = Field(default="callisto", description="digest realm; must be auth's sip_realm")
    digest_algorithms: list[str] = Field(
        default=["MD5", "SHA-256"],
        min_length=1,
        description="challenges offered in this order; many softphones (and sipp) answer the first one "
        "whatever its algorithm, so MD5 leads unless every phone speaks SHA-256 (RFC 8760)",
    )
    ws_digest_algorithms: list[str] = Field(
        default=["MD5"],
        min_length=1,
        description="challenges to browsers over WebSocket: JsSIP 3 answers MD5 only, and the last "
        "challenge it is given",
    )
    sip_t1_s: float = Field(default=0.5, gt=0, le=5, description="RFC 3261 T1 (round-trip estimate)")
    sip_t4_s: float = Field(default=5.0, gt=0, le=10, description="RFC 3261 T4; Timer D is 64*T1 at least")
    rtpengine_host: str = "127.0.0.1"
    rtpengine_port: int = Field(default=2223, ge=1, le=65535, description="rtpengine's --listen-ng port")
    dtmf_port: int = Field(default=0, ge=0, le=65535, description="UDP port for rtpengine's DTMF reports")
    media_host: str = Field(default="127.0.0.1", description="rtpengine's media address (--interface)")
    record_answered: bool = Field(
        default=False,
        description="record each call from the agent's answer, unless the dial plan has a recording policy",
    )
    prompts_dir: Path = Field(default=Path(".callisto/prompts"), description="rendered prompts (WAV)")
    config_file: Path | None = Field(default=None, description="trunks, numbers and IVR flows (YAML)")
    ring_timeout_s: float = Field(default=20, gt=0, le=300, description="for transfers and originate")
    min_expires_s: int = Field(default=60, ge=1, description="shorter REGISTER expiries get 423")
    max_expires_s: int = Field(default=3600, ge=60)
    keepalive_s: float = Field(default=30, gt=0, description="OPTIONS to registered phones; 0 = never")
    sip_ws_port: int = Field(default=0, ge=0, le=65535, description="SIP over WebSocket (RFC 7118); 0 = off")
    sip_wss_port: int = Field(default=0, ge=0, le=65535, description="SIP over secure WebSocket; 0 = off")
    tls_cert_file: Path | None = Field(default=None, description="WSS certificate chain (PEM)")
    tls_key_file: Path | None = Field(default=None, description="its private key (PEM)")
    tls_dir: Path = Field(
        default=Path(".callisto/tls"), description="development: a self-signed certificate made here"
    )
    ws_connections_per_source: int = Field(default=20, ge=1, description="WebSocket connections per address")
    ws_ping_s: float = Field(default=20, gt=0, description="WebSocket pings (NATs, proxies, dead peers)")
    invite_rate_per_source: float = Field(default=50, gt=0, description="new INVITEs per second per source")

    def recording_policy(self, planned: RecordingPolicy | None) -> RecordingPolicy:
        """The dial plan's recording section; without one, every answered call or none."""
        return planned or RecordingPolicy(default="always" if self.record_answered else "never")

    def initial_config(self) -> Path | None:
        if self.config_file is not None:
            return self.config_file
        return DEMO_CONFIG if self.mode is Mode.DEVELOPMENT else None

    def digest_secret(self) -> bytes:
        """Nonces are signed with a key every instance derives alike, so a standby accepts them."""
        return hashlib.sha256(f"sip-nonce:{self.secret() or self.instance_id}".encode()).digest()
