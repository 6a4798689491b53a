"""The B2BUA: every call is a caller leg and at most one agent leg, media through rtpengine.

The switchboard answers trunk INVITEs and hands them to the IVR (session.py), rings agents on
``ConnectCall``, bridges on answer, and carries out hold, transfer, recording and hangup. State
changes go through the call table (one place); what only lives while this process runs (dialog
objects, tasks, DTMF queues) is kept in ``Live`` beside each call.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from callisto_call_manager.bindings import Bindings
from callisto_call_manager.calls import Call, CallTable, LegRecord, QueueRequest
from callisto_call_manager.dialplan import DialPlan, Flow
from callisto_call_manager.errors import (
    AgentNotRegistered,
    CallExists,
    InvalidCallState,
    MediaRelayError,
    NoRoomToRecord,
    UnknownPrompt,
    UnknownTransferTarget,
)
from callisto_call_manager.notifier import Notifier
from callisto_call_manager.prompts import Prompts
from callisto_call_manager.rate import RateLimiter
from callisto_call_manager.recording_policy import RecordingPolicy
from callisto_call_manager.recording_room import RecordingRoom
from callisto_call_manager.rtpengine import AGENT, CALLER, MediaRelay
from callisto_protocol import new_id
from callisto_protocol.calls import CallDirection, CallState, EndedBy
from callisto_protocol.contacts import ContactCard
from callisto_protocol.queues import ConnectResult
from callisto_protocol.telephony import RecordAction, TransferKind
from callisto_sip.errors import SipError
from callisto_sip.headers import NameAddr
from callisto_sip.ua import CallFailed, Dialog, DialogState, IncomingCall, UserAgent
from callisto_sip.uri import SipUri, parse_uri

log = logging.getLogger(__name__)
S = CallState
HOLD_REPEAT = 1000  # plays of the hold prompt: longer than any wait
KEY_AFTER_MESSAGE_S = 5.0  # an outbound message's key is taken this long after it ends
_PORT = re.compile(rb"^m=audio \d+", re.MULTILINE)
# action -> (rtpengine's verb, the call's recording state after it). Debian's rtpengine knows no
# "pause recording" (it answers "Unrecognized command"): a pause stops the capture and a resume starts
# it again, so what is said meanwhile (a card number) is never captured.
RECORDING = {
    RecordAction.START: ("start", "on"),
    RecordAction.RESUME: ("start", "on"),
    RecordAction.STOP: ("stop", "off"),
    RecordAction.PAUSE: ("stop", "paused"),
}


_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
RTP, WEBRTC = "rtp", "webrtc"  # what the agent side of rtpengine is made for
AUTO = {"Answer-Mode": "Auto"}  # RFC 5373: the phone answers by itself
CALL_HEADER = "X-Callisto-Call"  # in an agent's INVITE: the call's id (the client's screen pop, controls)
# and who the caller is when the IVR recognised them (the screen pop paints the name at once)
CALLER_HEADERS = {"contact_id": "X-Callisto-Contact", "contact_name": "X-Callisto-Caller-Name"}


def caller_headers(call: Call) -> dict[str, str]:
    """What the IVR learnt of the caller (helpdesk's contact), for the agent's INVITE."""
    return {
        header: _CONTROLS.sub("", call.variables[name])[:200]
        for name, header in CALLER_HEADERS.items()
        if call.variables.get(name)
    }


def printable(text: str) -> str:
    """A number as passed on: escaped control characters (``%00`` in a URI) left out."""
    return _CONTROLS.sub("", text)[:64]


@dataclass
class Live:
    """What exists only while this process runs the call."""

    caller: Dialog | None = None
    agent: Dialog | None = None
    keys: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    rings: dict[str, asyncio.Event] = field(default_factory=dict)  # INVITEs under way, by offer
    ending: bool = False
    leaving: bool = False  # saying goodbye (then hanging up)
    caller_sdp: bytes = b""  # rtpengine's side toward the caller, after the last agent answer
    agent_answer: bytes = b""  # the answering agent's SDP
    queue_request: QueueRequest | None = None  # what the call's queue step asked for


def media_port(sdp: bytes) -> int:
    """The first audio stream's port in an SDP (0 when there is none)."""
    found = re.search(rb"^m=audio (\d+)", sdp, re.MULTILINE)
    return int(found.group(1)) if found else 0


def silence(host: str, direction: str = "sendrecv") -> bytes:
    """An offer for a party that is not there yet (the customer of an outbound call): the discard port."""
    return (
        f"v=0\r\no=callisto 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
        "m=audio 9 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
        f"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na={direction}\r\n"
    ).encode()


def placeholder(agent_side_sdp: bytes) -> bytes:
    """An answer for the agent side before any agent is there: rtpengine's own offer, pointed at the
    discard port, without RTCP or ICE lines (it would otherwise relay to itself)."""
    lines = [
        line
        for line in _PORT.sub(b"m=audio 9", agent_side_sdp).split(b"\r\n")
        if not line.startswith((b"a=rtcp", b"a=ice", b"a=candidate"))
    ]
    return b"\r\n".join(lines)


def leg_record(dialog: Dialog) -> LegRecord:
    return LegRecord(
        call_id=dialog.call_id,
        local=str(dialog.local),
        remote=str(dialog.remote),
        remote_target=str(dialog.remote_target),
        route_set=list(dialog.route_set),
        local_seq=dialog.local_seq,
        remote_seq=dialog.remote_seq,
        protocol=dialog.protocol,
    )


def trunk_outcome(found: Dialog | int) -> str:
    """An INVITE through a trunk: answered, the customer's busy or no answer, or the trunk failed
    (refused, a server error, no response at all)."""
    if not isinstance(found, int):
        return "answered"
    if found in (486, 600, 603):
        return "busy"
    if found in (480, 487):
        return "no_answer"
    return "failed"


@dataclass(frozen=True)
class Message:
    """What an originated call without an agent says when answered, and the key that puts it through."""

    prompt: str | None = None
    key: str | None = None


class Switchboard:
    def __init__(
        self,
        ua: UserAgent,
        relay: MediaRelay,
        table: CallTable,
        bindings: Bindings,
        prompts: Prompts,
        plan: DialPlan,
        notifier: Notifier,
        *,
        ring_timeout_s: float,
        invite_rate_per_source: float,
        media_host: str = "127.0.0.1",
        recording: RecordingPolicy | None = None,
        room: RecordingRoom | None = None,
    ) -> None:
        self.recording = recording or RecordingPolicy()
        self.room = room or RecordingRoom()
        self.ua = ua
        self.relay = relay
        self.table = table
        self.bindings = bindings
        self.prompts = prompts
        self.plan = plan
        self.notifier = notifier
        self.ring_timeout_s = ring_timeout_s
        self.silence = silence(media_host)
        self.limiter = RateLimiter(invite_rate_per_source, burst=invite_rate_per_source * 2)
        self.live: dict[str, Live] = {}
        self.legs: dict[tuple[str, str, str], tuple[str, str]] = {}  # dialog key -> (call id, side)
        self.stats: Counter[str] = Counter()
        self.trunk_outcomes: Counter[tuple[str, str]] = Counter()  # (trunk, outcome) of INVITEs out
        self.enqueue: Callable[[Call, QueueRequest], Awaitable[None]] | None = None
        self.run_flow: Callable[[Call, Flow], Awaitable[None]] | None = None  # the IVR (session.py)
        self.contacts: Callable[[str, float], Awaitable[ContactCard | None]] | None = None
        self._active = True
        self.holds_lease: Callable[[], bool] = lambda: True
        self.ended: list[Callable[[str], Awaitable[None]]] = []  # told each call id that ended here
        self.agent_left: list[Callable[[str], Awaitable[None]]] = []  # told when an agent leg is dropped
        ua.on_invite = self.inbound
        ua.observers.append(self._dialog_changed)

    @property
    def active(self) -> bool:
        """False once this instance lost its lease (even before it noticed): its calls belong to the
        new active, it ends none of them."""
        return self._active and self.holds_lease()

    @active.setter
    def active(self, value: bool) -> None:
        self._active = value

    # helpers ------------------------------------------------------------------------------------
    def spawn(self, call_id: str, work: Awaitable[None], name: str) -> asyncio.Task[None]:
        async def run() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                if not self.active:
                    return  # stepped down while this ran: the new active has the call
                log.exception("call %s: %s failed", call_id, name)
                call = self.table.calls.get(call_id)
                if call is not None:
                    await self.hangup(call, EndedBy.SYSTEM, 500)

        task = asyncio.get_running_loop().create_task(run(), name=f"{name}:{call_id}")
        live = self.live.setdefault(call_id, Live())
        live.tasks.add(task)
        task.add_done_callback(live.tasks.discard)
        return task

    def key_pressed(self, call_id: str, tag: str, key: str) -> None:
        """A caller's key goes to the IVR or the queue's menu; keys pressed while talking to an agent
        (a card's code during a PCI pause) are dropped, never kept for a later menu to publish."""
        live, call = self.live.get(call_id), self.table.calls.get(call_id)
        if live is not None and tag == CALLER and call is not None and call.state in (S.IVR, S.QUEUED):
            live.keys.put_nowait(key)

    def _attach(self, call: Call, dialog: Dialog, side: str) -> None:
        live = self.live.setdefault(call.id, Live())
        if side == CALLER:
            live.caller, call.caller_leg = dialog, leg_record(dialog)
        else:
            live.agent, call.agent_leg = dialog, leg_record(dialog)
        self.legs[dialog.key] = (call.id, side)

    # inbound calls ------------------------------------------------------------------------------
    async def inbound(self, incoming: IncomingCall) -> None:
        request = incoming.request
        host = incoming.tx.peer[0]
        if not self.limiter.allow(host):
            self.stats["invites-limited"] += 1
            incoming.reject(503, "Service Unavailable", {"Retry-After": "5"})
            return
        trunk = self.plan.trunk_for(host)
        if trunk is None:
            self.stats["invites-forbidden"] += 1
            incoming.reject(403, "Forbidden")
            return
        if request.content_type != "application/sdp" or not request.body:
            incoming.reject(
                488, "Not Acceptable Here", {"Warning": '399 callisto "an SDP offer is required"'}
            )
            return
        dialled = printable(request.uri.user) if isinstance(request.uri, SipUri) and request.uri.user else ""
        flow = self.plan.flow_for(dialled)
        if flow is None:
            incoming.reject(404, "Not Found")
            return
        caller_uri = request.from_.uri
        caller = printable(caller_uri.user) if isinstance(caller_uri, SipUri) and caller_uri.user else ""
        caller = caller or "anonymous"
        call = Call(
            id=new_id(), direction=CallDirection.INBOUND, caller=caller, dialled=dialled, trunk=trunk.name
        )
        call.caller_offer = request.body.decode("utf-8", "replace")
        try:
            call.agent_sdp = (await self.relay.offer(call.id, request.body)).decode()
            caller_sdp = await self.relay.answer(call.id, placeholder(call.agent_sdp.encode()))
        except MediaRelayError as exc:
            log.warning("call from %s refused: %s", host, exc.message)
            await self.relay.delete(call.id)
            if exc.status == 503:
                incoming.reject(503, "Service Unavailable", {"Retry-After": "5"})
            else:
                incoming.reject(488, "Not Acceptable Here", {"Warning": f'399 callisto "{exc.error_id}"'})
            return
        if incoming.cancelled.is_set():
            await self.relay.delete(call.id)
            return
        self.live[call.id] = Live()
        dialog = await incoming.answer(caller_sdp)
        self._attach(call, dialog, CALLER)
        self.stats["calls"] += 1
        await self.table.add(call)
        if self.run_flow is None:
            await self.hangup(call, EndedBy.SYSTEM, 480)
            return
        self.spawn(call.id, self.run_flow(call, flow), "ivr")

    # media --------------------------------------------------------------------------------------
    async def say(self, call: Call, names: list[str], *, interruptible: bool = False) -> str | None:
        """Play prompts one after another; with ``interruptible`` a key press stops them and is
        returned."""
        live = self.live[call.id]
        for name in names:
            duration_ms = await self.relay.play(call.id, self.prompts.file(name))
            if not interruptible:
                await asyncio.sleep(duration_ms / 1000)
                continue
            try:
                key = await asyncio.wait_for(live.keys.get(), duration_ms / 1000)
            except TimeoutError:
                continue
            await self.relay.stop_playing(call.id)
            return key
        return None

    def hang_up_saying(self, call: Call, prompt: str) -> None:
        """Say ``prompt`` to the caller (whatever played before stops), then end the call."""
        if prompt not in self.prompts.files:
            raise UnknownPrompt(f"the dial plan has no prompt {prompt!r}", {"prompt": prompt})

        async def work() -> None:
            await self.relay.stop_playing(call.id)
            await self.say(call, [prompt])
            await self.hangup(call, EndedBy.SYSTEM)

        self.spawn(call.id, work(), "message")

    async def hold_music(self, call: Call, prompt: str | None) -> None:
        if prompt:
            await self.relay.play(call.id, self.prompts.file(prompt), repeat=HOLD_REPEAT)

    # connecting agents --------------------------------------------------------------------------
    async def connect(self, call: Call, agent_id: str, offer_id: str, ring_timeout_s: float) -> None:
        """Ring the agent (the outcome is published, never raised), bridge on answer."""
        if call.state not in (S.IVR, S.QUEUED, S.CONNECTED, S.HELD):
            raise InvalidCallState(f"call {call.id} is {call.state.value}", {"call_id": call.id})
        self.spawn(call.id, self._ring(call, agent_id, offer_id, ring_timeout_s), "ring")

    async def _ring(self, call: Call, agent_id: str, offer_id: str, ring_timeout_s: float) -> None:
        result = await self.ring(call, agent_id, ring_timeout_s, offer_id=offer_id)
        await self.notifier.connect_outcome(call.id, agent_id, offer_id, result)

    def cancel_ring(self, call: Call, offer_id: str) -> None:
        """Stop ringing for a withdrawn offer (the ring then ends as no answer)."""
        ring = self.live[call.id].rings.get(offer_id) if call.id in self.live else None
        if ring is not None:
            ring.set()

    async def ring(
        self,
        call: Call,
        agent_id: str,
        timeout_s: float,
        *,
        offer_id: str | None = None,
        fallback: CallState | None = S.QUEUED,
        auto: bool = False,
    ) -> ConnectResult:
        """Ring the agent's phone with rtpengine's agent side; on answer bridge. Unanswered, the call
        goes back to ``fallback`` (None: stays where it is, for the caller to decide) unless other
        phones still ring for it (ring-all); a phone answering after another one did is hung up.
        ``auto``: the phone answers by itself (RFC 5373; the agent agreed in a consult)."""
        live = self.live[call.id]
        bindings = await self.bindings.of_agent(agent_id)
        if not bindings:
            return ConnectResult.FAILED
        binding = bindings[0]
        await self._media_for(call, WEBRTC if binding.browser else RTP)
        await self.table.move(call, S.RINGING, agent_id=agent_id, offer_id=offer_id)
        extra = {CALL_HEADER: call.id, **caller_headers(call), **(AUTO if auto else {})}
        dialog = await self._invite(
            call, binding.contact, binding.address, binding.protocol, call.agent_sdp.encode(), timeout_s,
            ring=offer_id or "", extra=extra,
        )  # fmt: skip
        if isinstance(dialog, int):
            if live.ending:
                return ConnectResult.CALLER_GONE
            # back to the queue only when no other phone rings for the call nor answered it (an
            # answer being bridged meanwhile keeps the call ringing until it is connected)
            if fallback is not None and not live.rings and live.agent is None and call.state is S.RINGING:
                await self.table.move(call, fallback, agent_id=None, offer_id=None)
            if dialog in (486, 600, 603):
                return ConnectResult.BUSY
            if dialog in (408, 480, 487):
                return ConnectResult.NO_ANSWER
            return ConnectResult.FAILED
        if live.agent is not None:  # another phone of this call answered first
            await self._bye(dialog)
            return ConnectResult.NO_ANSWER
        self._attach(call, dialog, AGENT)
        for ring in live.rings.values():
            ring.set()
        answer = dialog.answered.body if dialog.answered is not None else b""
        self._cancel(live, "wait")
        try:
            live.caller_sdp = await self.relay.answer(call.id, answer)
            live.agent_answer = answer
            await self.relay.stop_playing(call.id)
        except MediaRelayError:
            await self.hangup(call, EndedBy.SYSTEM, 503)
            return ConnectResult.FAILED
        # the first answer: the policy decides; a new agent: a new segment with their leg's port; a
        # paused recording (a card number being read out) stays paused until someone resumes it
        record = call.recording == "on" or (not call.recording_decided and self._by_policy(call))
        call.recording_decided = True
        await self.table.move(call, S.CONNECTED, agent_id=agent_id, offer_id=offer_id)
        if record:
            await self._record_quietly(call, RecordAction.START)
        return ConnectResult.ANSWERED

    async def _media_for(self, call: Call, kind: str) -> None:
        """Make rtpengine's agent side fit the phone about to ring: plain RTP for SIP phones, DTLS-SRTP
        with ICE for browsers (the caller side's SDP offered again; its ports stay). Every browser gets
        a fresh offer: ICE and DTLS are between rtpengine and one browser, a transfer's next browser
        must not be offered the credentials the previous one used. rtpengine takes a new ICE user
        only in an offer (in an answer it logs "ICE restart detected, but reset not allowed" and keeps
        checking the old browser's candidates), so the offer after a browser says ``reset``."""
        if (call.agent_media == kind and kind != WEBRTC) or not call.caller_offer:
            return
        again = call.agent_media == WEBRTC  # the next browser: rtpengine starts its ICE afresh
        sdp = await self.relay.offer(call.id, call.caller_offer.encode(), webrtc=kind == WEBRTC, reset=again)
        call.agent_sdp, call.agent_media = sdp.decode(), kind

    # call control --------------------------------------------------------------------------------
    async def hold(self, call: Call, on: bool) -> None:
        """Hold (music to the caller, both directions blocked) or resume; a repeat changes nothing."""
        if call.state is (S.HELD if on else S.CONNECTED):
            return
        if call.state is not (S.CONNECTED if on else S.HELD):
            raise InvalidCallState(f"call {call.id} is {call.state.value}", {"call_id": call.id})
        if on:
            await self.relay.block(call.id, AGENT)
            await self.relay.block(call.id, CALLER)
            await self.hold_music(call, "hold")
        else:
            await self.relay.stop_playing(call.id)
            await self.relay.unblock(call.id, AGENT)
            await self.relay.unblock(call.id, CALLER)
        await self.table.move(call, S.HELD if on else S.CONNECTED)

    async def record(self, call: Call, action: RecordAction) -> None:
        """Start, stop, pause (stop: a segment ends) or resume (start: a new one). A segment starts
        with the legs' rtpengine ports in its metadata, so the recording service tells the customer's
        audio from the agent's; when the agent changes, the segment is started again."""
        verb, state = RECORDING[action]
        if verb == "start" and (full := self.room.refusing):
            raise NoRoomToRecord(f"the recording store has no room: {full}", {"call_id": call.id})
        if verb == "start" and call.recording == "on":
            await self.relay.recording(call.id, "stop")
        metadata = self._recording_metadata(call) if verb == "start" else None
        await self.relay.recording(call.id, verb, metadata)
        call.recording = state
        await self.table.save(call)

    def _recording_metadata(self, call: Call) -> str:
        live = self.live.get(call.id)
        customer = media_port(live.caller_sdp if live else b"")
        agent = media_port(call.agent_sdp.encode())
        return f"callisto-recording v1 call={call.id} customer={customer} agent={agent}"

    def _by_policy(self, call: Call) -> bool:
        campaign = call.variables.get("campaign")
        return self.recording.records(call.id, call.queue_id, campaign, call.direction)

    async def _record_quietly(self, call: Call, action: RecordAction) -> None:
        """Recording by policy: a refusal is logged, counted and told; the call goes on."""
        try:
            await self.record(call, action)
        except (MediaRelayError, NoRoomToRecord) as exc:  # unavailable too
            self.stats["recording-refused"] += 1
            log.warning("call %s not recorded: %s", call.id, exc.message)
            await self.notifier.recording_refused(call.id, exc.message)

    async def transfer(self, call: Call, kind: TransferKind, target: str, *, auto: bool = False) -> None:
        """Blind transfer: the agent leg ends, the caller goes to the target (an agent's phone answers
        by itself with ``auto``: the end of a consult)."""
        if call.state not in (S.CONNECTED, S.HELD, S.QUEUED, S.IVR):
            raise InvalidCallState(f"call {call.id} is {call.state.value}", {"call_id": call.id})
        if kind is TransferKind.AGENT and not await self.bindings.of_agent(target):
            raise AgentNotRegistered(f"agent {target!r} has no registered phone", {"agent_id": target})
        if kind is TransferKind.NUMBER and self.plan.outbound() is None:
            raise UnknownTransferTarget("no trunk takes outbound calls", {"target": target})
        await self._drop_agent(call)
        await self.relay.stop_playing(call.id)
        if kind is TransferKind.QUEUE:
            await self.to_queue(call, QueueRequest(target))
        elif kind is TransferKind.AGENT:
            self.spawn(call.id, self._transfer_to_agent(call, target, auto), "transfer")
        else:
            self.spawn(call.id, self.dial_out(call, target), "transfer")

    async def _transfer_to_agent(self, call: Call, agent_id: str, auto: bool) -> None:
        result = await self.ring(call, agent_id, self.ring_timeout_s, auto=auto)
        if result is not ConnectResult.ANSWERED and not self.live[call.id].ending:
            if call.queue_id:
                await self.to_queue(call, QueueRequest(call.queue_id))
            else:
                await self.say(call, ["sorry"])
                await self.hangup(call, EndedBy.SYSTEM, 480)

    async def lookup_caller(self, call: Call, timeout_s: float) -> ContactCard | None:
        """Who the caller is, by caller id (helpdesk's contacts); None when unknown or unanswered."""
        if self.contacts is None:
            return None
        return await self.contacts(call.caller, timeout_s)

    async def to_queue(self, call: Call, wanted: QueueRequest) -> None:
        if self.enqueue is None:
            raise UnknownTransferTarget("queues are not available", {"target": wanted.queue_id})
        await self.enqueue(call, wanted)

    async def _invite(
        self, call: Call, target: str, peer: tuple[str, int], protocol: str, offer: bytes, timeout_s: float,
        *, ring: str = "", extra: dict[str, str] | None = None,
    ) -> Dialog | int:  # fmt: skip
        """INVITE ``target`` with ``offer`` (and ``extra`` headers), cancelled after ``timeout_s``, when
        the call ends or when ``cancel_ring`` names ``ring``; the confirmed dialog, or the failure status
        (408 for no answer at all, 487 when cancelled)."""
        live = self.live[call.id]
        cancel = asyncio.Event()
        ring = ring or new_id()
        live.rings[ring] = cancel
        timer = asyncio.get_running_loop().call_later(timeout_s, cancel.set)
        try:
            dialog = await self.ua.call(
                target, peer, body=offer, protocol=protocol,
                from_uri=f"sip:{call.caller}@{self.ua.endpoint.host}", cancel=cancel, extra=extra,
            )  # fmt: skip
        except (CallFailed, SipError) as exc:
            return exc.response.status if isinstance(exc, CallFailed) else 408
        finally:
            timer.cancel()
            live.rings.pop(ring, None)
        if live.ending:
            await self._bye(dialog)
            return 487
        return dialog

    async def _dial_trunk(self, call: Call, number: str, offer: bytes, timeout_s: float) -> Dialog | int:
        """INVITE ``number`` through the outbound trunk."""
        trunk = self.plan.outbound()
        if trunk is None or trunk.outbound is None:
            raise UnknownTransferTarget("no trunk takes outbound calls", {"target": number})
        route = trunk.outbound
        target = f"sip:{number}@{route.host}:{route.port}"
        found = await self._invite(call, target, (route.host, route.port), route.transport, offer, timeout_s)
        self.trunk_outcomes[(trunk.name, trunk_outcome(found))] += 1
        return found

    async def dial_out(self, call: Call, number: str) -> None:
        """Connect the caller to a number through the outbound trunk."""
        await self.table.move(call, S.RINGING, agent_id=None)
        found = await self._dial_trunk(call, number, call.agent_sdp.encode(), self.ring_timeout_s)
        if isinstance(found, int):
            if not self.live[call.id].ending:
                await self.say(call, ["sorry"])
                await self.hangup(call, EndedBy.SYSTEM, found)
            return
        self._attach(call, found, AGENT)
        await self.relay.answer(call.id, found.answered.body if found.answered is not None else b"")
        await self.table.move(call, S.CONNECTED)

    # outbound calls -------------------------------------------------------------------------------
    async def originate(
        self, number: str, *, agent_id: str | None, queue_id: str | None, caller_id: str | None,
        ring_timeout_s: float, call_id: str | None = None, offer_id: str | None = None,
        campaign_id: str | None = None, message: str | None = None, press_key: str | None = None,
    ) -> Call:  # fmt: skip
        """Ring the agent first (when given), then the number; without an agent the answered call
        goes to ``queue_id``, or hears ``message`` (``press_key`` then puts it through to the queue).
        rtpengine's caller side stands for the customer from the start, with a placeholder until they
        answer (a second offer then points it at them; the ports stay)."""
        trunk = self.plan.outbound()
        if trunk is None:
            raise UnknownTransferTarget("no trunk takes outbound calls", {"target": number})
        if agent_id is None and queue_id is None and message is None:
            raise UnknownTransferTarget(
                "an outbound call needs an agent, a queue or a message", {"target": number}
            )
        if message is not None and message not in self.prompts.files:
            raise UnknownPrompt(f"the dial plan has no prompt {message!r}", {"prompt": message})
        if agent_id is not None and not await self.bindings.of_agent(agent_id):
            raise AgentNotRegistered(f"agent {agent_id!r} has no registered phone", {"agent_id": agent_id})
        if call_id is not None and (call_id in self.table.calls or call_id in self.live):
            raise CallExists(f"a call {call_id!r} is under way", {"call_id": call_id})
        caller = caller_id or "callisto"
        call = Call(
            id=call_id or new_id(), direction=CallDirection.OUTBOUND, caller=caller, dialled=number,
            trunk=trunk.name, variables={"campaign": campaign_id} if campaign_id else {},
        )  # fmt: skip
        call.caller_offer = self.silence.decode()
        call.agent_sdp = (await self.relay.offer(call.id, self.silence)).decode()
        self.live[call.id] = Live()
        await self.table.add(call)
        work = self._originate(
            call, agent_id, queue_id, ring_timeout_s, offer_id, Message(message, press_key)
        )
        self.spawn(call.id, work, "originate")
        return call

    async def _originate(
        self, call: Call, agent_id: str | None, queue_id: str | None, timeout_s: float, offer_id: str | None,
        message: Message,
    ) -> None:  # fmt: skip
        live = self.live[call.id]
        if agent_id is not None:
            result = await self.ring(call, agent_id, timeout_s, offer_id=offer_id, fallback=None)
            if offer_id is not None:
                await self.notifier.connect_outcome(call.id, agent_id, offer_id, result)
            if result is not ConnectResult.ANSWERED:
                await self.hangup(call, EndedBy.SYSTEM, 480)
                return
            agent_answer = live.agent_answer
            offer = live.caller_sdp
        else:
            agent_answer = placeholder(call.agent_sdp.encode())
            offer = await self.relay.answer(call.id, agent_answer)
        await self.table.move(call, S.RINGING)  # now the customer's phone rings
        found = await self._dial_trunk(call, call.dialled, offer, timeout_s)
        if isinstance(found, int):
            if not live.ending:
                await self.hangup(call, EndedBy.SYSTEM, found)
            return
        self._attach(call, found, CALLER)
        customer = found.answered.body if found.answered is not None else b""
        call.caller_offer = customer.decode("utf-8", "replace")
        await self.relay.offer(call.id, customer, webrtc=call.agent_media == WEBRTC)
        await self.relay.answer(call.id, agent_answer)
        if agent_id is not None:
            await self.table.move(call, S.CONNECTED)
        elif message.prompt is not None:
            await self._say_message(call, message, queue_id)
        else:
            await self.to_queue(call, QueueRequest(queue_id or "", announce=False))

    async def _say_message(self, call: Call, message: Message, queue_id: str | None) -> None:
        """An answered customer hears the message; its key (during it or within a few seconds after)
        puts them through to the queue, else the line is cleared."""
        assert message.prompt is not None
        await self.table.move(call, S.IVR)
        key = await self.say(call, [message.prompt], interruptible=message.key is not None)
        if message.key is not None and key is None:
            try:
                key = await asyncio.wait_for(self.live[call.id].keys.get(), KEY_AFTER_MESSAGE_S)
            except TimeoutError:
                key = None
        if key is not None and key == message.key and queue_id is not None:
            await self.to_queue(call, QueueRequest(queue_id, announce=False))
            return
        await self.hangup(call, EndedBy.SYSTEM)

    async def _drop_agent(self, call: Call) -> None:
        live = self.live[call.id]
        for ring in live.rings.values():
            ring.set()
        if live.agent is not None:
            dialog, live.agent, call.agent_leg = live.agent, None, None
            self.legs.pop(dialog.key, None)
            await self._bye(dialog)
            for hook in self.agent_left:
                await hook(call.id)
        if call.state is S.HELD:
            await self.relay.unblock(call.id, AGENT)
            await self.relay.unblock(call.id, CALLER)

    def cancel_tasks(self, call: Call, *names: str) -> None:
        """Stop the call's tasks of these names (not the one asking)."""
        live = self.live.get(call.id)
        if live is not None:
            self._cancel(live, *names)

    def _cancel(self, live: Live, *names: str) -> None:
        current = asyncio.current_task()
        for task in list(live.tasks):
            if task is not current and task.get_name().split(":")[0] in names:
                task.cancel()

    async def _bye(self, dialog: Dialog) -> None:
        self.legs.pop(dialog.key, None)
        if dialog.state is not DialogState.TERMINATED:
            try:
                await dialog.bye()
            except SipError as exc:
                log.info("BYE in %s: %s", dialog.call_id, exc.message)

    async def hangup(self, call: Call, by: EndedBy, status: int | None = None) -> None:
        """End the call: both legs get a BYE (unless they sent it), rtpengine forgets it. A standby ends
        nothing: the new active has the call."""
        if not self.active:
            return
        live = self.live.setdefault(call.id, Live())
        if live.ending:
            return
        live.ending = True
        for ring in live.rings.values():
            ring.set()
        self._cancel(live, "ivr", "wait")
        for dialog in (live.caller, live.agent):
            if dialog is not None:
                await self._bye(dialog)
        for hook in self.ended:  # listeners' legs first: rtpengine still knows their subscriptions
            await hook(call.id)
        await self.relay.delete(call.id)
        if call.state is not S.ENDED:
            await self.table.move(call, S.ENDED, ended_by=by, sip_status=status)
        self.live.pop(call.id, None)

    def _dialog_changed(self, dialog: Dialog, state: DialogState) -> None:
        if state is not DialogState.TERMINATED:
            return
        found = self.legs.pop(dialog.key, None)
        if found is None:
            return
        call_id, side = found
        call = self.table.calls.get(call_id)
        live = self.live.get(call_id)
        if call is None or live is None or live.ending:
            return
        if side == CALLER:
            live.caller = None
        else:
            live.agent = None
        by = EndedBy.CALLER if side == CALLER else EndedBy.AGENT
        self.spawn(call_id, self.hangup(call, by, 200), "hangup")

    # active and standby ---------------------------------------------------------------------------
    def step_down(self) -> None:
        """This instance lost its lease (or stops): let go of every call without ending any (no BYE,
        rtpengine untouched); they stay in Redis for the new active."""
        self.active = False
        for live in self.live.values():
            for ring in live.rings.values():
                ring.set()
            for task in list(live.tasks):
                task.cancel()
        self.live.clear()
        self.legs.clear()
        self.table.calls.clear()
        self.ua.forget()

    def adopt(self, call: Call) -> None:
        """Take over a call found in Redis at start: rebuild its dialogs so BYEs and commands work."""
        live = self.live.setdefault(call.id, Live())
        for side, record in ((CALLER, call.caller_leg), (AGENT, call.agent_leg)):
            if record is None:
                continue
            dialog = Dialog(
                self.ua,
                call_id=record.call_id,
                local=NameAddr.parse(record.local),
                remote=NameAddr.parse(record.remote),
                remote_target=parse_uri(record.remote_target),
                route_set=record.route_set,
                local_seq=record.local_seq + 100,  # requests sent since the last save stay below
                remote_seq=record.remote_seq,
                protocol=record.protocol,
                state=DialogState.CONFIRMED,
            )
            dialog.acked.set()
            self.ua.dialogs[dialog.key] = dialog
            self.legs[dialog.key] = (call.id, side)
            if side == CALLER:
                live.caller = dialog
            else:
                live.agent = dialog
