"""SIP over WebSocket (RFC 7118) with a WebSocket client on a real loopback connection speaking as a
browser does: it names itself ``*.invalid``, and the user agent reaches it only down the connection it
opened, again after it reconnects. Hostile clients: no ``sip`` subprotocol, junk, oversized messages,
a connection flood."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from callisto_devkit.processes import free_port
from callisto_sip import Request, Response, parse_message
from callisto_sip.endpoint import Endpoint
from callisto_sip.transaction import Timers
from callisto_sip.ua import DialogState, IncomingCall, UserAgent
from callisto_sip.websocket import WsTransport

pytestmark = pytest.mark.integration
FAST = Timers(t1=0.05, t2=0.4, t4=0.2, d=0.5)


class Browser:
    """What JsSIP puts on the wire, by hand."""

    def __init__(self, host: str = "df7jal23ls0d.invalid") -> None:
        self.host = host
        self.tag = uuid.uuid4().hex[:8]
        self.call_id = uuid.uuid4().hex
        self.ws: ClientConnection | None = None

    async def open(self, url: str) -> None:
        self.ws = await connect(url, subprotocols=["sip"])  # type: ignore[list-item]

    def request(self, method: str, cseq: int, body: str = "") -> str:
        return (
            f"{method} sip:callisto@127.0.0.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/WS {self.host};branch=z9hG4bK{uuid.uuid4().hex[:10]}\r\n"
            f"Max-Forwards: 69\r\nTo: <sip:callisto@127.0.0.1>\r\n"
            f"From: <sip:op1@127.0.0.1>;tag={self.tag}\r\nCall-ID: {self.call_id}\r\n"
            f"CSeq: {cseq} {method}\r\n"
            f"Contact: <sip:op1@{self.host};transport=ws;ob>\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        )

    async def send(self, text: str) -> None:
        assert self.ws is not None
        await self.ws.send(text)

    async def receive(self) -> Request | Response:
        assert self.ws is not None
        frame = await asyncio.wait_for(self.ws.recv(), 5)
        return parse_message(frame.encode() if isinstance(frame, str) else frame)


@pytest.fixture
async def server() -> AsyncIterator[tuple[UserAgent, WsTransport, str]]:
    endpoint = await Endpoint("127.0.0.1", timers=FAST).start(free_port())
    ws = await endpoint.start_websocket(free_port(), max_per_source=5, send_timeout_s=1.0)
    ua = UserAgent(endpoint, user="callisto")
    yield ua, ws, f"ws://127.0.0.1:{ws.local[1]}"
    await endpoint.close()


async def test_a_browser_is_reached_down_its_own_connection_also_after_reconnecting(
    server: tuple[UserAgent, WsTransport, str],
) -> None:
    ua, ws, url = server
    calls: list[object] = []

    async def on_invite(call: IncomingCall) -> None:
        calls.append(await call.answer(b"v=0\r\n"))

    ua.on_invite = on_invite
    closed: list[set[str]] = []
    ws.on_flow_closed = closed.append
    browser = Browser()
    await browser.open(url)
    await browser.send(browser.request("OPTIONS", 1))
    ok = await browser.receive()
    assert isinstance(ok, Response) and ok.status == 200  # the answer came down the same connection
    await browser.send(browser.request("INVITE", 2, "v=0\r\n"))
    while not (isinstance(answer := await browser.receive(), Response) and answer.status == 200):
        pass
    ack = browser.request("ACK", 2).replace("To: <sip:callisto@127.0.0.1>", f"To: {answer.headers.get('To')}")
    await browser.send(ack)
    for _ in range(50):
        if calls and calls[0].state is DialogState.CONFIRMED:  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.02)
    dialog = calls[0]
    assert str(dialog.remote_target).startswith(f"sip:op1@{browser.host}")  # type: ignore[attr-defined]

    # the browser's connection drops; it comes back (a new connection, the same name) and registers
    assert browser.ws is not None
    await browser.ws.close()
    for _ in range(50):
        if closed:
            break
        await asyncio.sleep(0.02)
    assert closed == [{browser.host}]
    await browser.open(url)
    await browser.send(browser.request("REGISTER", 3))
    assert isinstance(await browser.receive(), Response)  # no registrar here: 405, on the new connection
    bye = asyncio.create_task(dialog.bye())  # type: ignore[attr-defined]
    request = await browser.receive()
    assert isinstance(request, Request) and request.method == "BYE"  # found on the new connection
    assert (request.headers.get("Via") or "").startswith("SIP/2.0/WS ")
    reply = (
        f"SIP/2.0 200 OK\r\nVia: {request.headers.get('Via')}\r\nTo: {request.headers.get('To')}\r\n"
        f"From: {request.headers.get('From')}\r\nCall-ID: {request.call_id}\r\n"
        f"CSeq: {request.cseq.number} BYE\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    await browser.send(reply)
    assert (await asyncio.wait_for(bye, 5)).status == 200
    await browser.ws.close()


async def test_hostile_websocket_clients_are_refused_and_leave_nothing(
    server: tuple[UserAgent, WsTransport, str],
) -> None:
    ua, ws, url = server
    with pytest.raises(InvalidStatus) as plain:
        await connect(url)  # no sip subprotocol
    assert plain.value.response.status_code == 400

    browser = Browser()
    await browser.open(url)
    await browser.send("GET / HTTP/1.1\r\n\r\n")  # not SIP: dropped, counted, the connection lives
    assert browser.ws is not None
    await browser.ws.send(bytes(range(256)) * 4)  # binary junk
    broken = browser.request("OPTIONS", 1).replace("CSeq: 1 OPTIONS", "CSeq: one OPTIONS")
    await browser.send(broken)  # readable enough to answer: 400 down the connection
    raw = await asyncio.wait_for(browser.ws.recv(), 5)
    assert str(raw).startswith("SIP/2.0 400 Bad Request") and "bad-cseq" in str(raw)
    await browser.send(browser.request("OPTIONS", 2))
    answer = await browser.receive()
    assert isinstance(answer, Response) and answer.status == 200  # still served after the junk
    await browser.send(browser.request("MESSAGE", 3, "x" * 70_000))  # over the message limit
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(browser.ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert ws.stats["refused:no-sip-subprotocol"] == 1 and ws.stats["refused:too-large"] == 1
    assert sum(n for k, n in ws.stats.items() if k.startswith("malformed")) >= 2

    async def attempt() -> ClientConnection | int:
        try:
            return await connect(url, subprotocols=["sip"])  # type: ignore[list-item]
        except InvalidStatus as refused:
            return refused.response.status_code

    tried = await asyncio.gather(*(attempt() for _ in range(500)))  # 500 at once from one address
    flood = [t for t in tried if not isinstance(t, int)]
    assert len(flood) == 5 and [t for t in tried if isinstance(t, int)] == [503] * 495
    assert ws.stats["refused:too-many-connections"] == 495
    for each in flood:
        await each.close()
    for _ in range(100):
        if ws.connections == 0:
            break
        await asyncio.sleep(0.02)
    assert ws.connections == 0
    assert await ua.endpoint.wait_idle(5)
    assert ua.dialogs == {}
