"""Consult (warm) transfer: the agent talks to a colleague before handing the caller over.

The caller is put on hold (music). A separate rtpengine call, ``<call>.consult``, joins the agent and
the colleague, so the caller can hear none of it: the colleague's phone rings like any offer (display
"Consult: <agent>", the INVITE names the call in ``X-Callisto-Consult``) and, once answered, the
agent's phone gets a second session that answers by itself (``Answer-Mode: Auto``), like a whisper
but both ways. Then:

- **complete**: the consult's sessions end and the caller is transferred to the colleague, whose
  phone answers by itself (they agreed to take the call);
- **cancel**, or the colleague declining or hanging up, or the agent hanging up the consult session:
  the consult ends and the caller is taken off hold, back with the agent;
- the call ending, or its agent leaving it, ends the consult.

A consult is with an agent; a queue or an outside number is not consulted (a blind transfer reaches
them).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from callisto_call_manager.beside import answered_sdp, end_session, ring_beside
from callisto_call_manager.bindings import Binding, Bindings
from callisto_call_manager.calls import Call
from callisto_call_manager.errors import (
    AgentNotRegistered,
    ConsultFailed,
    ConsultUnderWay,
    InvalidCallState,
    NoConsult,
)
from callisto_call_manager.rtpengine import AGENT, MediaRelay
from callisto_call_manager.switchboard import AUTO, Switchboard, silence
from callisto_protocol.calls import CallState
from callisto_protocol.telephony import TransferKind
from callisto_sip.ua import Dialog, DialogState, UserAgent

log = logging.getLogger(__name__)
COLLEAGUE = "colleague"  # rtpengine's tag of the consulted agent
CONSULT_HEADER = "X-Callisto-Consult"


@dataclass
class Consult:
    call_id: str
    agent_id: str  # who consults
    colleague_id: str  # whom
    colleague: Dialog | None = None
    agent: Dialog | None = None

    @property
    def media_id(self) -> str:
        return f"{self.call_id}.consult"

    @property
    def talking(self) -> bool:
        return self.colleague is not None and self.agent is not None


class Consults:
    def __init__(
        self, ua: UserAgent, relay: MediaRelay, bindings: Bindings, board: Switchboard, *,
        ring_timeout_s: float, media_host: str = "127.0.0.1",
    ) -> None:  # fmt: skip
        self.ua = ua
        self.relay = relay
        self.bindings = bindings
        self.board = board
        self.ring_timeout_s = ring_timeout_s
        self.placeholder = silence(media_host)  # the agent's side before the colleague answered
        self.consults: dict[str, Consult] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        ua.observers.append(self._dialog_changed)

    async def start(self, call: Call, colleague_id: str) -> Consult:
        """Hold the caller, ring the colleague, then join the agent (their phone answers by itself)."""
        if call.state not in (CallState.CONNECTED, CallState.HELD) or call.agent_id is None:
            raise InvalidCallState(f"call {call.id} is {call.state.value}", {"call_id": call.id})
        if call.id in self.consults:
            raise ConsultUnderWay(f"the agent of call {call.id} consults already", {"call_id": call.id})
        colleague_phone = await self._phone(colleague_id)
        agent_phone = await self._phone(call.agent_id)
        consult = self.consults[call.id] = Consult(call.id, call.agent_id, colleague_id)
        media = consult.media_id
        try:
            await self.board.hold(call, True)
            colleague_browser = colleague_phone.browser
            offer = await self.relay.offer(media, self.placeholder, from_tag=AGENT, webrtc=colleague_browser)
            consult.colleague = await self._ring(
                colleague_phone, offer, f"Consult: {call.agent_id}", {CONSULT_HEADER: call.id}, media
            )
            answer = answered_sdp(consult.colleague)
            await self.relay.answer(media, answer, from_tag=AGENT, to_tag=COLLEAGUE)
            offer = await self.relay.offer(
                media, answer, from_tag=COLLEAGUE, to_tag=AGENT, webrtc=agent_phone.browser
            )
            consult.agent = await self._ring(agent_phone, offer, f"Consult: {colleague_id}", AUTO, media)
            await self.relay.answer(
                media, answered_sdp(consult.agent), from_tag=COLLEAGUE, to_tag=AGENT,
                webrtc=colleague_browser,
            )  # fmt: skip
        except BaseException:
            await self.cancel(call)
            raise
        log.info("call %s: %s consults %s", call.id, call.agent_id, colleague_id)
        return consult

    async def complete(self, call: Call) -> Consult:
        """The caller goes to the colleague (their phone answers by itself); the agent is done."""
        consult = self.consults.get(call.id)
        if consult is None or not consult.talking:
            raise NoConsult(f"the agent of call {call.id} talks to no colleague", {"call_id": call.id})
        await self._end(consult)
        await self.board.transfer(call, TransferKind.AGENT, consult.colleague_id, auto=True)
        log.info("call %s: handed over from %s to %s", call.id, consult.agent_id, consult.colleague_id)
        return consult

    async def cancel(self, call: Call) -> Consult:
        """The consult ends; the caller is back with the agent."""
        consult = self.consults.get(call.id)
        if consult is None:
            raise NoConsult(f"the agent of call {call.id} does not consult", {"call_id": call.id})
        await self._end(consult)
        if call.state is CallState.HELD:
            await self.board.hold(call, False)
        return consult

    async def call_ended(self, call_id: str) -> None:
        """The call ended or its agent left it: the consult has nobody to hand over."""
        consult = self.consults.get(call_id)
        if consult is not None:
            await self._end(consult)

    def forget(self) -> None:
        """This instance stops serving calls (standby): the consults' sessions are not its own now."""
        self.consults.clear()

    async def _phone(self, agent_id: str) -> Binding:
        phones = await self.bindings.of_agent(agent_id)
        if not phones:
            raise AgentNotRegistered(f"agent {agent_id!r} has no registered phone", {"agent_id": agent_id})
        return phones[0]

    async def _ring(
        self, phone: Binding, offer: bytes, name: str, extra: dict[str, str], media: str
    ) -> Dialog:
        return await ring_beside(
            self.ua, phone, offer, name=name, extra=extra, user=f"consult-{media[:12]}",
            timeout_s=self.ring_timeout_s, failure=ConsultFailed,
        )  # fmt: skip

    async def _end(self, consult: Consult) -> None:
        if self.consults.pop(consult.call_id, None) is None:
            return
        for dialog in (consult.agent, consult.colleague):
            if dialog is not None:
                await end_session(dialog)
        await self.relay.delete(consult.media_id)

    def _dialog_changed(self, dialog: Dialog, state: DialogState) -> None:
        """Either side hanging up its consult session ends the consult; the caller is taken back."""
        if state is not DialogState.TERMINATED:
            return
        for consult in list(self.consults.values()):
            if dialog in (consult.agent, consult.colleague):
                self._spawn(self._hung_up(consult))

    async def _hung_up(self, consult: Consult) -> None:
        call = self.board.table.calls.get(consult.call_id)
        if call is not None and consult.call_id in self.consults:
            await self.cancel(call)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
