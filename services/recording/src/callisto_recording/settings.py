from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from callisto_recording.retention import DEFAULT, DEFAULT_CLASSES, RetentionClass
from callisto_runtime import ServiceSettings


class RecordingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CALLISTO_RECORDING_", extra="ignore", frozen=True)

    http_port: int = Field(default=8105, ge=0, le=65535)
    database_url: str = "postgresql://postgres@127.0.0.1:5432/callisto"
    capture_dir: Path = Field(
        default=Path(".callisto/rtpengine/recordings"),
        description="rtpengine's --recording-dir (pcaps/ and metadata/ below it)",
    )
    store_dir: Path = Field(
        default=Path(".callisto/recordings"), description="where converted files are kept"
    )
    settle_s: float = Field(
        default=2.0, ge=0, le=300, description="after a call ends, how long before its capture is converted"
    )
    open_grace_s: float = Field(
        default=60.0,
        ge=1,
        le=3600,
        description="a segment without metadata this long after the end: converted",
    )
    workers: int = Field(default=1, ge=1, le=32, description="conversion processes")
    poll_s: float = Field(default=0.5, gt=0, le=60, description="how often due jobs are looked for")
    disk_low_free: float = Field(default=0.15, ge=0, le=1, description="free share under which to warn")
    disk_defer_free: float = Field(
        default=0.10, ge=0, le=1, description="free share of the store under which conversions wait"
    )
    disk_refuse_free: float = Field(
        default=0.05, ge=0, le=1, description="free share under which new recordings are refused"
    )
    disk_check_s: float = Field(default=10.0, gt=0, le=600, description="how often free space is measured")
    orphan_grace_s: float = Field(
        default=3600.0, ge=1, le=7 * 86400, description="capture files untouched this long are swept"
    )
    sweep_every_s: float = Field(default=300.0, gt=0, le=86400, description="how often captures are swept")
    retention: dict[str, RetentionClass] = Field(
        default_factory=lambda: dict(DEFAULT_CLASSES),
        description="retention classes by name (JSON); 'default' takes what no other class names",
    )
    archive_dir: Path | None = Field(
        default=None, description="the archive tier (classes with archive_after_days move there)"
    )
    purge_grace_s: float = Field(
        default=86400.0, ge=0, le=90 * 86400, description="a recording marked for deletion is purged after"
    )
    retention_every_s: float = Field(default=3600.0, gt=0, le=86400, description="how often retention runs")

    @field_validator("retention")
    @classmethod
    def _has_default(cls, classes: dict[str, RetentionClass]) -> dict[str, RetentionClass]:
        if DEFAULT not in classes:
            raise ValueError("the retention classes need a 'default' class")
        return classes
