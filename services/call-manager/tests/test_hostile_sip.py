"""Malformed and hostile SIP at call-manager over real sockets: the RFC 4475 invalid messages,
truncated and oversized messages, unknown methods and numbers, foreign sources, INVITE floods, and
registrations with wrong credentials. Each gets its response or is dropped and counted; the service
keeps serving and leaks no transaction, dialog or rtpengine session."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import nats
import pytest
import yaml
from cm_testing import call_manager, register_with_sipp
from conformance import cases, outcome
from nats.aio.msg import Msg

from callisto_call_manager.app import Parts
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.servers import NatsServer, RtpEngine
from callisto_protocol.calls import CallStateChanged

pytestmark = pytest.mark.integration
PLAN = {
    "trunks": [{"name": "gateway", "sources": ["127.0.0.1"]}],
    "numbers": {"311": "bye"},
    "flows": {"bye": {"start": "end", "steps": {"end": {"hangup": "goodbye"}}}},
}


def request(
    method: str, number: str, *, body: bytes = b"", call_id: str | None = None, extra: str = ""
) -> bytes:
    call_id = call_id or os.urandom(8).hex()
    content = "Content-Type: application/sdp\r\n" if body else ""
    head = (
        f"{method} sip:{number}@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK{os.urandom(6).hex()}\r\n"
        f"From: <sip:5550000@127.0.0.1>;tag={os.urandom(4).hex()}\r\nTo: <sip:{number}@127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 1 {method}\r\nMax-Forwards: 70\r\n"
        f"Contact: <sip:5550000@127.0.0.1:5999>\r\n"
        f"{extra}{content}Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


SDP = (
    b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 5998 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


def statuses(replies: list[bytes]) -> list[int]:
    return [int(r.split(b" ", 2)[1]) for r in replies if r.startswith(b"SIP/2.0 ")]


def final_per_call(replies: list[bytes]) -> dict[str, int]:
    """The final status each Call-ID got (retransmissions counted once)."""
    found: dict[str, int] = {}
    for reply in replies:
        status = int(reply.split(b" ", 2)[1])
        call_id = next(line for line in reply.split(b"\r\n") if line.startswith(b"Call-ID:"))
        if status >= 200:
            found[call_id.decode()] = status
    return found


async def exchange(
    port: int, datagrams: list[bytes], *, source: str = "127.0.0.1", wait: float = 1.0
) -> list[bytes]:
    """Send datagrams from one socket; every datagram that comes back within ``wait`` of the last."""

    def run() -> list[bytes]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
            sock.bind((source, 0))
            sock.settimeout(wait)
            for datagram in datagrams:
                sock.sendto(datagram, ("127.0.0.1", port))
            replies: list[bytes] = []
            try:
                while True:
                    replies.append(sock.recv(70_000))
            except TimeoutError:
                return replies

    return await asyncio.to_thread(run)


async def settled(parts: Parts, timeout: float = 25.0) -> None:
    """No transaction, dialog, live call or rtpengine session is left."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        media = await parts.relay.calls()
        endpoint = parts.endpoint
        if not (endpoint.server or endpoint.client or parts.board.ua.dialogs or parts.board.live or media):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(
        f"left over: {len(parts.endpoint.server)} server and {len(parts.endpoint.client)} client "
        "transactions, "
        f"{len(parts.board.ua.dialogs)} dialogs, {len(parts.board.live)} calls, {await parts.relay.calls()}"
    )


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(PLAN))
    return path


async def test_rfc4475_invalid_messages_get_their_answer_and_nothing_breaks(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, plan_file: Path
) -> None:
    async with call_manager(private_nats.url, redis_url, rtpengine, token_issuer, config_file=plan_file) as (
        parts,
        _,
    ):
        port = parts.sip_port
        for case in cases():
            if case.klass != "invalid":
                continue
            expected = outcome(case.data)
            got = statuses(await exchange(port, [case.data], wait=0.3))
            if expected.startswith("rejected") and case.data.startswith(b"SIP/2.0"):
                assert got == [], (case.name, got)  # a bad response is dropped, never answered
            elif expected.startswith("rejected"):
                assert got and got[0] == int(expected.split()[1]), (case.name, expected, got)
        malformed = sum(
            n for k, n in parts.endpoint.transport("UDP").stats.items() if k.startswith("malformed")
        )
        assert malformed >= 15
        assert statuses(await exchange(port, [request("OPTIONS", "311")])) == [200]  # still serving
        await settled(parts)


async def test_hostile_requests_are_answered_or_dropped_and_counted(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, plan_file: Path
) -> None:
    async with call_manager(private_nats.url, redis_url, rtpengine, token_issuer, config_file=plan_file) as (
        parts,
        _,
    ):
        port = parts.sip_port
        invite = request("INVITE", "311", body=SDP)
        assert statuses(await exchange(port, [invite[: len(invite) // 2]])) in ([], [400])  # truncated
        lying = invite.replace(b"Content-Length: %d" % len(SDP), b"Content-Length: 999")
        assert statuses(await exchange(port, [lying])) == [400]
        huge = request("OPTIONS", "311", extra="X-Junk: " + "a" * 60_000 + "\r\n")
        assert statuses(await exchange(port, [huge])) == [200]  # big but well-formed
        assert statuses(await exchange(port, [request("FOO", "311")])) == [501]
        assert statuses(await exchange(port, [request("INVITE", "999", body=SDP)]))[-1] == 404
        assert statuses(await exchange(port, [request("INVITE", "311")]))[-1] == 488  # no SDP offer
        assert (
            statuses(await exchange(port, [request("INVITE", "311", body=SDP)], source="127.0.0.2"))[-1]
            == 403
        )
        assert statuses(await exchange(port, [request("BYE", "311", extra="")]))[-1] == 481
        # control characters: refused raw (400), left out when escaped in a URI (%00 in the caller)
        raw_nul = request("OPTIONS", "311").replace(
            b"Max-Forwards: 70", b"Max-Forwards: 70\r\nX-Note: a\x00b"
        )
        assert statuses(await exchange(port, [raw_nul])) == [400]
        callers: list[str] = []
        watcher = await nats.connect(private_nats.url)

        async def seen(msg: Msg) -> None:
            callers.append(CallStateChanged.decode(msg.data).caller)

        await watcher.subscribe(CallStateChanged.subscription(), cb=seen)
        escaped = request("INVITE", "311", body=SDP).replace(
            b"From: <sip:5550000@", b"From: <sip:555%00%1B0000@"
        )
        await exchange(port, [escaped], wait=0.5)
        async with asyncio.timeout(10):
            while not callers:
                await asyncio.sleep(0.05)
        await watcher.close()
        assert set(callers) == {"5550000"}  # what helpdesk and snitch store: no NUL for PostgreSQL to refuse

        # over TCP a message above 65,535 octets is refused and the connection closed (framing is lost)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("OPTIONS", "311", extra="X-Junk: " + "b" * 70_000 + "\r\n"))
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)
        assert answer.startswith(b"SIP/2.0 513")
        writer.close()

        # a flood from one source: the first burst is served, the rest get 503 without costing a call
        flood = [request("INVITE", "999", body=SDP) for _ in range(300)]
        answered = final_per_call(await exchange(port, flood, wait=2.0))
        finals = list(answered.values())
        limited = parts.board.stats["invites-limited"]
        assert finals.count(503) == limited >= 50, (len(finals), finals.count(404), limited)
        assert finals.count(404) + limited == len(flood)  # every INVITE answered, none lost
        # a call that is answered and hung up by the flow leaves nothing behind either
        accepted = statuses(await exchange(port, [request("INVITE", "311", body=SDP)], source="127.0.0.3"))
        assert accepted[-1] == 403  # not a trunk address
        await settled(parts)


async def test_registrations_with_wrong_credentials_are_refused(
    private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    async with call_manager(private_nats.url, redis_url, rtpengine, token_issuer) as (parts, _):
        target = f"127.0.0.1:{parts.sip_port}"
        assert await register_with_sipp(target, "operator1", "wrong", expect=403, folder=tmp_path) == 0
        assert await register_with_sipp(target, "nobody", "callisto", expect=403, folder=tmp_path) == 0
        assert (
            await register_with_sipp(target, "operator1", "callisto", expect=423, expires=10, folder=tmp_path)
            == 0
        )
        assert parts.registrar.stats["auth-failures"] == 2
        assert not await parts.board.bindings.of("operator1")
        contact = free_port()
        assert (
            await register_with_sipp(target, "operator1", "callisto", contact=contact, folder=tmp_path) == 0
        )
        bindings = await parts.board.bindings.of_agent("agent-1")
        assert [b.contact for b in bindings] == [f"sip:operator1@127.0.0.1:{contact}"]
        # Redis restarted empty (reproduced before: the phone believed it was registered, and
        # originate got agent-not-registered): the registration is written back from memory
        await parts.redis.flushdb()
        async with asyncio.timeout(10):
            while not await parts.board.bindings.of_agent("agent-1"):
                await asyncio.sleep(0.1)
        assert [b.contact for b in await parts.board.bindings.of_agent("agent-1")] == [bindings[0].contact]
        assert (
            await register_with_sipp(
                target, "operator1", "callisto", contact=contact, expires=0, folder=tmp_path
            )
            == 0
        )
        assert not await parts.board.bindings.of_agent("agent-1")
        await settled(parts)
