"""Control of the suite: listing services, their health, draining an instance."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from callisto_protocol.ids import InstanceId, ServiceName
from callisto_protocol.messages import Command, Reply
from callisto_protocol.registry import InstanceStatus


class HealthStatus(StrEnum):
    OK = "ok"  # every known service has a ready instance
    DEGRADED = "degraded"  # some service has no ready instance
    DOWN = "down"  # no service has a ready instance


class ServiceHealth(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: ServiceName
    status: HealthStatus
    alive: int
    ready: int
    active: int
    standby: int
    draining: int
    gone: int
    failing_checks: list[str] = []


class ServiceList(Reply):
    message_type: ClassVar[str] = "control.service-list"
    instances: list[InstanceStatus]


class ListServices(Command):
    """Every instance core-bus knows of, alive or recently gone."""

    message_type: ClassVar[str] = "control.list-services"
    subject: ClassVar[str] = "cc.rpc.core-bus.list-services"
    reply_type: ClassVar[type[Reply]] = ServiceList
    service: ServiceName | None = None


class SuiteHealth(Reply):
    message_type: ClassVar[str] = "control.suite-health"
    status: HealthStatus
    checked_at: datetime
    services: list[ServiceHealth]


class GetSuiteHealth(Command):
    message_type: ClassVar[str] = "control.get-suite-health"
    subject: ClassVar[str] = "cc.rpc.core-bus.health"
    reply_type: ClassVar[type[Reply]] = SuiteHealth


class DrainStarted(Reply):
    message_type: ClassVar[str] = "control.drain-started"
    service: ServiceName
    instance: InstanceId
    already_draining: bool


class DrainInstance(Command):
    """Ask one instance to stop taking new work (it finishes what it has and reports not-ready)."""

    message_type: ClassVar[str] = "control.drain"
    subject: ClassVar[str] = "cc.control.{service}.{instance}.drain"
    reply_type: ClassVar[type[Reply]] = DrainStarted
    service: ServiceName
    instance: InstanceId
    reason: str = ""
