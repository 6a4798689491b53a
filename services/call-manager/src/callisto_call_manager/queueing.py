"""Handing calls to queue-manager: enqueue, announce position and expected wait, hold music, and the
overflow target when the queue refuses the caller."""

from __future__ import annotations

import logging
from dataclasses import replace

from callisto_call_manager.calls import Call, QueueRequest
from callisto_call_manager.switchboard import Switchboard
from callisto_protocol.calls import CallState, EndedBy
from callisto_protocol.queues import Enqueue, Enqueued
from callisto_runtime import Bus, CallistoError

log = logging.getLogger(__name__)
NUMBER_START = "+0123456789"


class Queueing:
    def __init__(self, board: Switchboard, bus: Bus) -> None:
        self.board = board
        self.bus = bus
        board.enqueue = self.enqueue

    async def enqueue(self, call: Call, wanted: QueueRequest) -> None:
        await self._enqueue(call, wanted, overflowed=False)

    async def _enqueue(self, call: Call, wanted: QueueRequest, *, overflowed: bool) -> None:
        queue_id = wanted.queue_id
        board = self.board
        if call.state is not CallState.QUEUED:
            await board.table.move(call, CallState.QUEUED, queue_id=queue_id, agent_id=None)
        else:
            call.queue_id = queue_id
            await board.table.save(call)
        command = Enqueue(call_id=call.id, queue_id=queue_id, caller=call.caller[:128],
                          priority=wanted.priority, skills=wanted.skills)  # fmt: skip
        try:
            reply = await self.bus.call(command, Enqueued)
        except CallistoError as exc:
            target = exc.details.get("overflow_target")
            log.info("call %s: queue %s refused it (%s)", call.id, queue_id, exc.error_id)
            if target and not overflowed:
                if str(target)[0] in NUMBER_START:
                    await board.dial_out(call, str(target))
                else:
                    await self._enqueue(call, replace(wanted, queue_id=str(target)), overflowed=True)
                return
            await board.say(call, ["sorry"])
            await board.hangup(call, EndedBy.SYSTEM, 480)
            return
        board.spawn(call.id, self._wait(call, reply, wanted), "wait")

    async def _wait(self, call: Call, reply: Enqueued, wanted: QueueRequest) -> None:
        if wanted.announce and call.state is CallState.QUEUED:
            await self.board.say(call, self.board.prompts.announcement(reply.position, reply.expected_wait_s))
        if call.state is CallState.QUEUED:
            await self.board.hold_music(call, wanted.hold_music)
