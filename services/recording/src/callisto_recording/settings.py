from __future__ import annotations

import base64
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from callisto_recording.encode import OPUS_COMPLEXITY
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
        default=Path(".callisto/recordings"), description="where converted files are kept (storage local)"
    )
    work_dir: Path = Field(
        default=Path(".callisto/recording-work"),
        description="files being converted, sealed or rendered (local, on the store's filesystem if local)",
    )
    storage: Literal["local", "s3"] = Field(default="local", description="where the store is")
    s3_endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint (None: AWS)")
    s3_region: str = "us-east-1"
    s3_bucket: str = ""
    s3_prefix: str = Field(default="recordings/", description="the keys' prefix in the bucket")
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_server_side_encryption: Literal["", "AES256", "aws:kms"] = Field(
        default="AES256", description="asked of the object storage for every file ('' for none)"
    )
    s3_object_lock: bool = Field(
        default=False, description="the bucket has object lock: legal holds are mirrored on the objects"
    )
    archive_s3_bucket: str = Field(
        default="", description="the archive tier in this bucket (same endpoint) rather than archive_dir"
    )
    master_keys: dict[str, SecretStr] = Field(
        default_factory=dict, description="encryption at rest: master keys by id (base64 of 32 bytes)"
    )
    master_key_id: str | None = Field(
        default=None, description="the master key that wraps new recordings' keys (None: not sealed)"
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
    opus_complexity: int = Field(
        default=OPUS_COMPLEXITY,
        ge=0,
        le=10,
        description="libopus's effort: 1 converts about 340 times as fast as real time a core, 10 about 150 "
        "times with a log-spectral distance 0.3 dB better",
    )
    job_lease_s: float = Field(
        default=600.0,
        ge=1,
        le=86400,
        description="a conversion taken and not finished this long (its instance died) is taken again; "
        "longer than the longest call takes to convert",
    )
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

    @model_validator(mode="after")
    def _storage(self) -> RecordingSettings:
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("storage s3 needs s3_bucket")
        if self.master_key_id is not None and self.master_key_id not in self.master_keys:
            raise ValueError(f"master_key_id {self.master_key_id!r} is not among master_keys")
        for key_id, key in self.master_keys.items():
            if len(base64.b64decode(key.get_secret_value(), validate=True)) != 32:
                raise ValueError(f"master key {key_id!r} is not the base64 of 32 bytes")
        return self

    def master_key_bytes(self) -> dict[str, bytes]:
        return {key_id: base64.b64decode(key.get_secret_value()) for key_id, key in self.master_keys.items()}

    @field_validator("retention")
    @classmethod
    def _has_default(cls, classes: dict[str, RetentionClass]) -> dict[str, RetentionClass]:
        if DEFAULT not in classes:
            raise ValueError("the retention classes need a 'default' class")
        return classes
