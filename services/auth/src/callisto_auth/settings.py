from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from callisto_runtime import ServiceSettings


class AuthSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CALLISTO_AUTH_", extra="ignore", frozen=True)

    http_port: int = Field(default=8101, ge=0, le=65535)
    database_url: str = "postgresql://postgres@127.0.0.1:5432/callisto"
    issuer: str = "callisto-auth"
    audience: str = "callisto"
    access_ttl_s: int = Field(default=300, ge=30, le=3600)
    refresh_ttl_s: int = Field(default=8 * 3600, ge=300, le=30 * 24 * 3600)
    key_retention_s: int = Field(default=24 * 3600, ge=3600)
    key_publish_ahead_s: float = Field(
        default=3.0, ge=0, le=3600, description="a rotated key is published this long before it signs"
    )
    lockout_failures: int = Field(default=5, ge=1, le=100)
    lockout_window_s: int = Field(default=900, ge=10)
    source_lockout_failures: int = Field(default=50, ge=1)
    sip_realm: str = Field(default="callisto", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9.-]+$")
    demo_password: str = Field(
        default="callisto", description="password of the demo accounts (development only)"
    )
    service_secrets_dir: Path | None = Field(
        default=None,
        description="files named after Callisto's services, each holding that service's account secret: "
        "accounts not made yet are made with them at start (a Kubernetes Secret or compose secrets "
        "mounted here); existing accounts keep theirs",
    )
