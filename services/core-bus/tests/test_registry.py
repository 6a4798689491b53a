"""The registry's transitions and the suite's health, with an explicit clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callisto_core_bus.registry import Registry, Transition
from callisto_protocol.control import HealthStatus
from callisto_protocol.registry import InstanceRole, InstanceState, ServiceHeartbeat

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def beat(service: str = "auth", instance: str = "a1", **changes: object) -> ServiceHeartbeat:
    fields: dict[str, object] = dict(
        service=service,
        instance=instance,
        version="1",
        host="h",
        http_url="http://h:1",
        ready=True,
        started_at=T0,
        interval_s=1.0,
    )
    fields.update(changes)
    return ServiceHeartbeat.model_validate(fields)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_first_heartbeat_registers_and_repeats_change_nothing() -> None:
    reg = Registry()
    change = reg.observe(beat(), at(0))
    assert change is not None and change.transition is Transition.REGISTERED
    assert reg.observe(beat(), at(1)) is None
    assert reg.get("auth", "a1").last_seen == at(1)  # type: ignore[union-attr]


@pytest.mark.parametrize("field", [{"ready": False}, {"role": InstanceRole.STANDBY}, {"draining": True}])
def test_role_readiness_and_draining_changes_are_transitions(field: dict[str, object]) -> None:
    reg = Registry()
    reg.observe(beat(), at(0))
    change = reg.observe(beat(**field), at(1))
    assert change is not None and change.transition is Transition.CHANGED


def test_gone_after_three_missed_heartbeats_of_its_own_interval_then_forgotten() -> None:
    reg = Registry(missed=3, retention_s=60)
    reg.observe(beat(interval_s=0.5), at(0))
    assert reg.sweep(at(1.4)) == []
    gone = reg.sweep(at(1.6))
    assert [c.transition for c in gone] == [Transition.GONE]
    assert gone[0].status.state is InstanceState.GONE and gone[0].status.ready is False
    assert reg.sweep(at(2.0)) == []  # reported once
    assert reg.instances() != []
    reg.sweep(at(62))
    assert reg.instances() == []


def test_a_gone_instance_that_beats_again_registers_again() -> None:
    reg = Registry()
    reg.observe(beat(), at(0))
    reg.sweep(at(10))
    change = reg.observe(beat(), at(11))
    assert change is not None and change.transition is Transition.REGISTERED
    assert change.status.first_seen == at(11)


def test_restore_keeps_the_newest_view() -> None:
    reg = Registry()
    reg.observe(beat(), at(5))
    older = reg.get("auth", "a1").model_copy(update={"last_seen": at(1), "ready": False})  # type: ignore[union-attr]
    reg.restore(older)
    assert reg.get("auth", "a1").ready is True  # type: ignore[union-attr]


def test_health_of_the_suite() -> None:
    reg = Registry()
    assert reg.health(at(0)).status is HealthStatus.DOWN  # nothing known
    reg.observe(beat("auth", "a1"), at(0))
    reg.observe(beat("queue-manager", "q1"), at(0))
    reg.observe(beat("queue-manager", "q2", role=InstanceRole.STANDBY), at(0))
    assert reg.health(at(0)).status is HealthStatus.OK
    reg.observe(beat("auth", "a2", ready=False, checks={"postgres": False}), at(0))
    health = reg.health(at(0))
    auth = next(s for s in health.services if s.service == "auth")
    assert (health.status, auth.status, auth.failing_checks) == (
        HealthStatus.DEGRADED,
        HealthStatus.DEGRADED,
        ["postgres"],
    )
    reg.observe(beat("queue-manager", "q1", role=InstanceRole.STANDBY), at(0))  # no active instance
    qm = next(s for s in reg.health(at(0)).services if s.service == "queue-manager")
    assert (qm.status, qm.active, qm.standby) == (HealthStatus.DOWN, 0, 2)
