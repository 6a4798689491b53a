"""Help requests: an operator asks a supervisor for assistance (queue-manager keeps them).

A request is raised (optionally about a call), broadcast to supervisors, accepted by one of them
(the others see it taken), and closed when done; the operator may cancel it while nobody has taken
it. Unanswered past its deadline it is escalated one level (and its deadline renewed), so it reaches
more senior people. Every change is a ``HelpRequestChanged`` event, kept by the events stream.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from callisto_protocol.ids import AgentId, CallId, Token
from callisto_protocol.messages import Command, Event, Reply


class HelpState(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"
    CLOSED = "closed"


class HelpRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    request_id: Token
    agent_id: AgentId
    state: HelpState
    reason: str = Field(max_length=200)
    call_id: CallId | None = None
    level: int = Field(default=1, ge=1, description="1 = supervisors; each escalation adds one")
    raised_at: datetime
    deadline: datetime | None = Field(default=None, description="answer by then or it is escalated")
    supervisor_id: AgentId | None = None
    accepted_at: datetime | None = None
    ended_at: datetime | None = None
    note: str = Field(default="", max_length=500)


class HelpStatus(Reply):
    message_type: ClassVar[str] = "help.status"
    request: HelpRequest


class RaiseHelp(Command):
    message_type: ClassVar[str] = "help.raise"
    subject: ClassVar[str] = "cc.rpc.queue-manager.help-raise"
    reply_type: ClassVar[type[Reply]] = HelpStatus
    agent_id: AgentId
    reason: str = Field(min_length=1, max_length=200)
    call_id: CallId | None = None


class AcceptHelp(Command):
    """A supervisor takes the request; refused with ``help-taken`` when another one was first."""

    message_type: ClassVar[str] = "help.accept"
    subject: ClassVar[str] = "cc.rpc.queue-manager.help-accept"
    reply_type: ClassVar[type[Reply]] = HelpStatus
    request_id: Token
    supervisor_id: AgentId


class CancelHelp(Command):
    """The operator withdraws their open request."""

    message_type: ClassVar[str] = "help.cancel"
    subject: ClassVar[str] = "cc.rpc.queue-manager.help-cancel"
    reply_type: ClassVar[type[Reply]] = HelpStatus
    request_id: Token
    agent_id: AgentId


class CloseHelp(Command):
    """The supervisor who took the request (or any supervisor) marks it done."""

    message_type: ClassVar[str] = "help.close"
    subject: ClassVar[str] = "cc.rpc.queue-manager.help-close"
    reply_type: ClassVar[type[Reply]] = HelpStatus
    request_id: Token
    note: str = Field(default="", max_length=500)


class HelpRequestChanged(Event):
    message_type: ClassVar[str] = "help.changed"
    subject: ClassVar[str] = "cc.agent.{agent_id}.help"
    publisher: ClassVar[str] = "queue-manager"
    agent_id: AgentId
    step: Token = Field(description="raised, accepted, escalated, cancelled or closed")
    request: HelpRequest
