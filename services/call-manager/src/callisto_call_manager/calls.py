"""Live calls: the model, the one place their state changes, and their write-through to Redis.

A call is two legs: the caller's dialog (trunk side) and at most one agent dialog. Its state machine:

    created -> ivr -> queued -> ringing -> connected <-> held
                 \\-> ringing (direct transfer)   connected -> queued / ringing (blind transfer)
    any state -> ended

Every change bumps ``seq``, is written to Redis (``cm:calls``, one JSON per call) and is published as
``CallStateChanged``; so a standby (or this instance after a restart) rebuilds the table exactly.
Writes are fenced by the lease (``callisto_runtime.fencing``): an active that lost its lease writes
nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from callisto_call_manager.errors import InvalidCallState, UnknownCall
from callisto_call_manager.notifier import Notifier
from callisto_protocol.calls import CallDirection, CallState, CallStateChanged, EndedBy
from callisto_runtime.fencing import FencedWriter

S = CallState
TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    S.CREATED: frozenset({S.IVR, S.QUEUED, S.RINGING, S.ENDED}),
    S.IVR: frozenset({S.QUEUED, S.RINGING, S.ENDED}),
    S.QUEUED: frozenset({S.RINGING, S.ENDED}),
    S.RINGING: frozenset({S.CONNECTED, S.IVR, S.QUEUED, S.RINGING, S.ENDED}),  # IVR: an outbound message
    S.CONNECTED: frozenset({S.HELD, S.QUEUED, S.RINGING, S.ENDED}),
    S.HELD: frozenset({S.CONNECTED, S.QUEUED, S.RINGING, S.ENDED}),
    S.ENDED: frozenset(),
}


@dataclass(frozen=True)
class QueueRequest:
    """Where the IVR or a transfer sends a caller."""

    queue_id: str
    priority: int = 0
    skills: dict[str, int] = field(default_factory=dict)
    announce: bool = True
    hold_music: str | None = "hold"
    callback_after_s: float | None = None  # offer a callback from this expected wait on
    callback_key: str = "1"


@dataclass
class LegRecord:
    """What is needed to send requests in a dialog after a restart (RFC 3261 section 12)."""

    call_id: str
    local: str
    remote: str
    remote_target: str
    route_set: list[str]
    local_seq: int
    remote_seq: int | None
    protocol: str


@dataclass
class Call:
    id: str
    direction: CallDirection
    caller: str
    dialled: str
    trunk: str | None = None
    state: CallState = CallState.CREATED
    seq: int = 0
    since: float = field(default_factory=time.time)
    created_at: float = field(default_factory=time.time)
    queue_id: str | None = None
    agent_id: str | None = None
    offer_id: str | None = None
    agent_sdp: str = ""  # rtpengine's side toward agents, offered to every agent leg
    agent_media: str = "rtp"  # what agent_sdp is made for: "rtp" (SIP phones) or "webrtc" (browsers)
    caller_offer: str = ""  # the caller side's last SDP to rtpengine (offered again for another kind)
    variables: dict[str, str] = field(default_factory=dict)
    recording: str = "off"  # off, on, paused
    recording_decided: bool = False  # the policy spoke (at the first answer); people decide after
    caller_leg: LegRecord | None = None
    agent_leg: LegRecord | None = None
    ended_by: EndedBy | None = None
    sip_status: int | None = None

    def record(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_record(cls, raw: str | bytes) -> Call:
        data: dict[str, Any] = json.loads(raw)
        for leg in ("caller_leg", "agent_leg"):
            if data.get(leg):
                data[leg] = LegRecord(**data[leg])
        data["state"] = CallState(data["state"])
        data["direction"] = CallDirection(data["direction"])
        if data.get("ended_by"):
            data["ended_by"] = EndedBy(data["ended_by"])
        return cls(**data)

    def event(self) -> CallStateChanged:
        return CallStateChanged(
            call_id=self.id,
            seq=self.seq,
            state=self.state,
            since=datetime.fromtimestamp(self.since, UTC),
            direction=self.direction,
            caller=self.caller[:128],
            dialled=self.dialled[:128],
            queue_id=self.queue_id,
            agent_id=self.agent_id,
            trunk=self.trunk,
            ended_by=self.ended_by,
            sip_status=self.sip_status,
        )

    def summary(self) -> dict[str, Any]:
        return {
            "call_id": self.id,
            "state": self.state.value,
            "since": datetime.fromtimestamp(self.since, UTC).isoformat(),
            "direction": self.direction.value,
            "caller": self.caller,
            "dialled": self.dialled,
            "trunk": self.trunk,
            "queue_id": self.queue_id,
            "agent_id": self.agent_id,
            "recording": self.recording,
            "variables": self.variables,
        }


class CallTable:
    KEY = "cm:calls"

    def __init__(self, redis: Redis, writer: FencedWriter, notifier: Notifier) -> None:
        self.redis = redis
        self.writer = writer
        self.notifier = notifier
        self.calls: dict[str, Call] = {}

    def get(self, call_id: str) -> Call:
        call = self.calls.get(call_id)
        if call is None:
            raise UnknownCall(f"no call {call_id!r}", {"call_id": call_id})
        return call

    async def add(self, call: Call) -> None:
        self.calls[call.id] = call
        await self.save(call)
        await self.notifier.call_state(call.event())

    async def save(self, call: Call) -> None:
        await self.writer.write(("HSET", self.KEY, call.id, call.record()))

    async def move(self, call: Call, new: CallState, **changes: Any) -> None:
        """The one place a call changes state: check the move, apply, write through, publish."""
        if new not in TRANSITIONS[call.state]:
            raise InvalidCallState(
                f"call {call.id} cannot go from {call.state.value} to {new.value}",
                {"call_id": call.id, "state": call.state.value},
            )
        for name, value in changes.items():
            setattr(call, name, value)
        call.state = new
        call.seq += 1
        call.since = time.time()
        if new is CallState.ENDED:
            self.calls.pop(call.id, None)
            await self.writer.write(("HDEL", self.KEY, call.id))
        else:
            await self.save(call)
        await self.notifier.call_state(call.event())

    async def load(self) -> list[Call]:
        raw = await self.redis.hgetall(self.KEY)
        calls = [Call.from_record(value) for value in raw.values()]
        self.calls = {call.id: call for call in calls}
        return calls
