"""SIP over WebSocket (RFC 7118): browsers' softphones (JsSIP, SIP.js) connect here.

One SIP message per WebSocket message (text or binary frames), subprotocol ``sip`` required. A
browser cannot be reached at the address in its Via or Contact (``xyz.invalid``, RFC 7118 section 5):
requests to it go down the connection it opened. So every request that arrives teaches the transport
which ``.invalid`` host lives on which connection (from its Via sent-by and its Contact), and sending
to an address whose host is such a name uses that connection; a browser that reconnects (same host
name, new connection) is found again as soon as it sends its next REGISTER. Responses go to the
peer address the request came from, which names its connection.

Hostile or broken peers: a handshake without ``sip`` is refused (HTTP 400), more than
``max_per_source`` connections from one address are refused (HTTP 503), a message that is not SIP
is answered with a stateless error when enough of it can be read and otherwise counted and dropped,
an oversized one closes the connection (1009), and a peer that does not read (its socket full for
``send_timeout_s``) is disconnected rather than holding the sender. Pings every ``ping_interval_s``
keep NATs and proxies open and find dead peers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections import Counter
from collections.abc import Callable
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers as HttpHeaders
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response as HttpResponse
from websockets.typing import Subprotocol

from callisto_sip.errors import ParseError, SipError
from callisto_sip.headers import NameAddr
from callisto_sip.message import MAX_MESSAGE_BYTES, Message, Request, parse_message
from callisto_sip.transport import Address, Sink, Transport
from callisto_sip.uri import SipUri

log = logging.getLogger(__name__)
SIP = Subprotocol("sip")
PROTOCOLS = frozenset({"WS", "WSS"})  # a request that came over one of these came from a browser
FlowClosed = Callable[[set[str]], None]  # the .invalid host names that lived on a closed connection


def _invalid_hosts(request: Request) -> set[str]:
    """The ``.invalid`` host names a browser gives itself in its top Via and its Contact."""
    found: set[str] = set()
    via = request.headers.get("Via") or ""
    sent_by = via.split(";", 1)[0].split()[-1:] if via else []
    for host in (s.rsplit(":", 1)[0] for s in sent_by):
        if host.endswith(".invalid"):
            found.add(host.lower())
    for value in request.headers.values("Contact"):
        with contextlib.suppress(ParseError, ValueError):
            uri = NameAddr.parse(value.split(",")[0]).uri
            if isinstance(uri, SipUri) and uri.host.lower().endswith(".invalid"):
                found.add(uri.host.lower())
    return found


class WsTransport(Transport):
    """A WebSocket listener (``WS``, or ``WSS`` with a TLS context); connections are only accepted,
    never opened: a browser is reached on the connection it opened."""

    reliable = True

    def __init__(
        self,
        sink: Sink,
        max_bytes: int = MAX_MESSAGE_BYTES,
        *,
        tls: ssl.SSLContext | None = None,
        max_per_source: int = 20,
        ping_interval_s: float = 20.0,
        send_timeout_s: float = 5.0,
    ) -> None:
        super().__init__(sink, max_bytes)
        self.protocol = "WSS" if tls is not None else "WS"
        self.tls = tls
        self.max_per_source = max_per_source
        self.ping_interval_s = ping_interval_s
        self.send_timeout_s = send_timeout_s
        self.on_flow_closed: FlowClosed = lambda hosts: None
        self._server: Server | None = None
        self._by_peer: dict[Address, ServerConnection] = {}
        self._by_host: dict[str, ServerConnection] = {}
        self._per_source: Counter[str] = Counter()

    async def listen(self, host: str, port: int) -> WsTransport:
        self._server = await serve(
            self._connected, host, port, ssl=self.tls, subprotocols=[SIP], process_request=self._admit,
            max_size=self.max_bytes, ping_interval=self.ping_interval_s, ping_timeout=self.ping_interval_s,
            close_timeout=2, open_timeout=5, compression=None, server_header=None,
        )  # fmt: skip
        self.local = next(iter(self._server.sockets)).getsockname()[:2]
        return self

    @property
    def connections(self) -> int:
        return len(self._by_peer)

    def _admit(self, connection: ServerConnection, request: HttpRequest) -> HttpResponse | None:
        offered = ",".join(request.headers.get_all("Sec-WebSocket-Protocol"))
        if SIP not in (p.strip() for p in offered.split(",")):
            self.stats["refused:no-sip-subprotocol"] += 1
            return connection.respond(
                HTTPStatus.BAD_REQUEST, "SIP over WebSocket needs the sip subprotocol\n"
            )
        source = str(connection.remote_address[0])
        if self._per_source[source] >= self.max_per_source:
            self.stats["refused:too-many-connections"] += 1
            response = connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "Too many connections\n")
            response.headers = HttpHeaders([*response.headers.raw_items(), ("Retry-After", "5")])
            return response
        return None

    async def _connected(self, connection: ServerConnection) -> None:
        if connection.subprotocol != SIP:  # refused at the handshake already
            await connection.close(1002, "the sip subprotocol is required (RFC 7118)")
            return
        peer = connection.remote_address
        address: Address = (str(peer[0]), int(peer[1]))
        self._by_peer[address] = connection
        self._per_source[address[0]] += 1
        self.stats["connections"] += 1
        try:
            async for frame in connection:
                data = frame.encode() if isinstance(frame, str) else frame
                await self._received(data, address, connection)
        except ConnectionClosed as exc:
            if (exc.rcvd is not None and exc.rcvd.code == 1009) or (
                exc.sent is not None and exc.sent.code == 1009
            ):
                self.stats["refused:too-large"] += 1
        finally:
            self._forget(address, connection)

    async def _received(self, data: bytes, address: Address, connection: ServerConnection) -> None:
        if not data.strip():
            return  # a keep-alive (CRLF) some clients send
        try:
            message = parse_message(data, max_bytes=self.max_bytes)
        except ParseError as exc:
            reply = self._refuse(data, exc, address)
            if reply is not None:
                with contextlib.suppress(ConnectionClosed, TimeoutError):
                    await asyncio.wait_for(
                        connection.send(reply.decode("utf-8", "replace")), self.send_timeout_s
                    )
            return
        if isinstance(message, Request):
            for host in _invalid_hosts(message):
                self._by_host[host] = connection
        self._deliver(message, address)

    def _forget(self, address: Address, connection: ServerConnection) -> None:
        if self._by_peer.get(address) is connection:
            del self._by_peer[address]
        self._per_source[address[0]] -= 1
        if self._per_source[address[0]] <= 0:
            del self._per_source[address[0]]
        hosts = {host for host, conn in self._by_host.items() if conn is connection}
        for host in hosts:
            del self._by_host[host]
        if hosts:
            self.on_flow_closed(hosts)

    def connection_for(self, address: Address) -> ServerConnection | None:
        return self._by_host.get(address[0].lower()) or self._by_peer.get(address)

    async def send(self, message: Message, address: Address) -> None:
        self._check_may_send()
        connection = self.connection_for(address)
        if connection is None:
            raise SipError(f"no WebSocket connection to {address[0]}:{address[1]}")
        data = bytes(message)
        try:
            await asyncio.wait_for(connection.send(data.decode("utf-8", "replace")), self.send_timeout_s)
        except TimeoutError:
            self.stats["dropped:slow-peer"] += 1
            connection.transport.abort()  # it does not read: it must not hold the sender
            raise SipError(f"{address[0]} does not read its WebSocket; disconnected") from None
        except ConnectionClosed:
            raise SipError(f"the WebSocket to {address[0]} is closed") from None
        self.stats["sent"] += 1

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 3)
        self._by_peer.clear()
        self._by_host.clear()
        self._per_source.clear()
