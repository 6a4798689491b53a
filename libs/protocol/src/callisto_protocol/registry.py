"""Service registry: heartbeats of running instances and what core-bus concludes from them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from callisto_protocol.ids import InstanceId, ServiceName
from callisto_protocol.messages import Event

HEARTBEAT_INTERVAL_S = 1.0
MISSED_HEARTBEATS_GONE = 3


class InstanceRole(StrEnum):
    """``active`` serves; ``standby`` waits for a singleton's lease. Stateless workers are active."""

    ACTIVE = "active"
    STANDBY = "standby"


class InstanceState(StrEnum):
    ALIVE = "alive"
    GONE = "gone"


class InstanceDescription(BaseModel):
    """What an instance says of itself in every heartbeat."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    service: ServiceName
    instance: InstanceId
    version: str = Field(max_length=64)
    host: str = Field(max_length=255)
    http_url: str = Field(max_length=255)
    role: InstanceRole = InstanceRole.ACTIVE
    ready: bool
    draining: bool = False
    checks: dict[str, bool] = {}
    started_at: datetime


class ServiceHeartbeat(Event, InstanceDescription):
    """Sent by every instance once per ``interval_s``; three missed ones mark it gone."""

    message_type: ClassVar[str] = "registry.heartbeat"
    subject: ClassVar[str] = "cc.registry.{service}.{instance}.heartbeat"
    publisher: ClassVar[str] = "{service}"
    interval_s: float = Field(default=HEARTBEAT_INTERVAL_S, gt=0, le=60)


class InstanceStatus(InstanceDescription):
    """The registry's view of one instance."""

    state: InstanceState
    first_seen: datetime
    last_seen: datetime


class ServiceRegistered(Event):
    """An instance was seen for the first time (or again, after it was gone)."""

    message_type: ClassVar[str] = "registry.registered"
    subject: ClassVar[str] = "cc.registry.{service}.{instance}.registered"
    publisher: ClassVar[str] = "core-bus"
    service: ServiceName
    instance: InstanceId
    status: InstanceStatus


class ServiceChanged(Event):
    """An instance's role, readiness or draining flag changed."""

    message_type: ClassVar[str] = "registry.changed"
    subject: ClassVar[str] = "cc.registry.{service}.{instance}.changed"
    publisher: ClassVar[str] = "core-bus"
    service: ServiceName
    instance: InstanceId
    status: InstanceStatus


class ServiceGone(Event):
    """An instance missed three heartbeats in a row."""

    message_type: ClassVar[str] = "registry.gone"
    subject: ClassVar[str] = "cc.registry.{service}.{instance}.gone"
    publisher: ClassVar[str] = "core-bus"
    service: ServiceName
    instance: InstanceId
    last_seen: datetime
