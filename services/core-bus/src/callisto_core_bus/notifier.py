"""The only place core-bus publishes from."""

from __future__ import annotations

from callisto_protocol.lists import (
    AgentEntry,
    AgentListDelta,
    AgentListSnapshot,
    CallEntry,
    CallListDelta,
    CallListSnapshot,
)
from callisto_protocol.registry import InstanceStatus, ServiceChanged, ServiceGone, ServiceRegistered
from callisto_runtime import Bus


class Notifier:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def instance_registered(self, status: InstanceStatus) -> None:
        await self.bus.publish(
            ServiceRegistered(service=status.service, instance=status.instance, status=status)
        )

    async def instance_changed(self, status: InstanceStatus) -> None:
        await self.bus.publish(
            ServiceChanged(service=status.service, instance=status.instance, status=status)
        )

    async def instance_gone(self, status: InstanceStatus) -> None:
        await self.bus.publish(
            ServiceGone(service=status.service, instance=status.instance, last_seen=status.last_seen)
        )

    async def agent_delta(self, seq: int, upserted: list[AgentEntry], removed: list[str]) -> None:
        await self.bus.publish(AgentListDelta(seq=seq, upserted=upserted, removed=removed))

    async def agent_snapshot(self, seq: int, agents: list[AgentEntry]) -> None:
        await self.bus.publish(AgentListSnapshot(seq=seq, agents=agents))

    async def call_delta(self, seq: int, upserted: list[CallEntry], removed: list[str]) -> None:
        await self.bus.publish(CallListDelta(seq=seq, upserted=upserted, removed=removed))

    async def call_snapshot(self, seq: int, calls: list[CallEntry]) -> None:
        await self.bus.publish(CallListSnapshot(seq=seq, calls=calls))
