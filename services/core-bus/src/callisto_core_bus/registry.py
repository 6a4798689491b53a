"""The registry of running instances: pure logic, fed heartbeats and the time.

An instance is alive from its first heartbeat; it is gone once ``missed`` heartbeat intervals (its
own announced interval) pass without one, and forgotten ``retention_s`` after that. ``observe`` and
``sweep`` return what changed, so the caller publishes exactly one event per transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from callisto_protocol.control import HealthStatus, ServiceHealth, SuiteHealth
from callisto_protocol.registry import InstanceRole, InstanceState, InstanceStatus, ServiceHeartbeat

_DESCRIPTION_FIELDS = ("version", "host", "http_url", "role", "ready", "draining", "checks", "started_at")
_CHANGE_FIELDS = ("role", "ready", "draining")


class Transition(StrEnum):
    REGISTERED = "registered"
    CHANGED = "changed"
    GONE = "gone"
    FORGOTTEN = "forgotten"  # gone for longer than the retention: removed here and from the store


@dataclass(frozen=True, slots=True)
class Change:
    transition: Transition
    status: InstanceStatus


class Registry:
    def __init__(self, missed: int = 3, retention_s: float = 300.0) -> None:
        self.missed = missed
        self.retention = timedelta(seconds=retention_s)
        self._instances: dict[tuple[str, str], InstanceStatus] = {}
        self._intervals: dict[tuple[str, str], float] = {}

    def observe(self, beat: ServiceHeartbeat, now: datetime) -> Change | None:
        key = (beat.service, beat.instance)
        old = self._instances.get(key)
        description = {name: getattr(beat, name) for name in _DESCRIPTION_FIELDS}
        self._intervals[key] = beat.interval_s
        if old is None or old.state is InstanceState.GONE:
            status = InstanceStatus(
                service=beat.service,
                instance=beat.instance,
                state=InstanceState.ALIVE,
                first_seen=now,
                last_seen=now,
                **description,
            )
            self._instances[key] = status
            return Change(Transition.REGISTERED, status)
        status = old.model_copy(update={**description, "last_seen": now})
        self._instances[key] = status
        if any(getattr(old, f) != getattr(status, f) for f in _CHANGE_FIELDS):
            return Change(Transition.CHANGED, status)
        return None

    def sweep(self, now: datetime) -> list[Change]:
        """Mark silent instances gone and forget long-gone ones (both reported as changes)."""
        changes: list[Change] = []
        for key, status in list(self._instances.items()):
            silence = now - status.last_seen
            if status.state is InstanceState.ALIVE:
                if silence > timedelta(seconds=self._intervals.get(key, 1.0) * self.missed):
                    gone = status.model_copy(update={"state": InstanceState.GONE, "ready": False})
                    self._instances[key] = gone
                    changes.append(Change(Transition.GONE, gone))
            elif silence > self.retention:
                del self._instances[key]
                self._intervals.pop(key, None)
                changes.append(Change(Transition.FORGOTTEN, status))
        return changes

    def restore(self, status: InstanceStatus) -> None:
        """Take an entry from the shared store (written by a previous active instance)."""
        key = (status.service, status.instance)
        current = self._instances.get(key)
        if current is None or current.last_seen < status.last_seen:
            self._instances[key] = status

    def instances(self, service: str | None = None) -> list[InstanceStatus]:
        found = [s for s in self._instances.values() if service is None or s.service == service]
        return sorted(found, key=lambda s: (s.service, s.instance))

    def get(self, service: str, instance: str) -> InstanceStatus | None:
        return self._instances.get((service, instance))

    def services(self) -> list[str]:
        return sorted({s.service for s in self._instances.values()})

    def health(self, now: datetime) -> SuiteHealth:
        per_service = [self._service_health(name) for name in self.services()]
        if not per_service or all(h.status is HealthStatus.DOWN for h in per_service):
            overall = HealthStatus.DOWN
        elif all(h.status is HealthStatus.OK for h in per_service):
            overall = HealthStatus.OK
        else:
            overall = HealthStatus.DEGRADED
        return SuiteHealth(status=overall, checked_at=now, services=per_service)

    def _service_health(self, service: str) -> ServiceHealth:
        instances = self.instances(service)
        alive = [s for s in instances if s.state is InstanceState.ALIVE]
        ready = [s for s in alive if s.ready]
        active_ready = [s for s in ready if s.role is InstanceRole.ACTIVE]
        failing = sorted({name for s in alive for name, ok in s.checks.items() if not ok})
        if not ready or not active_ready:
            status = HealthStatus.DOWN
        elif len(ready) < len(alive) or len(alive) < len(instances):
            status = HealthStatus.DEGRADED
        else:
            status = HealthStatus.OK
        return ServiceHealth(
            service=service,
            status=status,
            alive=len(alive),
            ready=len(ready),
            active=sum(1 for s in alive if s.role is InstanceRole.ACTIVE),
            standby=sum(1 for s in alive if s.role is InstanceRole.STANDBY),
            draining=sum(1 for s in alive if s.draining),
            gone=len(instances) - len(alive),
            failing_checks=failing,
        )
