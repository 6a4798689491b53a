"""Handing calls to queue-manager: enqueue, the wait (waiting.py: announcements, hold music, the
callback offer), and what queue-manager decides later — an overflow target when the queue refuses the
caller or when they waited too long, or a callback standing in for the call."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from callisto_call_manager.calls import Call, QueueRequest
from callisto_call_manager.session import Sessions
from callisto_call_manager.waiting import waiting
from callisto_protocol import Envelope
from callisto_protocol.calls import CallState
from callisto_protocol.queues import (
    CALLBACK_NUMBER_PATTERN,
    CallbackAccepted,
    Enqueue,
    Enqueued,
    QueueCallEvent,
    QueueCallKind,
    RequestCallback,
)
from callisto_runtime import Bus, CallistoError

log = logging.getLogger(__name__)
CALLBACK_NUMBER = re.compile(CALLBACK_NUMBER_PATTERN)  # a caller id one can call back
LEFT = (QueueCallKind.OVERFLOWED, QueueCallKind.TIMED_OUT, QueueCallKind.CALLBACK)


class Queueing:
    def __init__(self, sessions: Sessions, bus: Bus) -> None:
        self.board = sessions.board
        self.sessions = sessions
        self.bus = bus
        self.board.enqueue = self.enqueue
        sessions.leave_number = self._leave_number

    async def start(self) -> None:
        for step in LEFT:  # only the steps that concern a waiting caller: the others cost nothing here
            await self.bus.subscribe(QueueCallEvent, self._queue_event, active_only=True, step=step.value)

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
        board.live[call.id].queue_request = wanted
        command = Enqueue(call_id=call.id, queue_id=queue_id, caller=call.caller[:128],
                          priority=wanted.priority, skills=wanted.skills,
                          personal_agent_id=call.variables.get("personal_agent_id"))  # fmt: skip
        try:
            reply = await self.bus.call(command, Enqueued)
        except CallistoError as exc:
            target = exc.details.get("overflow_target")
            log.info("call %s: queue %s refused it (%s)", call.id, queue_id, exc.error_id)
            if target and not overflowed:
                await self._overflow(call, wanted, str(target))
            else:
                await self.sessions.goodbye(call, "sorry", 480)
            return
        script = waiting(wanted, reply.position, reply.expected_wait_s,
                         may_call_back=CALLBACK_NUMBER.match(call.caller) is not None)  # fmt: skip
        board.spawn(call.id, self.sessions.run(call, script, while_in=CallState.QUEUED), "wait")

    async def _overflow(self, call: Call, wanted: QueueRequest, target: str) -> None:
        """Follow a queue's overflow target: ``queue:<id>``, ``number:<digits>`` or ``callback``."""
        kind, _, value = target.partition(":")
        if kind == "queue":
            await self._enqueue(call, replace(wanted, queue_id=value), overflowed=True)
        elif kind == "number":
            await self.board.dial_out(call, value)
        elif kind == "callback" and await self._leave_number(call, wanted, False):
            await self.sessions.goodbye(call, "callback-confirmed", 200)
        else:
            await self.sessions.goodbye(call, "sorry", 480)

    async def _leave_number(self, call: Call, wanted: QueueRequest, replaces: bool) -> bool:
        """Ask queue-manager for a callback to the caller's number (in the call's place when it
        ``replaces`` the waiting call); False when it cannot be had."""
        if not CALLBACK_NUMBER.match(call.caller):
            return False
        command = RequestCallback(
            queue_id=call.queue_id or wanted.queue_id, number=call.caller, priority=wanted.priority,
            replaces_call_id=call.id if replaces else None,
        )  # fmt: skip
        try:
            accepted = await self.bus.call(command, CallbackAccepted)
        except CallistoError as exc:
            log.info("call %s: no callback (%s)", call.id, exc.error_id)
            return False
        call.variables["callback_id"] = accepted.callback_id
        await self.board.table.save(call)
        return True

    async def _queue_event(self, event: QueueCallEvent, _: Envelope) -> None:
        """What queue-manager decided for a waiting call of ours: it left its queue."""
        call = self.board.table.calls.get(event.call_id)
        if event.step not in LEFT or call is None or call.state is not CallState.QUEUED:
            return
        live = self.board.live.get(call.id)
        wanted = (live.queue_request if live else None) or QueueRequest(event.queue_id)
        target = event.target or ""
        if event.step is QueueCallKind.CALLBACK:
            self.board.spawn(call.id, self.sessions.goodbye(call, "callback-confirmed", 200), "goodbye")
        elif target.startswith("queue:"):  # queue-manager moved the call itself
            call.queue_id = target[6:]
            await self.board.table.save(call)
        elif target.startswith("number:"):
            self.board.cancel_tasks(call, "wait")
            await self.board.relay.stop_playing(call.id)
            self.board.spawn(call.id, self.board.dial_out(call, target[7:]), "transfer")
        elif target == "callback":
            self.board.spawn(call.id, self._overflow(call, wanted, target), "goodbye")
        else:
            self.board.spawn(call.id, self.sessions.goodbye(call, "sorry", 480), "goodbye")
