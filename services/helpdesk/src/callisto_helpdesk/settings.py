from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from callisto_runtime import Mode, ServiceSettings

DEMO_CONTACTS = Path(__file__).with_name("demo.yaml")
DEMO_STAFF = Path(__file__).with_name("staff.yaml")
MIB = 1024 * 1024


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

    staff_file: Path | None = Field(
        default=None, description="staff (YAML) loaded when there are none; the demo's in development"
    )
    # how others reach this service (its registry entry) and customers its confirmation links;
    # unset: the address it listens on, whatever port it was given
    public_url: str | None = Field(default=None, description="URL other parts reach this instance at")
    max_body_bytes: int = Field(default=21 * MIB, ge=1024)
    max_attachment_bytes: int = Field(default=20 * MIB, ge=1024, description="larger files are refused (413)")
    confirmation_timeout_s: float = Field(default=3 * 86400, gt=0, description="closed unconfirmed after")
    sla_tick_s: float = Field(default=1.0, gt=0, le=60, description="how often the SLA engine looks")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = "Callisto helpdesk <helpdesk@callisto.local>"
    mail_domain: str = Field(default="callisto.local", description="right of @ in Message-IDs")
    intake_smtp_host: str = "127.0.0.1"
    intake_smtp_port: int = Field(default=2525, ge=0, le=65535, description="inbound mail; 0: none")
    intake_address: str | None = Field(default=None, description="Reply-To of notification mail")
    classifier_threshold: float = Field(default=0.9, gt=0, le=1, description="routes on its own at or above")
    classifier_min_samples: int = Field(default=50, ge=2)
    classifier_retrain_s: float = Field(default=6 * 3600, gt=0)
    time_zone: str = Field(default="Europe/Moscow", description="of trends' days")

    @field_validator("phone_region")
    @classmethod
    def _region(cls, region: str) -> str:
        import phonenumbers

        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {region!r}")
        return region

    def initial_staff(self) -> Path | None:
        if self.staff_file is not None:
            return self.staff_file
        return DEMO_STAFF if self.mode is Mode.DEVELOPMENT else None

    def initial_contacts(self) -> Path | None:
        if self.contacts_file is not None:
            return self.contacts_file
        return DEMO_CONTACTS if self.mode is Mode.DEVELOPMENT else None
