from __future__ import annotations

from pathlib import Path
from zoneinfo import available_timezones

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from callisto_runtime import Mode, ServiceSettings
from callisto_snitch.definitions import DEMO_DEFINITIONS


class SnitchSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CALLISTO_SNITCH_", extra="ignore", frozen=True)

    http_port: int = Field(default=8106, ge=0, le=65535)
    redis_url: str = "redis://127.0.0.1:6379/0"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/callisto"
    time_zone: str = Field(default="UTC", description="where the contact center's day starts and reports cut")
    definitions_file: Path | None = Field(
        default=None, description="KPI definitions and lines (YAML); the demo's in development"
    )
    push_interval_s: float = Field(default=1.0, gt=0.05, le=10, description="wallboard and tables refresh")
    wallboard_key: str | None = Field(
        default=None, description="when set, the wallboard page and its socket want ?key=<this>"
    )
    history_batch: int = Field(default=500, ge=1, le=10000, description="events stored per transaction")

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, zone: str) -> str:
        if zone not in available_timezones():
            raise ValueError(f"unknown time zone {zone!r}")
        return zone

    def definitions_path(self) -> Path | None:
        if self.definitions_file is not None:
            return self.definitions_file
        return DEMO_DEFINITIONS if self.mode is Mode.DEVELOPMENT else None
