"""Supervisors listening to a call and whispering to its agent.

**Listen**: rtpengine subscribes the supervisor's phone to the parties' audio (send-only streams), so
nobody on the call hears the listener. A SIP phone gets one session carrying both parties as two
streams. A browser gets one session per party: rtpengine 10.5 negotiates ICE unreliably for a
subscription of two streams toward one browser (the second stream's checks can end in endless role
conflicts), while a one-stream session is as steady as a call.

**Whisper**: a separate rtpengine call from the supervisor to the agent, one way; the customer's call
is not touched, so the customer cannot hear it even by mistake. The supervisor's phone gets a
receive-only offer (it sends), then the agent's phone gets a second, send-only session next to the
customer's. Stopping the whisper ends those two sessions; listening goes on.

Every session carries ``Answer-Mode: Auto`` (RFC 5373): the supervisor asked for it, and the agent's
client takes a whisper by itself. Display names say what a session is ("Listen: 0612345678",
"Whisper: supervisor1").

**Barge** (the supervisor heard by both parties) needs a mixer: rtpengine 10.5 relays streams and
mixes none into a two-party call (rtpengine 11's ``connect`` or a conference bridge would).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from callisto_call_manager.beside import answered_sdp, end_session, ring_beside
from callisto_call_manager.bindings import Binding, Bindings
from callisto_call_manager.calls import Call
from callisto_call_manager.errors import InvalidCallState, ListenFailed, PhoneNotRegistered, UnknownCall
from callisto_call_manager.notifier import Notifier
from callisto_call_manager.rtpengine import AGENT, CALLER, MediaRelay
from callisto_call_manager.switchboard import AUTO, silence
from callisto_protocol import new_id
from callisto_protocol.calls import CallState
from callisto_protocol.telephony import ListenerMode
from callisto_sip.ua import Dialog, DialogState, UserAgent

log = logging.getLogger(__name__)
SUPERVISOR = "supervisor"  # rtpengine's tag of the supervisor in a whisper
LIVE = (CallState.CONNECTED, CallState.HELD)


@dataclass
class Whisper:
    media_id: str  # the whisper's own rtpengine call
    supervisor: Dialog | None = None
    agent: Dialog | None = None

    @property
    def dialogs(self) -> list[Dialog]:
        return [d for d in (self.supervisor, self.agent) if d is not None]


@dataclass
class Listener:
    id: str
    call_id: str
    username: str  # whose phone listens
    by: str  # who asked
    phone: Binding
    subscriptions: dict[str, Dialog] = field(default_factory=dict)  # rtpengine's tag -> session
    whisper: Whisper | None = None

    @property
    def mode(self) -> ListenerMode:
        return ListenerMode.WHISPERING if self.whisper is not None else ListenerMode.LISTENING


class Listening:
    def __init__(
        self, ua: UserAgent, relay: MediaRelay, bindings: Bindings, notifier: Notifier, *,
        ring_timeout_s: float, media_host: str = "127.0.0.1",
    ) -> None:  # fmt: skip
        self.ua = ua
        self.relay = relay
        self.bindings = bindings
        self.notifier = notifier
        self.ring_timeout_s = ring_timeout_s
        self.placeholder = silence(media_host, "recvonly")  # the agent's side before it is rung
        self.listeners: dict[str, Listener] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        ua.observers.append(self._dialog_changed)

    # asked for ------------------------------------------------------------------------------------
    async def listen(self, call: Call, username: str, by: str, *, whisper: bool = False) -> Listener:
        """Ring ``username``'s phone with the parties' audio; the listener once it answered."""
        self._check(call)
        phones = await self.bindings.of(username)
        if not phones:
            raise PhoneNotRegistered(f"{username!r} has no registered phone", {"username": username})
        listener = Listener(new_id(), call.id, username, by, phones[0])
        groups = [(CALLER,), (AGENT,)] if listener.phone.browser else [(CALLER, AGENT)]
        try:
            for parties in groups:
                offer, tag = await self.relay.subscribe(call.id, parties, webrtc=listener.phone.browser)
                try:
                    dialog = await self._ring(listener.phone, offer, f"Listen: {call.caller}", call.id)
                except ListenFailed:
                    await self.relay.unsubscribe(call.id, tag)
                    raise
                listener.subscriptions[tag] = dialog
                await self.relay.subscribe_answer(call.id, tag, answered_sdp(dialog))
        except BaseException:
            await self._hang_up(listener)
            raise
        self.listeners[listener.id] = listener
        log.info("call %s: %s listens (asked by %s)", call.id, username, by)
        if whisper:
            await self._whisper(listener, call)
        await self.notifier.listener(listener, by, "request")
        return listener

    async def change(self, call: Call, listener_id: str, mode: ListenerMode, by: str) -> Listener:
        listener = self._find(call.id, listener_id)
        if mode is ListenerMode.STOPPED:
            await self._end(listener, by, "request")
        elif mode is not listener.mode:
            if mode is ListenerMode.WHISPERING:
                await self._whisper(listener, call)
            else:
                await self._end_whisper(listener)
            await self.notifier.listener(listener, by, "request")
        return listener

    def of(self, call_id: str) -> list[Listener]:
        return [each for each in self.listeners.values() if each.call_id == call_id]

    # what happened to the call ------------------------------------------------------------------------
    async def call_ended(self, call_id: str) -> None:
        for listener in self.of(call_id):
            await self._end(listener, "call-manager", "call-ended")

    async def agent_left(self, call_id: str) -> None:
        """The agent's leg ended (a transfer): a whisper to them is over; listening goes on."""
        for listener in self.of(call_id):
            if listener.whisper is not None:
                await self._end_whisper(listener)
                await self.notifier.listener(listener, "call-manager", "agent-left")

    def forget(self) -> None:
        """Stepping down: the listeners' legs belong to the old process's dialogs, gone with them."""
        self.listeners.clear()

    # the parts ------------------------------------------------------------------------------------
    def _check(self, call: Call) -> None:
        if call.state not in LIVE:
            raise InvalidCallState(f"call {call.id} is {call.state.value}", {"call_id": call.id})

    def _find(self, call_id: str, listener_id: str) -> Listener:
        listener = self.listeners.get(listener_id)
        if listener is None or listener.call_id != call_id:
            found = f"no listener {listener_id!r} on call {call_id!r}"
            raise UnknownCall(found, {"listener_id": listener_id})
        return listener

    async def _ring(self, phone: Binding, offer: bytes, name: str, media_id: str) -> Dialog:
        """INVITE ``phone`` to a session that answers by itself; ListenFailed when it does not."""
        return await ring_beside(
            self.ua, phone, offer, name=name, extra=AUTO, user=f"supervision-{media_id[:12]}",
            timeout_s=self.ring_timeout_s, failure=ListenFailed,
        )  # fmt: skip

    async def _whisper(self, listener: Listener, call: Call) -> None:
        """The supervisor's phone first (it sends), then the agent's (it receives): a new offer from
        the supervisor's side points rtpengine at the agent, whose answer completes the path."""
        self._check(call)
        agent_phones = await self.bindings.of_agent(call.agent_id) if call.agent_id else []
        if not agent_phones:
            raise PhoneNotRegistered(f"agent {call.agent_id!r} has no registered phone", {"call_id": call.id})
        agent_phone = agent_phones[0]
        sup_browser, agent_browser = listener.phone.browser, agent_phone.browser
        whisper = listener.whisper = Whisper(f"{call.id}.whisper.{listener.id}")
        media = whisper.media_id
        try:
            offer = await self.relay.offer(media, self.placeholder, from_tag=AGENT, webrtc=sup_browser)
            whisper.supervisor = await self._ring(listener.phone, offer, f"Whisper to {call.agent_id}", media)
            spoken = answered_sdp(whisper.supervisor)
            await self.relay.answer(media, spoken, from_tag=AGENT, to_tag=SUPERVISOR)
            offer = await self.relay.offer(
                media, spoken, from_tag=SUPERVISOR, to_tag=AGENT, webrtc=agent_browser
            )
            whisper.agent = await self._ring(agent_phone, offer, f"Whisper: {listener.username}", media)
            await self.relay.answer(
                media, answered_sdp(whisper.agent), from_tag=SUPERVISOR, to_tag=AGENT, webrtc=sup_browser
            )
        except BaseException:
            await self._end_whisper(listener)
            raise
        log.info("call %s: %s whispers to %s", call.id, listener.username, call.agent_id)

    async def _end_whisper(self, listener: Listener) -> None:
        whisper, listener.whisper = listener.whisper, None
        if whisper is not None:
            for dialog in whisper.dialogs:
                await end_session(dialog)
            await self.relay.delete(whisper.media_id)

    async def _end(self, listener: Listener, by: str, reason: str) -> None:
        if self.listeners.pop(listener.id, None) is None:
            return
        await self._hang_up(listener)
        log.info("call %s: %s stopped listening (%s)", listener.call_id, listener.username, reason)
        await self.notifier.listener(listener, by, reason, stopped=True)

    async def _hang_up(self, listener: Listener) -> None:
        await self._end_whisper(listener)
        for tag, dialog in listener.subscriptions.items():
            await end_session(dialog)
            await self.relay.unsubscribe(listener.call_id, tag)
        listener.subscriptions.clear()

    def _dialog_changed(self, dialog: Dialog, state: DialogState) -> None:
        """A supervisor who hangs up a listening session stops listening; a whisper session hung up
        by either phone ends the whisper."""
        if state is not DialogState.TERMINATED:
            return
        for listener in list(self.listeners.values()):
            if dialog in listener.subscriptions.values():
                self._spawn(self._end(listener, listener.username, "hung-up"))
            elif listener.whisper is not None and dialog in listener.whisper.dialogs:
                self._spawn(self._whisper_hung_up(listener))

    async def _whisper_hung_up(self, listener: Listener) -> None:
        await self._end_whisper(listener)
        await self.notifier.listener(listener, listener.username, "hung-up")

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
