"""rtpengine's NG control protocol over UDP: ``<cookie> <bencoded dict>`` both ways.

Every call-manager call is one rtpengine call (``call-id`` = Callisto's call id) with two monologues:
the caller's (``from-tag`` = ``CALLER``) and Callisto's side toward agents (``to-tag`` = ``AGENT``).
The caller's offer is answered at once with a placeholder for the agent side, so the caller can be
answered and hear prompts; each agent's answer later replaces the placeholder under the same tag, and
the ``port-latching`` flag keeps rtpengine's ports, so the caller never needs a re-INVITE.

A request is sent again with the same cookie when no reply comes (rtpengine answers a repeated cookie
from its cache, so a retry never runs a command twice).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from callisto_call_manager.bencode import BencodeError, decode, encode
from callisto_call_manager.errors import MediaRelayError, MediaRelayUnavailable

log = logging.getLogger(__name__)
CALLER = "caller"
AGENT = "agent"
_MID = re.compile(rb"^a=mid:\S+", re.MULTILINE)
READS = frozenset({"ping", "list", "query"})  # commands that change nothing
SDP_FLAGS = {
    "flags": ["port-latching"],
    "replace": ["origin", "session-connection"],
    "ICE": "remove",
    "transport-protocol": "RTP/AVP",
}
# toward a browser (WebRTC): DTLS-SRTP with ICE and RTCP multiplexed, as browsers require; SDES off
# (browsers refuse SDES keys), a=mid generated for the BUNDLE-minded.
WEBRTC_FLAGS = {
    "flags": ["port-latching", "generate-mid"],
    "replace": ["origin", "session-connection"],
    "ICE": "force",
    "transport-protocol": "UDP/TLS/RTP/SAVPF",
    "rtcp-mux": ["offer", "require"],
    "SDES": ["off"],
}


def browser_role(offer: bytes) -> bytes:
    """rtpengine offers actpass and, not knowing the answer yet, takes the client role as soon as the
    browser's connectivity checks succeed; a browser that chose client too (its answer races ahead
    of the 200 OK reaching us) meets it head-on ("unexpected message"). Offering setup:active
    (RFC 8842) makes the browser the DTLS server: it waits for rtpengine's handshake."""
    return offer.replace(b"a=setup:actpass", b"a=setup:active")


def unique_mids(sdp: bytes) -> bytes:
    """rtpengine 10.5 gives every stream of a subscription the mid of the party it copies (both "1"
    here); browsers refuse a description whose mids repeat: number them in order."""
    count = itertools.count()
    return _MID.sub(lambda _: b"a=mid:%d" % next(count), sdp)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, relay: MediaRelay) -> None:
        self.relay = relay

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.relay._reply(data)

    def error_received(self, exc: Exception) -> None:
        log.debug("rtpengine socket: %r", exc)


def _text(value: Any) -> Any:
    """Reply strings as text (rtpengine speaks UTF-8)."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, list):
        return [_text(item) for item in value]
    if isinstance(value, dict):
        return {key: _text(item) for key, item in value.items()}
    return value


class MediaRelay:
    def __init__(self, host: str, port: int, *, timeout_s: float = 0.5, attempts: int = 4) -> None:
        self.address = (host, port)
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.stats: Counter[str] = Counter()
        self.allowed: Callable[[], bool] = lambda: True  # False: only reads (a stale active changes nothing)
        self._transport: asyncio.DatagramTransport | None = None
        self._pending: dict[bytes, asyncio.Future[dict[str, Any]]] = {}

    async def start(self) -> MediaRelay:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), remote_addr=self.address
        )
        return self

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def _reply(self, data: bytes) -> None:
        cookie, _, body = data.partition(b" ")
        future = self._pending.get(cookie)
        if future is None or future.done():
            self.stats["late-replies"] += 1
            return
        try:
            reply = decode(body)
            if not isinstance(reply, dict):
                raise BencodeError("the reply is not a dictionary")
        except BencodeError as exc:
            future.set_exception(MediaRelayError(f"unreadable reply from rtpengine: {exc}"))
            return
        future.set_result(reply)

    async def command(self, name: str, **arguments: Any) -> dict[str, Any]:
        """Send one command; the reply's strings are decoded. Raises MediaRelayError on an error
        result, MediaRelayUnavailable when rtpengine does not answer."""
        if self._transport is None:
            raise MediaRelayUnavailable("the media relay client is not started")
        if name not in READS and not self.allowed():
            self.stats["held-back"] += 1
            raise MediaRelayUnavailable(f"'{name}' held back: this instance is not the active one")
        message = {key.replace("_", "-"): value for key, value in arguments.items() if value is not None}
        message["command"] = name
        cookie = os.urandom(6).hex().encode()
        datagram = cookie + b" " + encode(message)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[cookie] = future
        self.stats[f"command:{name}"] += 1
        try:
            for _ in range(self.attempts):
                self._transport.sendto(datagram)
                try:
                    reply = await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
                    break
                except TimeoutError:
                    self.stats["retries"] += 1
            else:
                self.stats["unanswered"] += 1
                raise MediaRelayUnavailable(f"rtpengine did not answer '{name}'")
        finally:
            self._pending.pop(cookie, None)
            if not future.done():
                future.cancel()
        result: dict[str, Any] = _text(reply)
        if result.get("result") == "error":
            self.stats[f"error:{name}"] += 1
            raise MediaRelayError(f"rtpengine refused '{name}': {result.get('error-reason', '?')}")
        return result

    # the commands call-manager uses -------------------------------------------------------------
    async def ping(self) -> bool:
        try:
            return (await self.command("ping")).get("result") == "pong"
        except (MediaRelayError, MediaRelayUnavailable):
            return False

    async def offer(
        self, call_id: str, sdp: bytes, *, from_tag: str = CALLER, to_tag: str | None = None,
        webrtc: bool = False, reset: bool = False,
    ) -> bytes:  # fmt: skip
        """The SDP for the other side of ``sdp``'s party: plain RTP, or WebRTC for a browser.
        ``to_tag``: a new offer from the party that answered (the other way round); ``reset``: ICE
        starts again on both sides (another browser is about to answer)."""
        flags: dict[str, Any] = dict(WEBRTC_FLAGS if webrtc else SDP_FLAGS)
        if reset:
            flags["flags"] = [*flags["flags"], "reset"]
        reply = await self.command(
            "offer", call_id=call_id, from_tag=from_tag, to_tag=to_tag, sdp=sdp, **flags
        )
        offer = str(reply["sdp"]).encode()
        return browser_role(offer) if webrtc else offer

    async def answer(
        self, call_id: str, sdp: bytes, *, from_tag: str = CALLER, to_tag: str = AGENT, webrtc: bool = False
    ) -> bytes:
        """The SDP for the offering party (``webrtc``: a browser) from the answering party's ``sdp``."""
        flags = WEBRTC_FLAGS if webrtc else SDP_FLAGS
        reply = await self.command(
            "answer", call_id=call_id, from_tag=from_tag, to_tag=to_tag, sdp=sdp, **flags
        )
        return str(reply["sdp"]).encode()

    async def subscribe(
        self, call_id: str, parties: tuple[str, ...] = (CALLER, AGENT), *, webrtc: bool = False
    ) -> tuple[bytes, str]:
        """A listener's offer of the ``parties``' audio (one send-only stream each) and its tag."""
        flags = WEBRTC_FLAGS if webrtc else SDP_FLAGS
        reply = await self.command("subscribe request", call_id=call_id, from_tags=list(parties), **flags)
        offer = str(reply["sdp"]).encode()
        return (unique_mids(offer) if webrtc else offer), str(reply["to-tag"])

    async def subscribe_answer(self, call_id: str, to_tag: str, sdp: bytes) -> None:
        await self.command("subscribe answer", call_id=call_id, to_tag=to_tag, sdp=sdp)

    async def unsubscribe(self, call_id: str, to_tag: str) -> None:
        try:
            await self.command("unsubscribe", call_id=call_id, to_tag=to_tag)
        except MediaRelayError:
            pass  # the call (and its subscriptions) is gone already

    async def delete(self, call_id: str) -> None:
        try:
            await self.command("delete", call_id=call_id)
        except MediaRelayError:
            pass  # already gone: the goal is reached

    async def query(self, call_id: str) -> dict[str, Any]:
        return await self.command("query", call_id=call_id)

    async def calls(self) -> list[str]:
        return [str(c) for c in (await self.command("list", limit=100_000)).get("calls", [])]

    async def play(self, call_id: str, file: str, *, to_tag: str = CALLER, repeat: int = 1) -> int:
        """Play a WAV file to the party ``to_tag``; returns its duration in milliseconds."""
        reply = await self.command(
            "play media", call_id=call_id, from_tag=to_tag, file=file, repeat_times=repeat
        )
        return int(reply.get("duration", 0))

    async def stop_playing(self, call_id: str, *, to_tag: str = CALLER) -> None:
        try:
            await self.command("stop media", call_id=call_id, from_tag=to_tag)
        except MediaRelayError:
            pass  # nothing was playing

    async def block(self, call_id: str, tag: str) -> None:
        """Stop relaying what ``tag`` sends (prompts to the other party are not mixed with it)."""
        await self.command("block media", call_id=call_id, from_tag=tag)

    async def unblock(self, call_id: str, tag: str) -> None:
        await self.command("unblock media", call_id=call_id, from_tag=tag)

    async def recording(self, call_id: str, action: str, metadata: str | None = None) -> None:
        """``action``: start or stop (rtpengine's ``start/stop recording``); ``metadata`` goes into
        the segment's metadata file (the recording service reads the legs' ports from it)."""
        await self.command(f"{action} recording", call_id=call_id, metadata=metadata)
