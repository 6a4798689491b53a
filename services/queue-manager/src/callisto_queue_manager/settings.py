from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from callisto_queue_manager.model import Code, unique_codes
from callisto_runtime import Mode, ServiceSettings

DEMO_CONFIG = Path(__file__).with_name("demo.yaml")
REASONS = [
    Code(code="break", name="Break"),
    Code(code="lunch", name="Lunch"),
    Code(code="training", name="Training"),
    Code(code="meeting", name="Meeting"),
    Code(code="coaching", name="Coaching"),
    Code(code="back_office", name="Back-office work"),
]


class QueueManagerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CALLISTO_QUEUE_MANAGER_", extra="ignore", frozen=True)

    http_port: int = Field(default=8103, ge=0, le=65535)
    redis_url: str = "redis://127.0.0.1:6379/0"
    config_file: Path | None = Field(
        default=None, description="queues and agents (YAML) loaded when Redis has none; demo in development"
    )
    tick_s: float = Field(default=0.2, gt=0, le=5, description="how often timers are looked at")
    help_response_s: float = Field(default=60, gt=0, le=3600, description="help requests: escalated after")
    help_max_level: int = Field(default=3, ge=1, le=10, description="help requests: highest escalation level")
    reasons: list[Code] = Field(
        default=REASONS, min_length=1, max_length=100, description="not-ready reasons to choose from (JSON)"
    )

    @field_validator("reasons")
    @classmethod
    def _reasons(cls, codes: list[Code]) -> list[Code]:
        return unique_codes(codes)

    def initial_config(self) -> Path | None:
        if self.config_file is not None:
            return self.config_file
        return DEMO_CONFIG if self.mode is Mode.DEVELOPMENT else None
