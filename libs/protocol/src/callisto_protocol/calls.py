"""Calls: the summary of a call's state every other service sees. call-manager owns calls."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from callisto_protocol.ids import AgentId, CallId, QueueId
from callisto_protocol.messages import Event


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class CallState(StrEnum):
    CREATED = "created"
    IVR = "ivr"
    QUEUED = "queued"
    RINGING = "ringing"
    CONNECTED = "connected"
    HELD = "held"
    ENDED = "ended"


class EndedBy(StrEnum):
    CALLER = "caller"
    AGENT = "agent"
    SYSTEM = "system"  # IVR hang-up, a command, a failure, a timeout


class CallStateChanged(Event):
    """A call entered a state; ``seq`` grows by one per change of that call."""

    message_type: ClassVar[str] = "call.state"
    subject: ClassVar[str] = "cc.call.{call_id}.state"
    publisher: ClassVar[str] = "call-manager"
    call_id: CallId
    seq: int = Field(ge=0)
    state: CallState
    since: datetime
    direction: CallDirection = CallDirection.INBOUND
    caller: str = Field(default="", max_length=128)
    dialled: str = Field(default="", max_length=128)
    queue_id: QueueId | None = None
    agent_id: AgentId | None = None
    trunk: str | None = Field(default=None, max_length=64)
    ended_by: EndedBy | None = Field(default=None, description="who hung up (state ended)")
    sip_status: int | None = Field(default=None, ge=100, le=699, description="the SIP cause of the end")

    @property
    def failed(self) -> bool:
        """Ended by the system with a failure status: an originated call that never reached its
        customer (see ``OriginateCall``)."""
        return self.ended_by is EndedBy.SYSTEM and (self.sip_status or 0) >= 300
