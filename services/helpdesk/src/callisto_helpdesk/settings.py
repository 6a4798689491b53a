from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from callisto_runtime import Mode, ServiceSettings

DEMO_CONTACTS = Path(__file__).with_name("demo.yaml")


class HelpdeskSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CALLISTO_HELPDESK_", extra="ignore", frozen=True)

    http_port: int = Field(default=8107, ge=0, le=65535)
    database_url: str = "postgresql://postgres@127.0.0.1:5432/callisto"
    phone_region: str = Field(
        default="RU", description="ISO country whose national format numbers without + are read in"
    )
    contacts_file: Path | None = Field(
        default=None, description="contacts (YAML) loaded when there are none; the demo's in development"
    )

    @field_validator("phone_region")
    @classmethod
    def _region(cls, region: str) -> str:
        import phonenumbers

        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {region!r}")
        return region

    def initial_contacts(self) -> Path | None:
        if self.contacts_file is not None:
            return self.contacts_file
        return DEMO_CONTACTS if self.mode is Mode.DEVELOPMENT else None
