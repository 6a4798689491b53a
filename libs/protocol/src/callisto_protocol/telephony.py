"""Telephony (call-manager): call control commands, IVR input and softphone registrations.

Queue-manager, the dialer, operators' clients and integrators steer live calls with these commands;
every change they cause shows as a ``CallStateChanged`` event. ``ConnectCall`` and ``ConnectOutcome``
live with the ACD messages (``queues``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from callisto_protocol.calls import CallState
from callisto_protocol.ids import AgentId, CallId, QueueId, Token
from callisto_protocol.lists import CallEntry
from callisto_protocol.messages import Command, Event, Reply

PhoneNumber = str  # digits, optionally a leading +; checked by the pattern below
NUMBER_PATTERN = r"^\+?[0-9*#]{1,32}$"


class CallControlled(Reply):
    """The command was carried out (or is under way); ``state`` is the call's state now."""

    message_type: ClassVar[str] = "call.controlled"
    call_id: CallId
    state: CallState


class HangupCall(Command):
    """End the call; with ``prompt``, that dial-plan prompt is said to the caller first (the dialer's
    message to an answered customer no agent could take), the reply coming as it starts."""

    message_type: ClassVar[str] = "call.hangup"
    subject: ClassVar[str] = "cc.rpc.call-manager.hangup"
    reply_type: ClassVar[type[Reply]] = CallControlled
    call_id: CallId
    reason: Token = "command"
    prompt: Token | None = None


class HoldCall(Command):
    """Put the caller on hold (music) or take them off it; the agent leg stays up."""

    message_type: ClassVar[str] = "call.hold"
    subject: ClassVar[str] = "cc.rpc.call-manager.hold"
    reply_type: ClassVar[type[Reply]] = CallControlled
    call_id: CallId
    hold: bool = True


class TransferKind(StrEnum):
    AGENT = "agent"
    QUEUE = "queue"
    NUMBER = "number"


class TransferCall(Command):
    """Blind transfer of the caller: the current agent leg ends, the caller is rung through to the
    target (an agent's phone, a queue, or a number through the trunk)."""

    message_type: ClassVar[str] = "call.transfer"
    subject: ClassVar[str] = "cc.rpc.call-manager.transfer"
    reply_type: ClassVar[type[Reply]] = CallControlled
    call_id: CallId
    target_kind: TransferKind
    target: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+*#-]+$")


class OriginateCall(Command):
    """Place a call: ring ``agent_id`` first when given (click-to-call, callbacks), then dial
    ``number`` through the trunk and bridge both; without an agent the answered call goes to
    ``queue_id`` (the dialer's progressive and predictive modes), or hears ``message`` and is cleared,
    unless ``press_key`` is pressed during it or within 5 s after: then it goes to ``queue_id`` (the
    dialer's agentless mode). A call hearing its message is in state ``ivr``.

    ``call_id`` names the new call (refused with ``call-exists`` while a call of that id lives);
    with ``offer_id`` the agent's ring is reported as a ``ConnectOutcome`` like a ``ConnectCall``'s.
    A call that ends by the system with ``sip_status`` 300 or more never reached the customer."""

    message_type: ClassVar[str] = "call.originate"
    subject: ClassVar[str] = "cc.rpc.call-manager.originate"
    reply_type: ClassVar[type[Reply]] = CallControlled
    number: PhoneNumber = Field(pattern=NUMBER_PATTERN)
    agent_id: AgentId | None = None
    queue_id: QueueId | None = None
    caller_id: PhoneNumber | None = Field(default=None, pattern=NUMBER_PATTERN)
    ring_timeout_s: float = Field(default=30, gt=0, le=300)
    call_id: CallId | None = None
    offer_id: Token | None = None
    campaign_id: Token | None = Field(
        default=None, description="the dialer's campaign (recording policy rules may name it)"
    )
    message: Token | None = Field(
        default=None, description="without an agent: this dial-plan prompt is said when the customer answers"
    )
    press_key: str | None = Field(
        default=None,
        pattern=r"^[0-9*#]$",
        description="with a message: this key puts them through to queue_id",
    )


class CancelConnect(Command):
    """Stop ringing an agent for an offer the ACD withdrew (the other phones of a ring-all call once
    one agent answered, an offer released by the agent); nothing happens when the ring is over."""

    message_type: ClassVar[str] = "call.cancel-connect"
    subject: ClassVar[str] = "cc.rpc.call-manager.cancel-connect"
    reply_type: ClassVar[type[Reply]] = CallControlled
    call_id: CallId
    offer_id: Token


class LiveCalls(Reply):
    message_type: ClassVar[str] = "call.live-calls"
    calls: list[CallEntry]


class ListCalls(Command):
    """The calls call-manager runs now (queue-manager reconciles its agents and queues with them)."""

    message_type: ClassVar[str] = "call.list"
    subject: ClassVar[str] = "cc.rpc.call-manager.calls"
    reply_type: ClassVar[type[Reply]] = LiveCalls


class RecordAction(StrEnum):
    START = "start"
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"


class RecordCall(Command):
    message_type: ClassVar[str] = "call.record"
    subject: ClassVar[str] = "cc.rpc.call-manager.record"
    reply_type: ClassVar[type[Reply]] = CallControlled
    call_id: CallId
    action: RecordAction


class ListenerMode(StrEnum):
    LISTENING = "listening"  # the supervisor hears both parties, nobody hears them
    WHISPERING = "whispering"  # and speaks to the agent, whom the customer does not hear
    STOPPED = "stopped"


class ListenerState(Reply):
    message_type: ClassVar[str] = "call.listener"
    listener_id: Token
    call_id: CallId
    username: str = Field(max_length=100, description="whose phone listens")
    mode: ListenerMode


class ListenToCall(Command):
    """A supervisor's phone (a browser or a SIP phone, by its SIP username) rings with the call's
    audio and answers by itself; with ``whisper`` the supervisor is also heard by the agent only."""

    message_type: ClassVar[str] = "call.listen"
    subject: ClassVar[str] = "cc.rpc.call-manager.listen"
    reply_type: ClassVar[type[Reply]] = ListenerState
    call_id: CallId
    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._+-]+$")
    whisper: bool = False


class ChangeListener(Command):
    """Start or stop whispering, or stop listening (``stopped``: the supervisor's sessions end)."""

    message_type: ClassVar[str] = "call.listener-change"
    subject: ClassVar[str] = "cc.rpc.call-manager.listener"
    reply_type: ClassVar[type[Reply]] = ListenerState
    call_id: CallId
    listener_id: Token
    mode: ListenerMode


class ListenerChanged(Event):
    """Supervision of a call, for the audit trail and live views: who listens or whispers, whose
    request it was (``by``: the token's subject), and when it stopped (the supervisor hung up, was
    stopped, the call ended or its agent changed)."""

    message_type: ClassVar[str] = "call.listener-changed"
    subject: ClassVar[str] = "cc.call.{call_id}.listener"
    publisher: ClassVar[str] = "call-manager"
    call_id: CallId
    listener_id: Token
    username: str = Field(max_length=100)
    mode: ListenerMode
    by: str = Field(max_length=200)
    reason: Token = "request"


class IvrInput(Event):
    """Digits a caller keyed in an IVR step (a menu choice or collected digits)."""

    message_type: ClassVar[str] = "call.ivr-input"
    subject: ClassVar[str] = "cc.call.{call_id}.ivr"
    publisher: ClassVar[str] = "call-manager"
    call_id: CallId
    step: Token
    digits: str = Field(max_length=64, pattern=r"^[0-9*#A-D]*$")


class RegistrationChanged(Event):
    """An agent's softphone registered, refreshed to another contact, or went away (expired,
    unregistered, stopped answering OPTIONS)."""

    message_type: ClassVar[str] = "call.registration"
    subject: ClassVar[str] = "cc.agent.{agent_id}.registration"
    publisher: ClassVar[str] = "call-manager"
    agent_id: AgentId
    username: str = Field(max_length=100)
    registered: bool
    contacts: list[str] = Field(default=[], max_length=10)
    reason: Token = "register"
