"""Events call-manager publishes: call state changes, connect outcomes, IVR input, registrations."""

from __future__ import annotations

from callisto_protocol.calls import CallStateChanged
from callisto_protocol.queues import ConnectOutcome, ConnectResult
from callisto_protocol.telephony import IvrInput, RegistrationChanged
from callisto_runtime import Bus


class Notifier:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def call_state(self, event: CallStateChanged) -> None:
        await self.bus.publish(event)

    async def connect_outcome(
        self, call_id: str, agent_id: str, offer_id: str, result: ConnectResult
    ) -> None:
        await self.bus.publish(
            ConnectOutcome(call_id=call_id, agent_id=agent_id, offer_id=offer_id, result=result)
        )

    async def ivr_input(self, call_id: str, step: str, digits: str) -> None:
        await self.bus.publish(IvrInput(call_id=call_id, step=step, digits=digits))

    async def registration(self, agent_id: str, username: str, contacts: list[str], reason: str) -> None:
        await self.bus.publish(
            RegistrationChanged(
                agent_id=agent_id,
                username=username,
                registered=bool(contacts),
                contacts=contacts,
                reason=reason,
            )
        )
