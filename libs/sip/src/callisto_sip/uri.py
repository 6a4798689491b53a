"""URIs: ``sip:``/``sips:`` parsed into parts (percent-escapes decoded exactly once), ``tel:`` and any
other scheme kept as an absolute URI (the layer above answers 416 for schemes it does not serve)."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

from callisto_sip.errors import ParseError

_HEX = frozenset(string.hexdigits)
_FORBIDDEN = frozenset(' \t\r\n<>"')
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")
_HOST_RE = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?$"
)
_IPV6_RE = re.compile(r"^\[[0-9A-Fa-f:.]+\]$")
# characters that stand for themselves in each part (RFC 3261 section 25.1)
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-_.!~*'()")
_USER_OK = _UNRESERVED | frozenset("&=+$,;?/")
_PASSWORD_OK = _UNRESERVED | frozenset("&=+$,")
_PARAM_OK = _UNRESERVED | frozenset("[]/:&+$")
_HEADER_OK = _UNRESERVED | frozenset("[]/?:+$")


def unescape(text: str, part: str) -> str:
    """Decode %HH escapes once; the octets are read as UTF-8 (undecodable ones kept as escapes)."""
    if "%" not in text:
        return text
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%":
            pair = text[i + 1 : i + 3]
            if len(pair) != 2 or not set(pair) <= _HEX:
                raise ParseError(f"bad %-escape in the URI {part}", error_id="bad-escape")
            out.append(int(pair, 16))
            i += 3
        else:
            out += c.encode("utf-8", "surrogateescape")
            i += 1
    return out.decode("utf-8", "surrogateescape")


def escape(text: str, allowed: frozenset[str]) -> str:
    out: list[str] = []
    for c in text:
        if c in allowed:
            out.append(c)
        else:
            out.extend(f"%{b:02X}" for b in c.encode("utf-8", "surrogateescape"))
    return "".join(out)


@dataclass(frozen=True)
class SipUri:
    scheme: str  # "sip" or "sips"
    host: str
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def transport(self) -> str | None:
        value = self.params.get("transport")
        return value.lower() if value else None

    def with_params(self, **params: str | None) -> SipUri:
        return SipUri(
            self.scheme,
            self.host,
            self.user,
            self.password,
            self.port,
            {**self.params, **params},
            dict(self.headers),
        )

    def __str__(self) -> str:
        text = self.scheme + ":"
        if self.user is not None:
            text += escape(self.user, _USER_OK)
            if self.password is not None:
                text += ":" + escape(self.password, _PASSWORD_OK)
            text += "@"
        text += self.host
        if self.port is not None:
            text += f":{self.port}"
        for name, value in self.params.items():
            text += ";" + escape(name, _PARAM_OK) + ("" if value is None else "=" + escape(value, _PARAM_OK))
        if self.headers:
            text += "?" + "&".join(
                f"{escape(k, _HEADER_OK)}={escape(v, _HEADER_OK)}" for k, v in self.headers.items()
            )
        return text


@dataclass(frozen=True)
class AbsoluteUri:
    """A URI of another scheme (``tel:``, ``mailto:``, ...), kept as written."""

    scheme: str
    rest: str

    @property
    def number(self) -> str | None:
        """The number of a ``tel:`` URI, without its parameters."""
        return self.rest.split(";", 1)[0] if self.scheme == "tel" else None

    def __str__(self) -> str:
        return f"{self.scheme}:{self.rest}"


Uri = SipUri | AbsoluteUri


def parse_uri(text: str) -> Uri:
    scheme, colon, rest = text.partition(":")
    if not colon or not _SCHEME_RE.match(scheme):
        raise ParseError(f"not a URI: {text[:60]!r}", error_id="bad-uri")
    if not _FORBIDDEN.isdisjoint(text):
        raise ParseError("white space, quotes or angle brackets inside a URI", error_id="bad-uri")
    scheme = scheme.lower()
    if scheme not in ("sip", "sips"):
        if not rest:
            raise ParseError(f"empty {scheme} URI", error_id="bad-uri")
        return AbsoluteUri(scheme, rest)
    return _parse_sip(scheme, rest)


def _parse_sip(scheme: str, rest: str) -> SipUri:
    user = password = None
    if "@" in rest:  # '@' never appears unescaped after the userinfo
        userinfo, _, rest = rest.rpartition("@")
        raw_user, colon, raw_password = userinfo.partition(":")
        if not raw_user:
            raise ParseError("empty user part before '@'", error_id="bad-uri")
        user = unescape(raw_user, "user")
        password = unescape(raw_password, "password") if colon else None
    rest, question, raw_headers = rest.partition("?")
    hostport, _, raw_params = rest.partition(";")
    host, port = _parse_hostport(hostport)
    params: dict[str, str | None] = {}
    if raw_params or rest.endswith(";"):
        for item in raw_params.split(";"):
            if not item:
                raise ParseError("empty URI parameter", error_id="bad-uri")
            name, eq, value = item.partition("=")
            if not name:
                raise ParseError("URI parameter without a name", error_id="bad-uri")
            params[unescape(name, "parameter").lower()] = unescape(value, "parameter") if eq else None
    headers: dict[str, str] = {}
    if question:
        for item in raw_headers.split("&"):
            name, eq, value = item.partition("=")
            if not name or not eq:
                raise ParseError("malformed URI header", error_id="bad-uri")
            headers[unescape(name, "header")] = unescape(value, "header")
    return SipUri(scheme, host, user, password, port, params, headers)


def _parse_hostport(text: str) -> tuple[str, int | None]:
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ParseError("unterminated IPv6 reference", error_id="bad-host")
        host, port_text = text[: end + 1], text[end + 1 :]
        if not _IPV6_RE.match(host):
            raise ParseError(f"bad IPv6 reference {host!r}", error_id="bad-host")
    else:
        host, _, port_text = text.partition(":")
        port_text = ":" + port_text if _ else ""
        if not host or not _HOST_RE.match(host):
            raise ParseError(f"bad host {host[:60]!r}", error_id="bad-host")
    port = None
    if port_text:
        digits = port_text[1:]
        if not port_text.startswith(":") or not digits.isdigit() or not 0 < int(digits) < 65536:
            raise ParseError(f"bad port {port_text!r}", error_id="bad-port")
        port = int(digits)
    return host.lower(), port
