"""Header fields: names (canonical and compact forms), the ordered header list, and the structured
values SIP needs (name-addr with parameters, Via, CSeq)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field

from callisto_sip.errors import ParseError
from callisto_sip.grammar import (
    WSP,
    end_of_quoted,
    format_params,
    is_token,
    parse_params,
    quote,
    split_top,
    unquote,
)
from callisto_sip.uri import SipUri, Uri, parse_uri

COMPACT = {
    "a": "Accept-Contact", "b": "Referred-By", "c": "Content-Type", "d": "Request-Disposition",
    "e": "Content-Encoding", "f": "From", "i": "Call-ID", "j": "Reject-Contact", "k": "Supported",
    "l": "Content-Length", "m": "Contact", "o": "Event", "r": "Refer-To", "s": "Subject", "t": "To",
    "u": "Allow-Events", "v": "Via", "x": "Session-Expires", "y": "Identity",
}  # fmt: skip
_SPECIAL = {
    "call-id": "Call-ID", "cseq": "CSeq", "www-authenticate": "WWW-Authenticate",
    "mime-version": "MIME-Version",
    "rack": "RAck", "rseq": "RSeq", "sip-etag": "SIP-ETag", "sip-if-match": "SIP-If-Match",
}  # fmt: skip
# header fields whose value is a comma-separated list (RFC 3261 7.3.1): one value per element
LIST_HEADERS = frozenset({
    "via", "contact", "route", "record-route", "allow", "supported", "require", "proxy-require",
    "unsupported", "accept", "accept-encoding", "accept-language", "allow-events", "content-encoding",
    "content-language", "in-reply-to", "alert-info", "call-info", "error-info", "warning", "path",
})  # fmt: skip
# header fields that may appear once only
SINGLE_HEADERS = frozenset({
    "call-id", "cseq", "from", "to", "max-forwards", "content-length", "content-type", "expires",
    "min-expires", "date", "mime-version", "organization", "priority", "reply-to", "retry-after",
    "server", "subject", "timestamp", "user-agent", "rack", "rseq", "event", "refer-to",
})  # fmt: skip
MAX_CSEQ = 2**32 - 1


@functools.lru_cache(maxsize=4096)
def canonical_name(name: str) -> str:
    lower = name.lower()
    if lower in COMPACT:
        return COMPACT[lower]
    if lower in _SPECIAL:
        return _SPECIAL[lower]
    return "-".join(part[:1].upper() + part[1:] for part in lower.split("-"))


class Headers:
    """Header fields in order; names compare case-insensitively and in compact form."""

    def __init__(self, fields: list[tuple[str, str]] | None = None) -> None:
        self._fields: list[tuple[str, str]] = [(canonical_name(n), v) for n, v in fields or []]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def get(self, name: str) -> str | None:
        wanted = canonical_name(name)
        return next((v for n, v in self._fields if n == wanted), None)

    def raw_values(self, name: str) -> list[str]:
        wanted = canonical_name(name)
        return [v for n, v in self._fields if n == wanted]

    def values(self, name: str) -> list[str]:
        """Every value of ``name``; list-valued fields are split into their elements."""
        raw = self.raw_values(name)
        if canonical_name(name).lower() not in LIST_HEADERS:
            return raw
        out: list[str] = []
        for value in raw:
            for element in split_top(value, ","):
                element = element.strip(WSP)
                if not element:
                    raise ParseError(
                        f"empty element in {canonical_name(name)}", error_id="empty-list-element"
                    )
                out.append(element)
        return out

    def add(self, name: str, value: str, *, first: bool = False) -> None:
        item = (canonical_name(name), value)
        if first:
            self._fields.insert(0, item)
        else:
            self._fields.append(item)

    def set(self, name: str, value: str) -> None:
        """Replace every value of ``name`` with one, in the place of the first."""
        wanted = canonical_name(name)
        index = next((i for i, (n, _) in enumerate(self._fields) if n == wanted), None)
        self.remove(name)
        if index is None:
            self._fields.append((wanted, value))
        else:
            self._fields.insert(index, (wanted, value))

    def remove(self, name: str) -> None:
        wanted = canonical_name(name)
        self._fields = [(n, v) for n, v in self._fields if n != wanted]

    def copy(self) -> Headers:
        return Headers(list(self._fields))


@dataclass(frozen=True)
class NameAddr:
    """``"Display" <uri>;param=value`` or ``uri;param=value`` (To, From, Contact, Route...)."""

    uri: Uri
    display_name: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def with_tag(self, tag: str) -> NameAddr:
        return NameAddr(self.uri, self.display_name, {**self.params, "tag": tag})

    def __str__(self) -> str:
        display = f"{quote(self.display_name)} " if self.display_name else ""
        return f"{display}<{self.uri}>{format_params(self.params)}"

    @classmethod
    def parse(cls, text: str, what: str = "address") -> NameAddr:
        text = text.strip(WSP)
        if not text:
            raise ParseError(f"empty {what}", error_id="empty-address")
        display: str | None = None
        if text.startswith('"'):
            end = end_of_quoted(text, 0)
            display = unquote(text[:end])
            rest = text[end:].lstrip(WSP)
            if not rest.startswith("<"):
                raise ParseError(f"display name without <uri> in {what}", error_id="bad-address")
        elif "<" in text:  # '<' never appears unescaped in a URI: this is name-addr form
            before, _, _ = text.partition("<")
            words = before.split()
            for word in words:
                if not is_token(word):
                    raise ParseError(
                        f"unquoted display name with a non-token character in {what}",
                        error_id="bad-display-name",
                    )
            display = " ".join(words) or None
            rest = text[len(before) :]
        else:
            return cls._addr_spec(text, what)
        close = rest.find(">")
        if close < 0:
            raise ParseError(f"'<' without '>' in {what}", error_id="bad-address")
        uri = parse_uri(rest[1:close])
        after = rest[close + 1 :].strip(WSP)
        params: dict[str, str | None] = {}
        if after:
            if not after.startswith(";"):
                raise ParseError(f"text after '>' in {what}", error_id="bad-address")
            params = parse_params(after[1:], what)
        return cls(uri, display, params)

    @classmethod
    def _addr_spec(cls, text: str, what: str) -> NameAddr:
        # without <>, everything after the first ';' is a header parameter, and no ?headers are allowed
        uri_text, semi, param_text = text.partition(";")
        uri_text = uri_text.strip(WSP)
        if "?" in uri_text or "," in uri_text:
            raise ParseError(f"{what}: a URI with '?' or ',' must be enclosed in <>", error_id="bad-address")
        uri = parse_uri(uri_text)
        params = parse_params(param_text, what) if semi else {}
        return cls(uri, None, params)


@dataclass(frozen=True)
class Via:
    transport: str
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def sent_by(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"SIP/2.0/{self.transport} {self.sent_by}{format_params(self.params)}"

    @classmethod
    def parse(cls, text: str) -> Via:
        parts = text.strip(WSP).split("/", 2)  # LWS may stand around the '/' of the sent-protocol
        if len(parts) != 3:
            raise ParseError(f"bad Via {text[:60]!r}", error_id="bad-via")
        name, version, tail = (p.strip(WSP) for p in parts)
        if name.upper() != "SIP" or version != "2.0":
            raise ParseError(f"bad Via protocol {name}/{version}", error_id="bad-via")
        pieces = tail.split(None, 1)
        if len(pieces) != 2 or not is_token(pieces[0]):
            raise ParseError(f"bad Via transport in {text[:60]!r}", error_id="bad-via")
        sent_by, semi, param_text = pieces[1].partition(";")
        host, port = _host_port(sent_by.strip(WSP))
        params = parse_params(param_text, "Via") if semi else {}
        return cls(pieces[0].upper(), host, port, params)


def _host_port(text: str) -> tuple[str, int | None]:
    uri = parse_uri(f"sip:{text.replace(' ', '')}")
    assert isinstance(uri, SipUri)
    if uri.user is not None or uri.params:
        raise ParseError(f"bad sent-by {text!r}", error_id="bad-via")
    return uri.host, uri.port


@dataclass(frozen=True)
class CSeq:
    number: int
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"

    @classmethod
    def parse(cls, text: str) -> CSeq:
        parts = text.split()
        if len(parts) != 2 or not parts[0].isdigit() or not is_token(parts[1]):
            raise ParseError(f"bad CSeq {text[:40]!r}", error_id="bad-cseq")
        number = int(parts[0])
        if number > MAX_CSEQ:
            raise ParseError("CSeq number over 2**32-1", error_id="cseq-out-of-range")
        return cls(number, parts[1])
