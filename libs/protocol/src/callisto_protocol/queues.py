"""The ACD (queue-manager): calls waiting in queues, offers to agents, agent state commands.

call-manager sends ``Enqueue`` when the IVR has chosen a queue and ``Dequeue`` when a waiting caller
hangs up; queue-manager answers with the position and the expected wait, and publishes every step of a
call in a queue as a ``QueueCallEvent`` (the vocabulary of a queue log: enqueued, offered, answered,
missed, abandoned, overflowed, timed out). To connect a call it sends ``ConnectCall`` to call-manager,
which rings the agent and reports the outcome as a ``ConnectOutcome`` event.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from callisto_protocol.agents import AgentState
from callisto_protocol.ids import AgentId, CallId, QueueId, Token
from callisto_protocol.messages import Command, Event, Reply

Priority = int  # 0 (lowest) .. 100
CALLBACK_NUMBER_PATTERN = r"^\+?[0-9]{2,32}$"  # a number one can call back (not "anonymous", not "*21")


class Enqueued(Reply):
    message_type: ClassVar[str] = "queue.enqueued"
    call_id: CallId
    queue_id: QueueId
    position: int = Field(ge=1)
    expected_wait_s: float | None = Field(default=None, description="None while no agent is staffed")


class Enqueue(Command):
    """Put a call in a queue. Refused with ``queue-full``, ``queue-closed`` or ``queue-empty`` (no
    agent logged in and the queue does not accept callers then), each with the queue's overflow target
    in the details when it has one; an already waiting call gets its current position again."""

    message_type: ClassVar[str] = "queue.enqueue"
    subject: ClassVar[str] = "cc.rpc.queue-manager.enqueue"
    reply_type: ClassVar[type[Reply]] = Enqueued
    call_id: CallId
    queue_id: QueueId
    caller: str = Field(default="", max_length=128)
    priority: int = Field(default=0, ge=0, le=100)
    skills: dict[Token, int] = Field(default={}, max_length=20, description="extra skills: minimum levels")
    personal_agent_id: AgentId | None = Field(default=None, description="the caller's own agent")


class Dequeued(Reply):
    message_type: ClassVar[str] = "queue.dequeued"
    call_id: CallId
    queue_id: QueueId
    waited_s: float


class Dequeue(Command):
    """The caller left (hung up, chose a callback): take the call out of its queue or its offer."""

    message_type: ClassVar[str] = "queue.dequeue"
    subject: ClassVar[str] = "cc.rpc.queue-manager.dequeue"
    reply_type: ClassVar[type[Reply]] = Dequeued
    call_id: CallId
    reason: Token = "abandoned"


class AgentRequest(StrEnum):
    LOGIN = "login"
    READY = "ready"
    NOT_READY = "not_ready"
    LOGOUT = "logout"


class AgentStatus(Reply):
    message_type: ClassVar[str] = "queue.agent-status"
    agent_id: AgentId
    state: AgentState
    reason: str | None = None
    seq: int
    call_id: CallId | None = None


class SetAgentState(Command):
    """An agent (or a supervisor for them) asks for a state: log in, ready, not ready with a reason
    code, log out. Refused with ``invalid-transition`` when the agent's state does not allow it (e.g.
    ready while on a call: the agent becomes ready after the call's wrap-up)."""

    message_type: ClassVar[str] = "queue.set-agent-state"
    subject: ClassVar[str] = "cc.rpc.queue-manager.agent-state"
    reply_type: ClassVar[type[Reply]] = AgentStatus
    agent_id: AgentId
    request: AgentRequest
    reason: str | None = Field(default=None, max_length=100)


class QueueCallKind(StrEnum):
    ENQUEUED = "enqueued"
    OFFERED = "offered"
    ANSWERED = "answered"
    MISSED = "missed"  # the offered agent did not answer (or was busy): the call waits again
    ABANDONED = "abandoned"
    OVERFLOWED = "overflowed"
    TIMED_OUT = "timed_out"
    ENDED = "ended"  # the answered call ended
    CALLBACK = "callback"  # a callback joined the queue (a waiting caller left their number for it)
    UNREACHED = "unreached"  # a callback's customer did not answer: tried again later or given up


class QueueCallEvent(Event):
    """One step of a call in a queue (the queue log). ``position`` and ``expected_wait_s`` are those
    after the step for the waiting call it concerns."""

    message_type: ClassVar[str] = "queue.call"
    subject: ClassVar[str] = "cc.queue.{queue_id}.call.{step}"
    publisher: ClassVar[str] = "queue-manager"
    queue_id: QueueId
    step: QueueCallKind
    call_id: CallId
    at: datetime
    caller: str = Field(default="", max_length=128)
    priority: int = 0
    agent_id: AgentId | None = None
    waited_s: float = 0.0
    position: int | None = None
    expected_wait_s: float | None = None
    target: str | None = Field(default=None, max_length=128, description="overflow target")
    reason: str | None = Field(default=None, max_length=100)


class CallDisposed(Event):
    """The agent said how an answered call ended (a disposition code of the call's queue) and noted
    what matters, during or after its wrap-up. The latest one of a call counts."""

    message_type: ClassVar[str] = "queue.call-disposed"
    subject: ClassVar[str] = "cc.queue.{queue_id}.disposed"
    publisher: ClassVar[str] = "queue-manager"
    call_id: CallId
    queue_id: QueueId
    agent_id: AgentId
    disposition: Token | None = None
    note: str = Field(default="", max_length=2000)
    at: datetime
    by: str | None = Field(default=None, max_length=128, description="who said it (a token's subject)")


class ConnectAccepted(Reply):
    message_type: ClassVar[str] = "call.connect-accepted"
    call_id: CallId
    agent_id: AgentId


class ConnectCall(Command):
    """Ring the agent's phone and bridge the call on answer; the outcome comes as ``ConnectOutcome``
    within ``ring_timeout_s`` (plus a margin)."""

    message_type: ClassVar[str] = "call.connect"
    subject: ClassVar[str] = "cc.rpc.call-manager.connect"
    reply_type: ClassVar[type[Reply]] = ConnectAccepted
    call_id: CallId
    agent_id: AgentId
    offer_id: Token
    ring_timeout_s: float = Field(gt=0, le=300)


class ConnectResult(StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"  # the phone is not registered or the call could not be placed
    CALLER_GONE = "caller_gone"
    INTERRUPTED = "interrupted"  # call-manager's active changed while it rang: nobody's fault, ring again


class ConnectOutcome(Event):
    """What became of a ``ConnectCall``; ``offer_id`` ties it to the offer."""

    message_type: ClassVar[str] = "call.connect-outcome"
    subject: ClassVar[str] = "cc.call.{call_id}.connect"
    publisher: ClassVar[str] = "call-manager"
    call_id: CallId
    agent_id: AgentId
    offer_id: Token
    result: ConnectResult


class CallbackAccepted(Reply):
    message_type: ClassVar[str] = "queue.callback-accepted"
    callback_id: CallId
    queue_id: QueueId
    position: int | None = Field(default=None, description="None until its window opens")
    expected_wait_s: float | None = None
    not_before: datetime | None = None


class RequestCallback(Command):
    """Leave a callback: queue-manager keeps it in line like a call (a waiting caller's callback takes
    that call's place), and when an agent is free and the window is open it asks call-manager to ring
    the agent first, then ``number``. An unanswered customer is tried again ``retry_after_s`` later, up
    to ``attempts`` times. ``Dequeue`` with the callback id cancels it."""

    message_type: ClassVar[str] = "queue.request-callback"
    subject: ClassVar[str] = "cc.rpc.queue-manager.callback"
    reply_type: ClassVar[type[Reply]] = CallbackAccepted
    queue_id: QueueId
    number: str = Field(pattern=CALLBACK_NUMBER_PATTERN)
    name: str = Field(default="", max_length=128)
    replaces_call_id: CallId | None = Field(default=None, description="the waiting call it stands for")
    not_before: datetime | None = None
    not_after: datetime | None = None
    priority: int = Field(default=0, ge=0, le=100)
    attempts: int = Field(default=3, ge=1, le=10)
    retry_after_s: float = Field(default=300.0, ge=10, le=86400)
