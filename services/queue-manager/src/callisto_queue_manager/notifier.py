"""The only place queue-manager publishes from: agent states, the steps of calls in queues, help
requests and calls' dispositions."""

from __future__ import annotations

from callisto_protocol.agents import AgentStateChanged
from callisto_protocol.help import HelpRequestChanged
from callisto_protocol.queues import CallDisposed, QueueCallEvent
from callisto_runtime import Bus


class Notifier:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def agent_state(self, event: AgentStateChanged) -> None:
        await self.bus.publish(event, correlation_id=event.call_id)

    async def queue_step(self, event: QueueCallEvent) -> None:
        await self.bus.publish(event, correlation_id=event.call_id)

    async def help_changed(self, event: HelpRequestChanged) -> None:
        await self.bus.publish(event)

    async def disposed(self, event: CallDisposed) -> None:
        await self.bus.publish(event, correlation_id=event.call_id)
