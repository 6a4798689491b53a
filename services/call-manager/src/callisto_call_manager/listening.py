"""Supervisors listening to a call: rtpengine subscribes the supervisor's phone (a browser or a SIP
phone) to both parties' audio, one send-only stream each, and nobody on the call hears the listener.
The listener's leg ends when the supervisor hangs up, when asked to, or when the call ends.

rtpengine 10.5 (Debian 12's) relays the two parties as separate streams and cannot mix a third voice
into a two-party call: barge (the supervisor speaking to both) needs rtpengine 11's ``connect`` or a
mixing media server; whisper (to the agent only) needs the agent's client to take a second session.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from callisto_call_manager.bindings import Bindings
from callisto_call_manager.calls import Call
from callisto_call_manager.errors import InvalidCallState, ListenFailed, PhoneNotRegistered, UnknownCall
from callisto_call_manager.rtpengine import MediaRelay
from callisto_protocol.calls import CallState
from callisto_sip.errors import SipError
from callisto_sip.ua import CallFailed, Dialog, DialogState, UserAgent

log = logging.getLogger(__name__)


@dataclass
class Listener:
    id: str  # rtpengine's tag of the subscription
    call_id: str
    username: str  # whose phone listens
    dialog: Dialog


class Listening:
    def __init__(
        self, ua: UserAgent, relay: MediaRelay, bindings: Bindings, *, ring_timeout_s: float
    ) -> None:
        self.ua = ua
        self.relay = relay
        self.bindings = bindings
        self.ring_timeout_s = ring_timeout_s
        self.listeners: dict[str, Listener] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        ua.observers.append(self._dialog_changed)

    async def listen(self, call: Call, username: str) -> Listener:
        """Ring ``username``'s phone with both parties' audio; the listener once it answered."""
        if call.state not in (CallState.CONNECTED, CallState.HELD):
            raise InvalidCallState(f"call {call.id} is {call.state.value}", {"call_id": call.id})
        phones = await self.bindings.of(username)
        if not phones:
            raise PhoneNotRegistered(f"{username!r} has no registered phone", {"username": username})
        phone = phones[0]
        offer, tag = await self.relay.subscribe(call.id, webrtc=phone.browser)
        try:
            dialog = await asyncio.wait_for(
                self.ua.call(phone.contact, phone.address, body=offer, protocol=phone.protocol,
                             from_uri=f"sip:listen-{call.id[:12]}@{self.ua.endpoint.host}"),
                self.ring_timeout_s,
            )  # fmt: skip
        except (CallFailed, SipError, TimeoutError) as exc:
            await self.relay.unsubscribe(call.id, tag)
            raise ListenFailed(
                f"{username}'s phone did not take the call: {exc!r}", {"username": username}
            ) from None
        await self.relay.subscribe_answer(call.id, tag, dialog.answered.body if dialog.answered else b"")
        listener = Listener(tag, call.id, username, dialog)
        self.listeners[tag] = listener
        log.info("call %s: %s listens", call.id, username)
        return listener

    async def stop(self, call_id: str, listener_id: str) -> Listener:
        listener = self.listeners.get(listener_id)
        if listener is None or listener.call_id != call_id:
            raise UnknownCall(
                f"no listener {listener_id!r} on call {call_id!r}", {"listener_id": listener_id}
            )
        await self._end(listener)
        return listener

    async def call_ended(self, call_id: str) -> None:
        for listener in [each for each in self.listeners.values() if each.call_id == call_id]:
            await self._end(listener)

    def of(self, call_id: str) -> list[Listener]:
        return [each for each in self.listeners.values() if each.call_id == call_id]

    async def _end(self, listener: Listener) -> None:
        if self.listeners.pop(listener.id, None) is None:
            return
        if listener.dialog.state is not DialogState.TERMINATED:
            try:
                await listener.dialog.bye()
            except SipError as exc:
                log.info("listener BYE: %s", exc.message)
        await self.relay.unsubscribe(listener.call_id, listener.id)

    def _dialog_changed(self, dialog: Dialog, state: DialogState) -> None:
        if state is not DialogState.TERMINATED:
            return
        found = next((each for each in self.listeners.values() if each.dialog is dialog), None)
        if found is not None:  # the supervisor hung up
            task = asyncio.get_running_loop().create_task(self._end(found))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def forget(self) -> None:
        """Stepping down: the listeners' legs belong to the old process's dialogs, gone with them."""
        self.listeners.clear()
