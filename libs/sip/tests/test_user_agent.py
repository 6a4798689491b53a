"""Transactions and dialogs between two endpoints over real loopback sockets: the paths sipp's
standard scenarios do not take (CANCEL, rejections, unknown dialogs and methods, malformed input)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from conformance import CORPUS

from callisto_devkit.processes import free_port
from callisto_sip import Request, parse_message
from callisto_sip.endpoint import Endpoint, response_to
from callisto_sip.transaction import Timers
from callisto_sip.ua import CallFailed, DialogState, IncomingCall, UserAgent

pytestmark = pytest.mark.integration
FAST = Timers(t1=0.05, t2=0.4, t4=0.2, d=0.5)


@pytest.fixture
async def pair() -> AsyncIterator[tuple[UserAgent, UserAgent]]:
    caller = UserAgent(await Endpoint("127.0.0.1", timers=FAST).start(free_port()), user="caller")
    callee = UserAgent(await Endpoint("127.0.0.1", timers=FAST).start(free_port()), user="callee")
    yield caller, callee
    await caller.endpoint.close()
    await callee.endpoint.close()


def target(ua: UserAgent) -> tuple[str, tuple[str, int]]:
    return f"sip:{ua.user}@127.0.0.1:{ua.endpoint.port}", ("127.0.0.1", ua.endpoint.port)


async def settled(*uas: UserAgent) -> None:
    for ua in uas:
        assert await ua.endpoint.wait_idle(5), (
            f"{ua.user}: transactions left {ua.endpoint.server} {ua.endpoint.client}"
        )
        assert ua.dialogs == {}


@pytest.mark.parametrize("protocol", ["UDP", "TCP"])
async def test_call_answer_and_bye_from_either_side(pair: tuple[UserAgent, UserAgent], protocol: str) -> None:
    caller, callee = pair
    states: list[tuple[str, DialogState]] = []
    callee.observers.append(lambda d, s: states.append(("callee", s)))
    answered: list[object] = []

    async def on_invite(call: IncomingCall) -> None:
        call.ring()
        answered.append(await call.answer(b"v=0\r\n"))

    callee.on_invite = on_invite
    uri, peer = target(callee)
    ringing: list[int] = []
    dialog = await caller.call(
        uri, peer, body=b"v=0\r\n", protocol=protocol, on_provisional=lambda r: ringing.append(r.status)
    )
    assert 180 in ringing
    assert dialog.state is DialogState.CONFIRMED
    await asyncio.sleep(0.1)
    info = await dialog.request("INFO", b"Signal=5\r\n", "application/dtmf-relay")
    assert info.status == 200
    reinvite = await dialog.request("INVITE", b"v=0\r\n")  # re-INVITE keeps the session
    assert reinvite.status == 200
    assert (await dialog.bye()).status == 200
    assert ("callee", DialogState.TERMINATED) in states
    await settled(caller, callee)


async def test_cancel_before_answer_gives_487(pair: tuple[UserAgent, UserAgent]) -> None:
    caller, callee = pair
    cancelled = asyncio.Event()

    async def on_invite(call: IncomingCall) -> None:
        call.ring()
        await call.cancelled.wait()
        cancelled.set()

    callee.on_invite = on_invite
    stop = asyncio.Event()
    uri, peer = target(callee)
    attempt = asyncio.create_task(caller.call(uri, peer, cancel=stop))
    await asyncio.sleep(0.1)
    stop.set()
    with pytest.raises(CallFailed) as caught:
        await attempt
    assert caught.value.response.status == 487
    await asyncio.wait_for(cancelled.wait(), 2)
    await settled(caller, callee)


async def test_rejected_call_is_acknowledged_and_leaves_nothing(pair: tuple[UserAgent, UserAgent]) -> None:
    caller, callee = pair

    async def on_invite(call: IncomingCall) -> None:
        call.reject(486, "Busy Here")

    callee.on_invite = on_invite
    uri, peer = target(callee)
    with pytest.raises(CallFailed) as caught:
        await caller.call(uri, peer)
    assert caught.value.response.status == 486
    await settled(caller, callee)  # the server transaction got its ACK (Timer H did not need to fire)


async def test_redirect(pair: tuple[UserAgent, UserAgent]) -> None:
    caller, callee = pair

    async def on_invite(call: IncomingCall) -> None:
        call.redirect(["sip:queue@10.0.0.9"])

    callee.on_invite = on_invite
    with pytest.raises(CallFailed) as caught:
        await caller.call(*target(callee))
    assert caught.value.response.status == 302
    assert str(caught.value.response.contacts[0].uri) == "sip:queue@10.0.0.9"


async def exchange(endpoint_port: int, data: bytes) -> bytes | None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.bind(("127.0.0.1", 0))
    try:
        await loop.sock_sendto(sock, data, ("127.0.0.1", endpoint_port))
        return await asyncio.wait_for(loop.sock_recv(sock, 65536), 1.0)
    except TimeoutError:
        return None
    finally:
        sock.close()


def request(method: str, to_tag: str | None = None) -> bytes:
    to = "<sip:callee@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    return (
        f"{method} sip:callee@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{method}1\r\n"
        f"From: <sip:x@127.0.0.1>;tag=1\r\nTo: {to}\r\nCall-ID: q-{method}\r\nCSeq: 7 {method}\r\n"
        f"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()


async def test_unknown_dialog_481_and_unknown_method_501(pair: tuple[UserAgent, UserAgent]) -> None:
    _, callee = pair
    reply = await exchange(callee.endpoint.port, request("BYE", to_tag="nope"))
    assert reply is not None
    response = parse_message(reply)
    assert (getattr(response, "status", None), response.call_id, str(response.cseq)) == (
        481,
        "q-BYE",
        "7 BYE",
    )
    assert response.to.tag == "nope" and response.top_via.branch == "z9hG4bKBYE1"
    assert response.top_via.params.get("received") is None  # the source is the sent-by host
    reply = await exchange(callee.endpoint.port, request("PUBLISH"))
    assert reply is not None
    unknown = parse_message(reply)
    assert getattr(unknown, "status", None) == 501
    assert "INVITE" in (unknown.headers.get("Allow") or "")


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("badvers", 505),
        ("mismatch01", 400),
        ("mismatch02", 501),
        ("badinv01", 400),
        ("insuf", None),
        ("bigcode", None),
    ],
)
async def test_invalid_torture_messages_over_the_wire(
    pair: tuple[UserAgent, UserAgent], name: str, status: int | None
) -> None:
    """A UAS answers 400/505/501 statelessly when it can read enough to answer; responses and
    requests without the headers an answer needs are dropped, counted."""
    _, callee = pair
    reply = await exchange(callee.endpoint.port, (CORPUS / f"{name}.dat").read_bytes())
    if status is None:
        assert reply is None
    else:
        assert reply is not None and reply.startswith(f"SIP/2.0 {status} ".encode())
    assert (
        sum(v for k, v in callee.endpoint.transports["UDP"].stats.items() if k.startswith("malformed:")) == 1
    )


async def test_out_of_order_cseq_in_a_dialog_gets_500(pair: tuple[UserAgent, UserAgent]) -> None:
    caller, callee = pair

    async def on_invite(call: IncomingCall) -> None:
        await call.answer()

    callee.on_invite = on_invite
    dialog = await caller.call(*target(callee))
    dialog.local_seq = 0  # the next request goes out with a CSeq lower than the INVITE's
    response = await dialog.request("INFO")
    assert response.status == 500
    await dialog.bye()
    await settled(caller, callee)


async def test_tcp_refuses_an_oversized_message_and_closes(pair: tuple[UserAgent, UserAgent]) -> None:
    _, callee = pair
    reader, writer = await asyncio.open_connection("127.0.0.1", callee.endpoint.port)
    writer.write(b"OPTIONS sip:callee@127.0.0.1 SIP/2.0\r\nX-Big: " + b"a" * 70_000 + b"\r\n")
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 3) == b""  # closed without an answer: framing is lost
    writer.close()
    stats = callee.endpoint.transports["TCP"].stats
    assert stats["malformed:too-large"] == 1


def test_response_to_copies_what_rfc3261_8_2_6_lists() -> None:
    invite = parse_message((CORPUS / "wsinv.dat").read_bytes())
    assert isinstance(invite, Request)
    response = response_to(invite, 180, "Ringing", to_tag="x")
    assert response.headers.raw_values("Via") == invite.headers.raw_values("Via")
    assert (response.call_id, response.cseq, response.from_.tag) == (
        invite.call_id,
        invite.cseq,
        invite.from_.tag,
    )
    assert response.to.tag == "1918181833n"  # an existing To tag is kept


async def test_calls_complete_with_loss_on_both_sides(pair: tuple[UserAgent, UserAgent]) -> None:
    """10 % of datagrams dropped in and out at both ends (every message, including the answers to
    INVITE, which sipp's UAS cannot lose): every call still completes and nothing is left open."""
    import random

    caller, callee = pair
    rng = random.Random(4475)
    for ua in (caller, callee):
        ua.endpoint.transports["UDP"].drop = lambda: rng.random() < 0.10  # type: ignore[attr-defined]

    async def on_invite(call: IncomingCall) -> None:
        call.ring()
        await call.answer(b"v=0\r\n")

    callee.on_invite = on_invite
    uri, peer = target(callee)

    async def one() -> int:
        dialog = await caller.call(uri, peer, body=b"v=0\r\n")
        return (await dialog.bye()).status

    statuses = await asyncio.gather(*(one() for _ in range(40)))
    assert statuses == [200] * 40
    stats = caller.endpoint.transports["UDP"].stats + callee.endpoint.transports["UDP"].stats
    assert stats["dropped-in"] + stats["dropped-out"] > 20
    for ua in (caller, callee):
        assert await ua.endpoint.wait_idle(15)
        assert ua.dialogs == {}
