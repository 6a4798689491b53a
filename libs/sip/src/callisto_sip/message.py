"""SIP requests and responses: parse from bytes, serialize with ``bytes(message)``. No I/O.

Parsing is strict where RFC 3261's grammar is (single spaces in the start line, tokens, quoted
strings, one value for single-value fields, a CSeq matching the method) and every rejection is a
``ParseError`` whose ``status`` is what a UAS answers and whose ``error_id`` names the defect.
Over a datagram the body is framed by Content-Length (octets past it are discarded; without it, the
body is the rest of the datagram); over a stream Content-Length is required and ``parse_stream``
says how many octets the message took.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from callisto_sip.errors import IncompleteMessage, MessageTooLarge, ParseError
from callisto_sip.grammar import WSP, is_token
from callisto_sip.headers import SINGLE_HEADERS, CSeq, Headers, NameAddr, Via
from callisto_sip.uri import SipUri, Uri, parse_uri

SIP_VERSION = "SIP/2.0"
KNOWN_METHODS = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE",
                           "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"})  # fmt: skip
MAX_MESSAGE_BYTES = 65_535
MAX_FORWARDS_LIMIT = 255
_MANDATORY = ("Via", "From", "To", "Call-ID", "CSeq")
_CONTROL = re.compile(r"(?<!\\)[\x00-\x08\x0a-\x1f\x7f]")


@dataclass
class Message:
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    # typed views of the header fields every layer needs
    @property
    def call_id(self) -> str:
        return self._required("Call-ID")

    @property
    def cseq(self) -> CSeq:
        return CSeq.parse(self._required("CSeq"))

    @property
    def from_(self) -> NameAddr:
        return NameAddr.parse(self._required("From"), "From")

    @property
    def to(self) -> NameAddr:
        return NameAddr.parse(self._required("To"), "To")

    @property
    def vias(self) -> list[Via]:
        return [Via.parse(v) for v in self.headers.values("Via")]

    @property
    def top_via(self) -> Via:
        vias = self.headers.values("Via")
        if not vias:
            raise ParseError("no Via", error_id="missing-header")
        return Via.parse(vias[0])

    @property
    def contacts(self) -> list[NameAddr]:
        return [NameAddr.parse(v, "Contact") for v in self.headers.values("Contact") if v.strip() != "*"]

    @property
    def record_routes(self) -> list[NameAddr]:
        return [NameAddr.parse(v, "Record-Route") for v in self.headers.values("Record-Route")]

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("Content-Type")
        return value.split(";", 1)[0].strip().lower() if value else None

    def _required(self, name: str) -> str:
        value = self.headers.get(name)
        if value is None:
            raise ParseError(f"no {name} header", error_id="missing-header")
        return value

    def start_line(self) -> str:
        raise ParseError("a message is a Request or a Response")

    def __bytes__(self) -> bytes:
        length = f"Content-Length: {len(self.body)}"
        lines = [self.start_line()]
        lines += [length if name == "Content-Length" else f"{name}: {value}" for name, value in self.headers]
        if "Content-Length" not in self.headers:
            lines.append(length)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + self.body


@dataclass
class Request(Message):
    method: str = "OPTIONS"
    uri: Uri = field(default_factory=lambda: parse_uri("sip:invalid"))

    def start_line(self) -> str:
        return f"{self.method} {self.uri} {SIP_VERSION}"

    @property
    def max_forwards(self) -> int | None:
        value = self.headers.get("Max-Forwards")
        return int(value) if value is not None else None


@dataclass
class Response(Message):
    status: int = 200
    reason: str = "OK"

    def start_line(self) -> str:
        return f"{SIP_VERSION} {self.status} {self.reason}"


def parse_message(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Request | Response:
    """Parse one datagram."""
    if len(data) > max_bytes:
        raise MessageTooLarge(f"{len(data)} octets is over the limit of {max_bytes}")
    message, _ = _parse(data, stream=False)
    return message


def parse_stream(buffer: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> tuple[Request | Response, int]:
    """Parse the first message of a stream buffer; returns it and the octets it took.
    Raises IncompleteMessage when more octets are needed."""
    return _parse(buffer, stream=True, max_bytes=max_bytes)


def skip_keepalives(buffer: bytes) -> int:
    """How many leading CRLFs (keep-alives, RFC 5626) stand before the next message."""
    i = 0
    while buffer[i : i + 2] == b"\r\n":
        i += 2
    return i


def _parse(
    data: bytes, *, stream: bool, max_bytes: int = MAX_MESSAGE_BYTES
) -> tuple[Request | Response, int]:
    start = skip_keepalives(data)
    head_end = data.find(b"\r\n\r\n", start)
    if head_end < 0:
        if stream:
            if len(data) - start > max_bytes:
                raise MessageTooLarge("header section over the size limit")
            raise IncompleteMessage("the header section is not complete yet")
        head, rest = data[start:].removesuffix(b"\r\n"), b""
        body_start = len(data)
    else:
        head, rest = data[start:head_end], data[head_end + 4 :]
        body_start = head_end + 4
    if not head:
        raise ParseError("empty message", error_id="empty")
    lines = _unfold(head.decode("utf-8", "surrogateescape"))
    message = _start_line(lines[0])
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not is_token(name.rstrip(WSP)):
            raise ParseError(f"malformed header line {line[:60]!r}", error_id="bad-header-line")
        message.headers.add(name.rstrip(WSP), value.strip(WSP))
    length = _content_length(message.headers, stream)
    if length is None:
        message.body = rest
        consumed = len(data)
    else:
        if len(rest) < length:
            if stream:
                if body_start + length > max_bytes:
                    raise MessageTooLarge(f"Content-Length {length} is over the size limit")
                raise IncompleteMessage("the body is not complete yet")
            raise ParseError(
                f"Content-Length {length} is larger than the {len(rest)} octets present",
                error_id="content-length-too-large",
            )
        message.body = rest[:length]
        consumed = body_start + length
    _validate(message)
    return message, consumed


def _unfold(head: str) -> list[str]:
    lines: list[str] = []
    for line in head.split("\r\n"):
        if "\r" in line or "\n" in line:
            raise ParseError("bare CR or LF in the header section", error_id="bare-line-end")
        if _CONTROL.search(line):  # outside a quoted-pair RFC 3261's grammar has none (NUL, ESC ...)
            raise ParseError("a control character in the header section", error_id="control-character")
        if line[:1] in (" ", "\t") and lines:
            lines[-1] = lines[-1].rstrip(WSP) + " " + line.lstrip(WSP)
        elif not line:
            raise ParseError("empty line inside the header section", error_id="bad-header-line")
        else:
            lines.append(line)
    return lines


def _start_line(line: str) -> Request | Response:
    if line.startswith("SIP/"):
        parts = line.split(" ", 2)
        if len(parts) < 3:
            raise ParseError("malformed Status-Line", error_id="bad-status-line")
        version, code, reason = parts
        if version != SIP_VERSION:
            raise ParseError(f"version {version} is not supported", error_id="bad-version", status=505)
        if len(code) != 3 or not code.isdigit() or not 100 <= int(code) <= 699:
            raise ParseError(f"status code {code[:12]!r} is not 100-699", error_id="bad-status-code")
        return Response(status=int(code), reason=reason)
    parts = line.split(" ")
    if len(parts) != 3 or not all(parts):
        raise ParseError(
            "a Request-Line is Method SP Request-URI SP SIP-Version, single spaces",
            error_id="bad-request-line",
        )
    method, uri_text, version = parts
    if not is_token(method):
        raise ParseError(f"method {method[:30]!r} is not a token", error_id="bad-method")
    if not version.startswith("SIP/"):
        raise ParseError(f"{version[:20]!r} is not a SIP version", error_id="bad-request-line")
    if version != SIP_VERSION:
        raise ParseError(f"version {version} is not supported", error_id="bad-version", status=505)
    if uri_text.startswith("<"):
        raise ParseError("the Request-URI must not be enclosed in <>", error_id="bad-request-uri")
    uri = parse_uri(uri_text)
    if isinstance(uri, SipUri) and uri.headers:
        raise ParseError("a Request-URI must not carry ?headers", error_id="bad-request-uri")
    return Request(method=method, uri=uri)


def _content_length(headers: Headers, stream: bool) -> int | None:
    values = headers.raw_values("Content-Length")
    if not values:
        if stream:
            raise ParseError("Content-Length is required over a stream", error_id="content-length-missing")
        return None
    if len(values) > 1:
        raise ParseError("Content-Length appears more than once", error_id="duplicate-header")
    if not values[0].isdigit():
        raise ParseError(f"Content-Length {values[0][:20]!r} is not a number", error_id="bad-content-length")
    return int(values[0])


def _validate(message: Request | Response) -> None:
    seen: set[str] = set()
    for name, _ in message.headers:
        lower = name.lower()
        if lower in SINGLE_HEADERS:
            if lower in seen:
                raise ParseError(f"{name} appears more than once", error_id="duplicate-header")
            seen.add(lower)
    for name in _MANDATORY:
        if name not in message.headers:
            raise ParseError(f"no {name} header", error_id="missing-header")
    cseq = message.cseq
    call_id = message.call_id
    if any(c in WSP for c in call_id):
        raise ParseError("white space in Call-ID", error_id="bad-call-id")
    message.from_  # noqa: B018 - parsing is the check
    message.to  # noqa: B018
    message.vias  # noqa: B018
    for value in message.headers.values("Contact"):
        if value.strip() != "*":
            NameAddr.parse(value, "Contact")
    message.record_routes  # noqa: B018
    if isinstance(message, Request):
        if cseq.method != message.method:
            unknown = message.method not in KNOWN_METHODS
            raise ParseError(
                f"CSeq method {cseq.method} differs from the request method {message.method}",
                error_id="cseq-method-mismatch",
                status=501 if unknown else 400,
            )
        max_forwards = message.headers.get("Max-Forwards")
        if max_forwards is not None and (
            not max_forwards.isdigit() or int(max_forwards) > MAX_FORWARDS_LIMIT
        ):
            raise ParseError(f"Max-Forwards {max_forwards[:12]!r} is not 0-255", error_id="bad-max-forwards")
