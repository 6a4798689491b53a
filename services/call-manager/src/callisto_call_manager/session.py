"""A call's session: it runs the call's scripts (the IVR, the queue wait) by carrying out each effect
they yield against the switchboard (SIP, rtpengine, the call table) and sending back the outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from callisto_call_manager.calls import Call, QueueRequest
from callisto_call_manager.dialplan import Flow
from callisto_call_manager.effects import (
    FINAL,
    DialOut,
    Effect,
    Enqueue,
    ForgetKeys,
    HangUp,
    HoldMusic,
    Identify,
    LeaveNumber,
    NextKey,
    Outcome,
    Remember,
    Report,
    Say,
    Script,
)
from callisto_call_manager.ivr import ivr
from callisto_call_manager.switchboard import Switchboard
from callisto_protocol.calls import CallState, EndedBy


class Sessions:
    def __init__(self, board: Switchboard) -> None:
        self.board = board
        # queue-manager's callback instead of (or after) the call; set by queueing
        self.leave_number: Callable[[Call, QueueRequest, bool], Awaitable[bool]] | None = None
        board.run_flow = self.run_flow

    async def run_flow(self, call: Call, flow: Flow) -> None:
        await self.board.table.move(call, CallState.IVR)
        await self.run(call, ivr(flow))

    async def run(self, call: Call, script: Script, *, while_in: CallState | None = None) -> None:
        """Carry out ``script``'s effects until it ends or hands the call on; with ``while_in``, only
        while the call is in that state (the script is closed where it stands once it is not)."""
        outcome: Outcome = None
        try:
            while while_in is None or call.state is while_in:
                try:
                    effect = script.send(outcome)
                except StopIteration:
                    return
                outcome = await self.carry_out(call, effect)
                if isinstance(effect, FINAL):
                    return
        finally:
            script.close()

    async def carry_out(self, call: Call, effect: Effect) -> Outcome:
        board = self.board
        match effect:
            case Say(prompts, interruptible):
                return await board.say(call, list(prompts), interruptible=interruptible)
            case NextKey(timeout_s):
                try:
                    return await asyncio.wait_for(board.live[call.id].keys.get(), timeout_s)
                except TimeoutError:
                    return None
            case ForgetKeys():
                keys = board.live[call.id].keys
                while not keys.empty():
                    keys.get_nowait()
            case Remember(variables):
                call.variables.update(variables)
                await board.table.save(call)
            case Report(step, keys):
                await board.notifier.ivr_input(call.id, step, keys)
            case Identify(timeout_s):
                return await board.lookup_caller(call, timeout_s)
            case HoldMusic(prompt):
                await board.hold_music(call, prompt)
            case LeaveNumber(request, replaces):
                return self.leave_number is not None and await self.leave_number(call, request, replaces)
            case Enqueue(request):
                await board.to_queue(call, request)
            case DialOut(number):
                await board.dial_out(call, number)
            case HangUp(prompt, status):
                await self.goodbye(call, prompt, status)
        return None

    async def goodbye(self, call: Call, prompt: str | None, status: int | None = None) -> None:
        """Stop whatever the caller hears and waits for, say ``prompt``, hang up; once per call."""
        board = self.board
        live = board.live.get(call.id)
        if live is None or live.ending or live.leaving or call.state is CallState.ENDED:
            return
        live.leaving = True
        board.cancel_tasks(call, "wait")
        await board.relay.stop_playing(call.id)
        if prompt:
            await board.say(call, [prompt])
        await board.hangup(call, EndedBy.SYSTEM, status)
