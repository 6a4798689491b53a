from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from callisto_runtime import ServiceSettings


class DialerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CALLISTO_DIALER_", extra="ignore", frozen=True)

    http_port: int = Field(default=8104, ge=0, le=65535)
    database_url: str = "postgresql://postgres@127.0.0.1:5432/callisto"
    default_region: str = Field(
        default="RU", description="numbers written without a country code are of this region (ISO 3166)"
    )
    max_body_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="the largest request body: an imported list (413 beyond)",
    )
    tick_s: float = Field(default=1.0, gt=0.05, le=10, description="how often running campaigns are paced")
    max_list_rows: int = Field(default=500_000, ge=1, description="rows in one import (413 beyond)")

    billing_webhook_url: str | None = Field(
        default=None, pattern=r"^https?://", description="told of every completed campaign (webhooks.py)"
    )
    webhook_secret: SecretStr | None = Field(default=None, description="signs the webhook (HMAC-SHA256)")
    webhook_retry_s: float = Field(
        default=30.0, gt=0, le=3600, description="the first retry's wait, doubling"
    )

    @model_validator(mode="after")
    def _webhook(self) -> DialerSettings:
        if (
            self.billing_webhook_url
            and len(self.webhook_secret.get_secret_value() if self.webhook_secret else "") < 16
        ):
            raise ValueError("a billing webhook needs a WEBHOOK_SECRET of at least 16 characters")
        return self

    @field_validator("default_region")
    @classmethod
    def _region(cls, region: str) -> str:
        import phonenumbers

        if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown region {region!r}")
        return region.upper()
