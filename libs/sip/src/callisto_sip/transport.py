"""UDP and TCP transports. They frame bytes into messages, stamp ``received``/``rport`` on incoming
requests (RFC 3261 18.2.1, RFC 3581), answer a malformed request with a stateless error response
when enough of it can be read, count and drop the rest, and hand messages to a sink."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from callisto_sip.errors import IncompleteMessage, ParseError, SipError
from callisto_sip.grammar import split_top
from callisto_sip.headers import Headers
from callisto_sip.message import (
    MAX_MESSAGE_BYTES,
    Message,
    Request,
    Response,
    parse_message,
    parse_stream,
    skip_keepalives,
)

log = logging.getLogger(__name__)
RECEIVE_BUFFER = 4 * 1024 * 1024  # the kernel caps it at net.core.rmem_max
Address = tuple[str, int]
_REASONS = {400: "Bad Request", 413: "Request Entity Too Large", 501: "Not Implemented",
            505: "Version Not Supported", 513: "Message Too Large"}  # fmt: skip
_HEADER_RE = {
    name: re.compile(rf"^(?:{name}|{short})[ \t]*:[ \t]*(.*)$", re.I | re.M)
    for name, short in (("Via", "v"), ("From", "f"), ("To", "t"), ("Call-ID", "i"), ("CSeq", "CSeq"))
}


@dataclass(frozen=True)
class Incoming:
    message: Request | Response
    source: Address
    transport: Transport


Sink = Callable[[Incoming], None]


class Transport:
    protocol = "UDP"
    reliable = False

    def __init__(self, sink: Sink, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.sink = sink
        self.max_bytes = max_bytes
        self.local: Address = ("0.0.0.0", 0)
        self.stats: Counter[str] = Counter()
        self.may_send: Callable[[], bool] = lambda: True  # False: nothing goes out (a stale active)

    async def send(self, message: Message, address: Address) -> None:
        raise SipError("a transport sends through UDP or TCP")

    def _check_may_send(self) -> None:
        if not self.may_send():
            self.stats["held-back"] += 1
            raise SipError("this endpoint may not send now (it is not the active instance)")

    async def close(self) -> None:
        return None

    def _deliver(self, message: Request | Response, source: Address) -> None:
        if isinstance(message, Request):
            message.headers = stamp_top_via(message.headers, source)
        self.stats["received"] += 1
        self.sink(Incoming(message, source, self))

    def _refuse(self, data: bytes, error: ParseError, source: Address) -> bytes | None:
        """Count a malformed message; the bytes of a stateless error response when one is due."""
        self.stats[f"malformed:{error.error_id}"] += 1
        log.info("malformed SIP from %s:%d: %s", source[0], source[1], error.message)
        return stateless_error(data, error)


def stamp_top_via(headers: Headers, source: Address) -> Headers:
    """The headers with the first Via element stamped with ``received`` and ``rport``."""
    fields = list(headers)
    for i, (name, value) in enumerate(fields):
        if name == "Via":
            elements = [e.strip() for e in split_top(value, ",")]
            elements[0] = stamp_via(elements[0], source)
            fields[i] = (name, ", ".join(elements))
            break
    return Headers(fields)


def stamp_via(via: str, source: Address) -> str:
    """Add ``received`` when the sent-by host differs from the source, fill an empty ``rport``."""
    host, port = source
    out = via
    sent_by = via.split(";", 1)[0].split()[-1] if via.split(";", 1)[0].split() else ""
    sent_host = sent_by.rsplit(":", 1)[0] if sent_by.count(":") == 1 else sent_by
    if sent_host.strip("[]") != host and ";received=" not in out.lower():
        out += f";received={host}"
    out = re.sub(r";rport(?=;|$)", f";rport={port}", out, count=1, flags=re.I)
    return out


def stateless_error(data: bytes, error: ParseError) -> bytes | None:
    """An error response built from what can be read of a malformed request, or None when the
    message is a response or too broken to answer (RFC 3261 16.3: responses are dropped)."""
    text = data[:8192].decode("utf-8", "replace")
    if text.startswith("SIP/") or not text[:1].isalpha():
        return None
    found = {name: pattern.search(text) for name, pattern in _HEADER_RE.items()}
    if not all(found[name] for name in ("Via", "From", "To", "Call-ID", "CSeq")):
        return None
    status = error.status if error.status in _REASONS else 400
    lines = [f"SIP/2.0 {status} {_REASONS[status]}"]
    lines += [f"{name}: {m.group(1).strip()}" for name, m in found.items() if m]
    lines += [f'Warning: 399 callisto "{error.error_id}"', "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class UdpTransport(Transport, asyncio.DatagramProtocol):
    protocol = "UDP"
    reliable = False

    def __init__(self, sink: Sink, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        super().__init__(sink, max_bytes)
        self._transport: asyncio.DatagramTransport | None = None
        # simulated packet loss (tests and benchmarks): called per datagram, True drops it
        self.drop: Callable[[], bool] | None = None

    async def listen(self, host: str, port: int) -> UdpTransport:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        return self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)  # 3.11's class does not say so
        self.local = transport.get_extra_info("sockname")[:2]
        sock = transport.get_extra_info("socket")
        if sock is not None:  # bursts (a flood, a trunk's busy hour) wait in the kernel, not dropped
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        source = (str(addr[0]), int(addr[1]))
        if self.drop is not None and self.drop():
            self.stats["dropped-in"] += 1
            return
        if not data.strip(b"\r\n"):
            return  # keep-alive
        try:
            message = parse_message(data, max_bytes=self.max_bytes)
        except ParseError as exc:
            reply = self._refuse(data, exc, source)
            if reply is not None and self._transport is not None:
                self._transport.sendto(reply, source)
            return
        self._deliver(message, source)

    def error_received(self, exc: Exception) -> None:
        self.stats["socket-errors"] += 1

    async def send(self, message: Message, address: Address) -> None:
        data = bytes(message)
        if len(data) > self.max_bytes:
            raise SipError(f"message of {len(data)} octets is too large for UDP")
        if self._transport is None:
            raise SipError("UDP transport is not listening")
        self._check_may_send()
        if self.drop is not None and self.drop():
            self.stats["dropped-out"] += 1
            return
        self._transport.sendto(data, address)
        self.stats["sent"] += 1

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class TcpTransport(Transport):
    """A listening socket plus outgoing connections, reused per remote address."""

    protocol = "TCP"
    reliable = True

    def __init__(self, sink: Sink, max_bytes: int = MAX_MESSAGE_BYTES, idle_timeout_s: float = 300.0) -> None:
        super().__init__(sink, max_bytes)
        self.idle_timeout_s = idle_timeout_s
        self._server: asyncio.Server | None = None
        self._connections: dict[Address, asyncio.StreamWriter] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def listen(self, host: str, port: int) -> TcpTransport:
        self._server = await asyncio.start_server(self._accepted, host, port, limit=self.max_bytes * 2)
        self.local = self._server.sockets[0].getsockname()[:2]
        return self

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        address = (str(peer[0]), int(peer[1]))
        self._connections[address] = writer
        await self._read(reader, writer, address)

    async def _read(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: Address
    ) -> None:
        buffer = b""
        try:
            while True:
                chunk = await asyncio.wait_for(reader.read(65536), self.idle_timeout_s)
                if not chunk:
                    break
                buffer += chunk
                while buffer:
                    buffer = buffer[skip_keepalives(buffer) :]
                    if not buffer:
                        break
                    try:
                        message, used = parse_stream(buffer, max_bytes=self.max_bytes)
                    except IncompleteMessage:
                        break
                    except ParseError as exc:
                        reply = self._refuse(buffer, exc, address)
                        if reply is not None:
                            writer.write(reply)
                        raise ConnectionAbortedError("framing lost") from None  # close the connection
                    buffer = buffer[used:]
                    self._deliver(message, address)
        except (TimeoutError, ConnectionError, OSError):
            pass
        finally:
            if self._connections.get(address) is writer:
                del self._connections[address]
            writer.close()

    async def send(self, message: Message, address: Address) -> None:
        self._check_may_send()
        writer = self._connections.get(address)
        if writer is None or writer.is_closing():
            reader, writer = await asyncio.open_connection(address[0], address[1], limit=self.max_bytes * 2)
            self._connections[address] = writer
            task = asyncio.create_task(self._read(reader, writer, address))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        writer.write(bytes(message))
        await writer.drain()
        self.stats["sent"] += 1

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._connections.values()):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        self._connections.clear()
