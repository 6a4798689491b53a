"""Bus side of call-manager: commands from queue-manager, the dialer, clients and integrators.

Call-manager decides who may do what to a call: a service or a supervisor holds ``cm.calls.control``
(or ``originate``) for every call; an operator's token grants ``cm.calls.<own agent>.#``, so a
person acting through another service (click-to-call from a ticket) rings only their own phone and
controls only the calls their agent is on."""

from __future__ import annotations

from callisto_call_manager.listening import Listening
from callisto_call_manager.switchboard import Switchboard
from callisto_protocol import Envelope
from callisto_protocol.calls import CallState, EndedBy
from callisto_protocol.lists import CallEntry
from callisto_protocol.queues import ConnectAccepted, ConnectCall
from callisto_protocol.telephony import (
    CallControlled,
    CancelConnect,
    ChangeListener,
    HangupCall,
    HoldCall,
    ListCalls,
    ListenerMode,
    ListenerState,
    ListenToCall,
    LiveCalls,
    OriginateCall,
    RecordCall,
    TransferCall,
)
from callisto_runtime import Bus


async def subscribe(bus: Bus, board: Switchboard, listening: Listening) -> None:
    async def call_agent(command: HangupCall | HoldCall | TransferCall | RecordCall) -> dict[str, str]:
        call = board.table.calls.get(command.call_id)
        return {"call_agent": call.agent_id if call is not None and call.agent_id else "~"}

    def controlled(call_id: str) -> CallControlled:
        call = board.table.calls.get(call_id)
        return CallControlled(call_id=call_id, state=call.state if call is not None else CallState.ENDED)

    async def connect(command: ConnectCall, _: Envelope) -> ConnectAccepted:
        call = board.table.get(command.call_id)
        await board.connect(call, command.agent_id, command.offer_id, command.ring_timeout_s)
        return ConnectAccepted(call_id=command.call_id, agent_id=command.agent_id)

    async def cancel_connect(command: CancelConnect, _: Envelope) -> CallControlled:
        call = board.table.calls.get(command.call_id)
        if call is not None:  # the call may be over: nothing rings then
            board.cancel_ring(call, command.offer_id)
        return controlled(command.call_id)

    async def list_calls(_command: ListCalls, _: Envelope) -> LiveCalls:
        return LiveCalls(
            calls=[CallEntry.model_validate(call.summary()) for call in board.table.calls.values()]
        )

    async def hangup(command: HangupCall, _: Envelope) -> CallControlled:
        call = board.table.get(command.call_id)
        if command.prompt is not None:
            board.hang_up_saying(call, command.prompt)
        else:
            await board.hangup(call, EndedBy.SYSTEM)
        return controlled(command.call_id)

    async def hold(command: HoldCall, _: Envelope) -> CallControlled:
        await board.hold(board.table.get(command.call_id), command.hold)
        return controlled(command.call_id)

    async def transfer(command: TransferCall, _: Envelope) -> CallControlled:
        await board.transfer(board.table.get(command.call_id), command.target_kind, command.target)
        return controlled(command.call_id)

    async def record(command: RecordCall, _: Envelope) -> CallControlled:
        await board.record(board.table.get(command.call_id), command.action)
        return controlled(command.call_id)

    async def originate(command: OriginateCall, _: Envelope) -> CallControlled:
        call = await board.originate(
            command.number, agent_id=command.agent_id, queue_id=command.queue_id, caller_id=command.caller_id,
            ring_timeout_s=command.ring_timeout_s, call_id=command.call_id, offer_id=command.offer_id,
            campaign_id=command.campaign_id, message=command.message, press_key=command.press_key,
        )  # fmt: skip
        return CallControlled(call_id=call.id, state=call.state)

    async def listen(command: ListenToCall, env: Envelope) -> ListenerState:
        call = board.table.get(command.call_id)
        by = await bus.asker(env)
        listener = await listening.listen(call, command.username, by, whisper=command.whisper)
        return ListenerState(
            listener_id=listener.id, call_id=call.id, username=listener.username, mode=listener.mode
        )

    async def change_listener(command: ChangeListener, env: Envelope) -> ListenerState:
        call = board.table.get(command.call_id)
        listener = await listening.change(call, command.listener_id, command.mode, await bus.asker(env))
        mode = command.mode if command.mode is ListenerMode.STOPPED else listener.mode
        return ListenerState(listener_id=listener.id, call_id=call.id, username=listener.username, mode=mode)

    await bus.serve(ListenToCall, listen, permission="cm.calls.listen", active_only=True)
    await bus.serve(ChangeListener, change_listener, permission="cm.calls.listen", active_only=True)
    await bus.serve(ConnectCall, connect, permission="cm.calls.connect", active_only=True)
    await bus.serve(CancelConnect, cancel_connect, permission="cm.calls.connect", active_only=True)
    await bus.serve(ListCalls, list_calls, permission="cm.calls.read", active_only=True)
    await bus.serve(
        OriginateCall,
        originate,
        permission=("cm.calls.originate", "cm.calls.{agent_id}.originate"),
        active_only=True,
    )
    on_own_call = ("cm.calls.control", "cm.calls.{call_agent}.control")
    await bus.serve(HangupCall, hangup, permission=on_own_call, scope=call_agent, active_only=True)
    await bus.serve(HoldCall, hold, permission=on_own_call, scope=call_agent, active_only=True)
    await bus.serve(TransferCall, transfer, permission=on_own_call, scope=call_agent, active_only=True)
    await bus.serve(
        RecordCall,
        record,
        permission=("cm.calls.record", "cm.calls.{call_agent}.record"),
        scope=call_agent,
        active_only=True,
    )
