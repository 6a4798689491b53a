"""Events call-manager publishes: call state changes, connect outcomes, IVR input, registrations,
supervision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from callisto_protocol.calls import CallStateChanged
from callisto_protocol.queues import ConnectOutcome, ConnectResult
from callisto_protocol.recordings import RecordingRefused
from callisto_protocol.telephony import IvrInput, ListenerChanged, ListenerMode, RegistrationChanged
from callisto_runtime import Bus

if TYPE_CHECKING:
    from callisto_call_manager.listening import Listener


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

    async def recording_refused(self, call_id: str, reason: str) -> None:
        await self.bus.publish(RecordingRefused(call_id=call_id, reason=reason[:500]), correlation_id=call_id)

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

    async def listener(self, listener: Listener, by: str, reason: str, *, stopped: bool = False) -> None:
        """Supervision, for the audit trail: who listens or whispers to which call, asked by whom."""
        await self.bus.publish(
            ListenerChanged(
                call_id=listener.call_id,
                listener_id=listener.id,
                username=listener.username,
                mode=ListenerMode.STOPPED if stopped else listener.mode,
                by=by[:200],
                reason=reason,
            )
        )
