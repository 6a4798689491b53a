"""The endpoint: transports plus the transaction table. It matches incoming messages to transactions
(RFC 3261 17.1.3 and 17.2.3, with RFC 2543 matching for branches without the magic cookie), creates
server transactions for new requests and hands them to the transaction user (TU)."""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections import Counter
from collections.abc import Callable

from callisto_sip.errors import SipError
from callisto_sip.headers import Headers, Via
from callisto_sip.message import Request, Response
from callisto_sip.transaction import ClientTransaction, ServerTransaction, Timers, Transaction
from callisto_sip.transport import Address, Incoming, TcpTransport, Transport, UdpTransport
from callisto_sip.websocket import WsTransport

log = logging.getLogger(__name__)
MAGIC_COOKIE = "z9hG4bK"


def new_branch() -> str:
    return MAGIC_COOKIE + os.urandom(8).hex()


def new_tag() -> str:
    return os.urandom(6).hex()


def server_key(request: Request) -> tuple[str, ...]:
    via = request.top_via
    method = "INVITE" if request.method == "ACK" else request.method
    branch = via.branch or ""
    if branch.startswith(MAGIC_COOKIE) and len(branch) > len(MAGIC_COOKIE):
        return (branch, via.sent_by, method)
    # RFC 2543 peers: Request-URI, tags, Call-ID, CSeq number and the top Via identify the transaction
    to_tag = "" if request.method == "ACK" else (request.to.tag or "")
    return (
        "2543",
        str(request.uri),
        to_tag,
        request.from_.tag or "",
        request.call_id,
        str(request.cseq.number),
        str(via),
        method,
    )


class Endpoint:
    """``on_request(transaction)`` receives every new request but ACK for 2xx, which goes to
    ``on_ack(request, incoming)``; ``on_stray_response(response, incoming)`` receives responses that
    match no client transaction (retransmitted 2xx to an INVITE)."""

    def __init__(self, host: str = "127.0.0.1", *, timers: Timers | None = None) -> None:
        self.host = host
        self.timers = timers or Timers()
        self.transports: dict[str, Transport] = {}
        self.server: dict[tuple[str, ...], ServerTransaction] = {}
        self.client: dict[tuple[str, ...], ClientTransaction] = {}
        self.stats: Counter[str] = Counter()
        self.on_request: Callable[[ServerTransaction], None] = self._reject_all
        self.on_ack: Callable[[Request, Incoming], None] = lambda request, incoming: None
        self.on_stray_response: Callable[[Response, Incoming], None] = lambda response, incoming: None
        # False: nothing is sent (an active/standby pair's old active that woke up after losing its
        # lease must not answer or end calls that now belong to its successor)
        self.may_send: Callable[[], bool] = lambda: True

    async def start(self, port: int = 0, *, udp: bool = True, tcp: bool = True) -> Endpoint:
        """Listen on UDP and TCP, both or neither: when one cannot bind (the port is taken) the
        other is closed again before the error is raised."""
        try:
            if udp:
                self.transports["UDP"] = await UdpTransport(self._incoming).listen(self.host, port)
                port = port or self.transports["UDP"].local[1]
            if tcp:
                self.transports["TCP"] = await TcpTransport(self._incoming).listen(self.host, port)
        except OSError:
            await self.close()
            raise
        self._guard_sends()
        return self

    async def start_websocket(
        self, port: int, *, tls: ssl.SSLContext | None = None, max_per_source: int = 20,
        ping_interval_s: float = 20.0, send_timeout_s: float = 5.0,
    ) -> WsTransport:  # fmt: skip
        """Listen for SIP over WebSocket (RFC 7118; ``WSS`` with ``tls``)."""
        transport = WsTransport(
            self._incoming, tls=tls, max_per_source=max_per_source, ping_interval_s=ping_interval_s,
            send_timeout_s=send_timeout_s,
        )  # fmt: skip
        await transport.listen(self.host, port)
        self.transports[transport.protocol] = transport
        self._guard_sends()
        return transport

    def _guard_sends(self) -> None:
        for transport in self.transports.values():
            transport.may_send = lambda: self.may_send()

    @property
    def port(self) -> int:
        """The UDP/TCP port (the first transport started)."""
        return next(iter(self.transports.values())).local[1]

    async def close(self) -> None:
        """Stop listening and abandon every transaction; ``start`` may be called again later (a
        standby that becomes active binds its port then)."""
        for transport in self.transports.values():
            await transport.close()
        self.transports.clear()
        for tx in [*self.server.values(), *self.client.values()]:
            tx.abandon()
        self.server.clear()
        self.client.clear()

    @property
    def listening(self) -> bool:
        return bool(self.transports)

    def transport(self, protocol: str) -> Transport:
        try:
            return self.transports[protocol.upper()]
        except KeyError:
            raise SipError(f"no {protocol} transport") from None

    def via(self, protocol: str, branch: str) -> str:
        return str(Via(protocol.upper(), self.host, self.port, {"branch": branch, "rport": None}))

    # outgoing ---------------------------------------------------------------------------------
    def send_request(
        self,
        request: Request,
        peer: Address,
        protocol: str = "UDP",
        on_provisional: Callable[[Response], None] | None = None,
        *,
        keep_via: bool = False,
    ) -> ClientTransaction:
        """Start a client transaction. The request's top Via is added here with a new branch, unless
        ``keep_via`` (a CANCEL carries the Via of the INVITE it cancels, RFC 3261 9.1)."""
        transport = self.transport(protocol)
        if keep_via:
            branch = request.top_via.branch or new_branch()
        else:
            branch = new_branch()
            request.headers.add("Via", self.via(transport.protocol, branch), first=True)
        key = (branch, request.method)
        tx = ClientTransaction(key, request, transport, peer, self.timers, self._ended, on_provisional)
        self.client[key] = tx
        tx.start()
        self.stats["client-transactions"] += 1
        return tx

    async def send_stateless(self, message: Request | Response, peer: Address, protocol: str = "UDP") -> None:
        """Send outside any transaction (ACK for 2xx, retransmitted 2xx)."""
        await self.transport(protocol).send(message, peer)

    # incoming ---------------------------------------------------------------------------------
    def _incoming(self, incoming: Incoming) -> None:
        message = incoming.message
        try:
            if isinstance(message, Response):
                self._response(message, incoming)
            else:
                self._request(message, incoming)
        except SipError as exc:
            self.stats[f"dropped:{exc.error_id}"] += 1
            log.info("dropped a message from %s: %s", incoming.source, exc.message)

    def _response(self, response: Response, incoming: Incoming) -> None:
        branch = response.top_via.branch or ""
        tx = self.client.get((branch, response.cseq.method))
        if tx is None:
            self.stats["stray-responses"] += 1
            self.on_stray_response(response, incoming)
            return
        tx.receive(response)

    def _request(self, request: Request, incoming: Incoming) -> None:
        key = server_key(request)
        tx = self.server.get(key)
        if tx is not None and tx.receive_retransmission(request):
            self.stats["retransmitted-requests"] += 1
            return
        if request.method == "ACK":
            self.on_ack(request, incoming)  # ACK for a 2xx: the dialog's business
            return
        tx = ServerTransaction(key, request, incoming.transport, incoming.source, self.timers, self._ended)
        self.server[key] = tx
        self.stats["server-transactions"] += 1
        if request.method == "CANCEL":
            invite = self.server.get((*key[:-1], "INVITE"))
            if invite is None or invite.final_sent:  # nothing left to cancel
                tx.respond(response_to(request, 481, "Call/Transaction Does Not Exist"))
                return
            tx.respond(response_to(request, 200, "OK"))
            invite.cancel()
            return
        self.on_request(tx)

    def _ended(self, tx: Transaction) -> None:
        table: dict[tuple[str, ...], ServerTransaction] | dict[tuple[str, ...], ClientTransaction]
        table = self.server if isinstance(tx, ServerTransaction) else self.client
        if table.get(tx.key) is tx:
            del table[tx.key]

    def _reject_all(self, tx: ServerTransaction) -> None:
        tx.respond(response_to(tx.request, 503, "Service Unavailable"))

    async def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no transaction is left (tests use it to prove nothing leaks)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.server or self.client:
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True


def response_to(request: Request, status: int, reason: str, *, to_tag: str | None = None) -> Response:
    """A response copying Via, From, To (with ``to_tag`` added), Call-ID and CSeq (RFC 3261 8.2.6)."""
    headers = Headers()
    for value in request.headers.raw_values("Via"):
        headers.add("Via", value)
    headers.add("From", request.headers.get("From") or "")
    to = request.headers.get("To") or ""
    if to_tag is not None and request.to.tag is None:
        to = f"{to};tag={to_tag}"
    headers.add("To", to)
    headers.add("Call-ID", request.call_id)
    headers.add("CSeq", request.headers.get("CSeq") or "")
    return Response(status=status, reason=reason, headers=headers)
