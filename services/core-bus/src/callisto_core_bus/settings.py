from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from callisto_runtime import ServiceSettings


class CoreBusSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CALLISTO_CORE_BUS_", extra="ignore", frozen=True)

    http_port: int = Field(default=8100, ge=0, le=65535)
    missed_heartbeats_gone: int = Field(default=3, ge=1, le=20)
    gone_retention_s: float = Field(default=300.0, ge=0)
    sweep_every_s: float = Field(default=0.25, gt=0, le=5)
    list_snapshot_every_s: float = Field(default=5.0, gt=0)
    list_delta_every_s: float = Field(default=0.2, gt=0)
    gateway_queue_limit: int = Field(
        default=1000,
        ge=10,
        le=100_000,
        description="events waiting for one WebSocket client before it is dropped",
    )
    gateway_auth_timeout_s: float = Field(default=5.0, gt=0, le=60)
    # the operator client's build (clients/operator/dist): served at / and /assets when given
    client_dir: Path | None = None
    # where the client's browser phone registers (call-manager's SIP over WebSocket), as browsers reach it
    client_sip_url: str = Field(default="ws://127.0.0.1:5066", pattern=r"^wss?://")
    # an external CRM shown beside the phone: a URL template with {caller}, {call_id}, {contact_id},
    # {agent_id}; the frame also gets postMessage events (clients/operator/README.md)
    client_crm_url: str | None = Field(default=None, pattern=r"^(https?://|/)", max_length=2000)
    # the supervisors' link to snitch's wallboard
    client_wallboard_url: str | None = Field(default=None, pattern=r"^https?://", max_length=2000)
    # backups over the control API and on a schedule (libs/backup): where to, and what to read
    backup_dir: Path | None = Field(default=None, description="where backups are kept; unset: no backups")
    backup_database_url: SecretStr | None = Field(
        default=None, description="the PostgreSQL database every service's schema lives in"
    )
    backup_redis_url: str | None = Field(default=None, description="the Redis database of the live state")
    backup_every_s: float = Field(
        default=0.0, ge=0, description="a scheduled backup this often by the active instance (0: none)"
    )
    backup_keep: int = Field(default=7, ge=1, le=10_000, description="scheduled backups kept; older ones go")
