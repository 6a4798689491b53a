"""/api/v1/calls and /api/v1/registrations: live calls, their control and listeners, registered
phones."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from callisto_call_manager.bindings import Bindings
from callisto_call_manager.calls import Call
from callisto_call_manager.consulting import Consult, Consults
from callisto_call_manager.listening import Listener, Listening
from callisto_call_manager.switchboard import Switchboard
from callisto_protocol.calls import CallDirection, CallState, EndedBy
from callisto_protocol.ids import TOKEN_PATTERN
from callisto_protocol.telephony import NUMBER_PATTERN, ListenerMode, RecordAction, TransferKind
from callisto_runtime import Service
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims, PermissionDenied

log = logging.getLogger(__name__)
CallPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="call id")]
ListenerPath = Annotated[str, Path(pattern=TOKEN_PATTERN, max_length=100, description="listener id")]


class ConsultRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: str = Field(pattern=TOKEN_PATTERN, description="the colleague to consult")


class ConsultView(BaseModel):
    call_id: str
    agent_id: str = Field(description="who consults")
    colleague_id: str
    talking: bool = Field(description="both phones took the consult (false once it ended)")

    @classmethod
    def of(cls, consult: Consult, *, ended: bool = False) -> ConsultView:
        return cls(
            call_id=consult.call_id, agent_id=consult.agent_id, colleague_id=consult.colleague_id,
            talking=consult.talking and not ended,
        )  # fmt: skip


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_kind: TransferKind
    target: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+*#-]+$")


class OriginateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(pattern=NUMBER_PATTERN)
    agent_id: str | None = Field(default=None, pattern=TOKEN_PATTERN, description="rung first")
    queue_id: str | None = Field(default=None, pattern=TOKEN_PATTERN, description="without an agent")
    caller_id: str | None = Field(default=None, pattern=NUMBER_PATTERN)
    ring_timeout_s: float = Field(default=30, gt=0, le=300)


class RecordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: RecordAction


class LiveCall(BaseModel):
    """A call as call-manager runs it now."""

    call_id: str
    state: CallState
    since: datetime
    direction: CallDirection
    caller: str
    dialled: str
    trunk: str | None
    queue_id: str | None
    agent_id: str | None
    recording: str = Field(description="off, on or paused")
    variables: dict[str, str]

    @classmethod
    def of(cls, call: Call) -> LiveCall:
        return cls.model_validate(call.summary())


class Registration(BaseModel):
    username: str
    agent_id: str | None
    contact: str
    expires_at: float
    source: str
    protocol: str


class ListenRequest(BaseModel):
    """Whose phone listens: the SIP username it registered with (a browser or a SIP phone)."""

    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._+-]+$")
    whisper: bool = Field(default=False, description="also speak to the agent (the customer hears nothing)")


class ListenerChange(BaseModel):
    whisper: bool = Field(description="start (true) or stop (false) speaking to the agent; listening goes on")


class ListenerView(BaseModel):
    listener_id: str
    call_id: str
    username: str
    mode: ListenerMode
    by: str = Field(description="who asked for it")

    @classmethod
    def of(cls, listener: Listener, mode: ListenerMode | None = None) -> ListenerView:
        return cls(
            listener_id=listener.id, call_id=listener.call_id, username=listener.username,
            mode=mode or listener.mode, by=listener.by,
        )  # fmt: skip


def router(
    service: Service, board: Switchboard, bindings: Bindings, listening: Listening, consults: Consults
) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["calls"])
    may_listen = service.require("cm.calls.listen")
    may_read = service.require("cm.calls.read")
    signed_in = service.authenticated()  # the route decides: every call, or the calls of one's own agent
    may_record = service.require("cm.calls.record")
    may_see_phones = service.require("cm.registrations.read")
    may_originate = service.require("cm.calls.originate")

    @api.get("/calls", summary="Live calls")
    async def calls(claims: Claims = may_read) -> list[LiveCall]:
        return [LiveCall.of(call) for call in sorted(board.table.calls.values(), key=lambda c: c.created_at)]

    @api.post(
        "/calls",
        summary="Place a call: the agent first (click-to-call), or the number into a queue",
        responses=responses(409),
    )
    async def originate(body: OriginateRequest, claims: Claims = may_originate) -> LiveCall:
        placed = await board.originate(
            body.number, agent_id=body.agent_id, queue_id=body.queue_id, caller_id=body.caller_id,
            ring_timeout_s=body.ring_timeout_s,
        )  # fmt: skip
        return LiveCall.of(placed)

    @api.get("/calls/{call_id}", summary="One live call")
    async def call(call_id: CallPath, claims: Claims = may_read) -> LiveCall:
        return LiveCall.of(board.table.get(call_id))

    def controlled(call_id: str, claims: Claims) -> Call:
        """The call, when the token controls every call (``cm.calls.control``: supervisors, services)
        or the call is their own agent's (``cm.calls.<agent>.control``: an operator); 403 otherwise."""
        found = board.table.get(call_id)
        own = found.agent_id is not None and claims.can(f"cm.calls.{found.agent_id}.control")
        if not (claims.can("cm.calls.control") or own):
            raise PermissionDenied(f"call {call_id} is not yours to control", {"call_id": call_id})
        return found

    @api.post("/calls/{call_id}/hangup", summary="End the call (both legs)", responses=responses(403, 409))
    async def hangup(call_id: CallPath, claims: Claims = signed_in) -> LiveCall:
        found = controlled(call_id, claims)
        await board.hangup(found, EndedBy.SYSTEM)
        return LiveCall.of(found)

    @api.post(
        "/calls/{call_id}/listeners",
        summary="A supervisor listens (and whispers to the agent): their phone takes the call's audio by "
        "itself, nobody on the call hears them",
        responses=responses(409, 502),
    )
    async def listen(call_id: CallPath, body: ListenRequest, claims: Claims = may_listen) -> ListenerView:
        call = board.table.get(call_id)
        listener = await listening.listen(call, body.username, claims.subject, whisper=body.whisper)
        return ListenerView.of(listener)

    @api.get("/calls/{call_id}/listeners", summary="Who listens to the call")
    async def listeners(call_id: CallPath, claims: Claims = may_listen) -> list[ListenerView]:
        board.table.get(call_id)
        return [ListenerView.of(each) for each in listening.of(call_id)]

    @api.delete(
        "/calls/{call_id}/listeners/{listener_id}", summary="Stop listening (the supervisor's leg ends)"
    )
    async def stop_listening(
        call_id: CallPath, listener_id: ListenerPath, claims: Claims = may_listen
    ) -> ListenerView:
        call = board.table.get(call_id)
        stopped = await listening.change(call, listener_id, ListenerMode.STOPPED, claims.subject)
        return ListenerView.of(stopped, ListenerMode.STOPPED)

    @api.patch(
        "/calls/{call_id}/listeners/{listener_id}",
        summary="Start or stop whispering to the agent",
        responses=responses(409, 502),
    )
    async def change_listener(
        call_id: CallPath, listener_id: ListenerPath, body: ListenerChange, claims: Claims = may_listen
    ) -> ListenerView:
        call = board.table.get(call_id)
        mode = ListenerMode.WHISPERING if body.whisper else ListenerMode.LISTENING
        return ListenerView.of(await listening.change(call, listener_id, mode, claims.subject))

    @api.post(
        "/calls/{call_id}/hold", summary="Put the caller on hold (music)", responses=responses(403, 409)
    )
    async def hold(call_id: CallPath, claims: Claims = signed_in) -> LiveCall:
        found = controlled(call_id, claims)
        await board.hold(found, True)
        return LiveCall.of(found)

    @api.post("/calls/{call_id}/unhold", summary="Take the caller off hold", responses=responses(403, 409))
    async def unhold(call_id: CallPath, claims: Claims = signed_in) -> LiveCall:
        found = controlled(call_id, claims)
        await board.hold(found, False)
        return LiveCall.of(found)

    @api.post(
        "/calls/{call_id}/transfer",
        summary="Blind transfer to an agent, a queue or a number",
        responses=responses(403, 409),
    )
    async def transfer(call_id: CallPath, body: TransferRequest, claims: Claims = signed_in) -> LiveCall:
        found = controlled(call_id, claims)
        await board.transfer(found, body.target_kind, body.target)
        return LiveCall.of(found)

    @api.post(
        "/calls/{call_id}/consult",
        summary="Consult a colleague: the caller is held, the colleague's phone rings, then the agent's "
        "phone takes a second session by itself",
        responses=responses(403, 409, 502),
    )
    async def consult(call_id: CallPath, body: ConsultRequest, claims: Claims = signed_in) -> ConsultView:
        found = controlled(call_id, claims)
        return ConsultView.of(await consults.start(found, body.agent_id))

    @api.post(
        "/calls/{call_id}/consult/complete",
        summary="Hand the caller over to the consulted colleague (their phone answers by itself)",
        responses=responses(403, 409),
    )
    async def complete_consult(call_id: CallPath, claims: Claims = signed_in) -> LiveCall:
        found = controlled(call_id, claims)
        await consults.complete(found)
        return LiveCall.of(found)

    @api.delete(
        "/calls/{call_id}/consult",
        summary="End the consult: the caller is back with the agent",
        responses=responses(403, 409),
    )
    async def cancel_consult(call_id: CallPath, claims: Claims = signed_in) -> ConsultView:
        found = controlled(call_id, claims)
        return ConsultView.of(await consults.cancel(found), ended=True)

    @api.post(
        "/calls/{call_id}/recording",
        summary="Start, stop, pause or resume recording",
        responses=responses(409),
    )
    async def recording(call_id: CallPath, body: RecordRequest, claims: Claims = may_record) -> LiveCall:
        found = board.table.get(call_id)
        await board.record(found, body.action)
        return LiveCall.of(found)

    @api.get("/registrations", summary="Registered softphones")
    async def registrations(claims: Claims = may_see_phones) -> list[Registration]:
        return [
            Registration(username=b.username, agent_id=b.agent_id, contact=b.contact, expires_at=b.expires_at,
                         source=f"{b.source_host}:{b.source_port}", protocol=b.protocol)
            for b in sorted(await bindings.everyone(), key=lambda b: b.username)
        ]  # fmt: skip

    return api
