"""IVR flows as data (see dialplan.py): the interpreter that walks a call through the steps."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from callisto_call_manager.calls import Call, QueueRequest
from callisto_call_manager.dialplan import Collect, Flow, Hangup, Lookup, Menu, Play, Queue, Transfer
from callisto_protocol.calls import CallState, EndedBy

if TYPE_CHECKING:
    from callisto_call_manager.switchboard import Switchboard

MAX_STEPS = 200  # a flow that loops (menu -> menu ...) ends instead of running forever


async def run_flow(board: Switchboard, call: Call, flow: Flow) -> None:
    await board.table.move(call, CallState.IVR)
    live = board.live[call.id]
    name: str | None = flow.start
    for _ in range(MAX_STEPS):
        if name is None:
            break
        step = flow.steps[name]
        if isinstance(step, Play):
            await board.say(call, [step.play])
            name = step.next
        elif isinstance(step, Menu):
            name = await _menu(board, call, name, step)
        elif isinstance(step, Collect):
            digits = await _collect(board, call, step)
            call.variables[step.into] = digits
            await board.table.save(call)
            await board.notifier.ivr_input(call.id, name, digits)
            name = step.next
        elif isinstance(step, Lookup):
            name = await _lookup(board, call, step)
        elif isinstance(step, Queue):
            await board.to_queue(call, queue_request(step))
            return
        elif isinstance(step, Transfer):
            await board.dial_out(call, step.transfer)
            return
        elif isinstance(step, Hangup):
            if step.hangup:
                await board.say(call, [step.hangup])
            break
        while not live.keys.empty():  # keys pressed during a plain prompt do not leak into the next menu
            live.keys.get_nowait()
    await board.hangup(call, EndedBy.SYSTEM)


def queue_request(step: Queue) -> QueueRequest:
    offer = step.callback
    return QueueRequest(
        step.queue, step.priority, dict(step.skills), step.announce, step.hold_music,
        offer.after_s if offer else None, offer.key if offer else "1",
    )  # fmt: skip


async def _menu(board: Switchboard, call: Call, name: str, step: Menu) -> str | None:
    live = board.live[call.id]
    for _ in range(step.retries + 1):
        key = await board.say(call, [step.menu], interruptible=True)
        if key is None:
            try:
                key = await _next_key(live.keys, step.timeout_s)
            except TimeoutError:
                continue
        if key in step.options:
            await board.notifier.ivr_input(call.id, name, key)
            return step.options[key]
    return step.otherwise


async def _lookup(board: Switchboard, call: Call, step: Lookup) -> str | None:
    card = await board.lookup_caller(call, step.timeout_s)
    if card is None:
        return step.next
    call.variables.update(
        contact_id=card.contact_id, contact_name=card.name, vip="yes" if card.vip else "no",
        **({"personal_agent_id": card.personal_agent_id} if card.personal_agent_id else {}),
    )  # fmt: skip
    await board.table.save(call)
    return step.vip if card.vip and step.vip else step.next


async def _collect(board: Switchboard, call: Call, step: Collect) -> str:
    live = board.live[call.id]
    first = await board.say(call, [step.collect], interruptible=True)
    digits = "" if first is None else first
    while len(digits) < step.max_digits and not (step.terminator and digits.endswith(step.terminator)):
        try:
            digits += await _next_key(live.keys, step.timeout_s)
        except TimeoutError:
            break
    return digits.removesuffix(step.terminator) if step.terminator else digits


async def _next_key(keys: asyncio.Queue[str], timeout_s: float) -> str:
    return await asyncio.wait_for(keys.get(), timeout_s)
