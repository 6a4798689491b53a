"""Settings every service shares. A service subclasses ``ServiceSettings`` with its own env prefix
(``CALLISTO_<NAME>_``); nothing else in a service reads the environment."""

from __future__ import annotations

import os
import socket
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from callisto_protocol import new_id

# The secret every service account has in development mode (``make run``); refused in production.
DEVELOPMENT_SECRET = "callisto-development-secret"


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


def default_instance_id() -> str:
    host = "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())[:24]
    return f"{host}-{os.getpid()}-{new_id()[:6]}"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CALLISTO_", extra="ignore", frozen=True)

    mode: Mode = Mode.PRODUCTION
    nats_url: str = Field(
        default="nats://127.0.0.1:4222", description="a NATS server, or a cluster's separated by commas"
    )
    nats_password: SecretStr | None = Field(
        default=None, description="password of this service's NATS user (the user is the service's name)"
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8100, ge=0, le=65535)
    public_url: str | None = Field(default=None, description="URL other parts reach this instance at")
    trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses or networks of the reverse proxies whose X-Forwarded-For "
        "and X-Forwarded-Proto are believed; by default none: the peer address is the client",
    )
    instance_id: str = Field(default_factory=default_instance_id, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    log_level: str = "INFO"
    log_json: bool = True
    heartbeat_interval_s: float = Field(default=1.0, gt=0, le=10)
    outbox_limit: int = Field(default=10_000, ge=1)
    drain_timeout_s: float = Field(default=10.0, ge=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    lease_ttl_s: float = Field(default=1.5, gt=0.2, le=60)
    lease_gate: Path | None = Field(
        default=None,
        description="a file whose presence lets this singleton instance hold its lease (the node role a "
        "cluster manager promotes, deploy/pacemaker); while it is absent the instance stays standby and "
        "releases a lease it holds. Unset: always eligible",
    )
    consumer_max_failures: int = Field(
        default=5,
        ge=1,
        le=100,
        description="tries of an event that fails for a permanent reason, then a dead letter",
    )
    consumer_retry_delay_s: float = Field(default=1.0, gt=0, le=60, description="first pause before a retry")
    token_issuer: str = "callisto-auth"
    token_audience: str = "callisto"
    service_secret: SecretStr | None = Field(
        default=None,
        description="secret of this service's account at auth (development mode: a known default)",
    )

    @model_validator(mode="after")
    def _check(self) -> ServiceSettings:
        if self.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"log_level {self.log_level!r} is not DEBUG, INFO, WARNING or ERROR")
        if self.mode is Mode.PRODUCTION and self.secret() == DEVELOPMENT_SECRET:
            raise ValueError("the development service secret is refused outside development mode")
        return self

    def secret(self) -> str | None:
        """The service account's secret: the configured one, the known default in development."""
        if self.service_secret is not None:
            return self.service_secret.get_secret_value()
        return DEVELOPMENT_SECRET if self.mode is Mode.DEVELOPMENT else None

    def http_server_options(self) -> dict[str, object]:
        """uvicorn's options for forwarded headers: honoured from the trusted proxies only."""
        return {
            "proxy_headers": bool(self.trusted_proxies),
            "forwarded_allow_ips": self.trusted_proxies or "",
        }

    def advertised_url(self, port: int) -> str:
        return self.public_url or f"http://{self.http_host}:{port}"
