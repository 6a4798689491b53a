"""Character classes and small scanners of RFC 3261's grammar (section 25), shared by the parsers."""

from __future__ import annotations

import re
import string

from callisto_sip.errors import ParseError

TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-.!%*_+`'~")
WORD_CHARS = TOKEN_CHARS | frozenset('()<>:\\"/[]?{}')
WSP = " \t"


_TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")


def is_token(text: str) -> bool:
    return _TOKEN_RE.fullmatch(text) is not None


def unquote(text: str, error_id: str = "bad-quoted-string") -> str:
    """The content of a quoted-string (with its quotes), quoted-pairs resolved."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ParseError(f"not a quoted string: {text[:40]!r}", error_id=error_id)
    out: list[str] = []
    i = 1
    while i < len(text) - 1:
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) - 1:
                raise ParseError("quoted-pair at the end of a quoted string", error_id=error_id)
            out.append(text[i + 1])
            i += 2
            continue
        if c == '"':
            raise ParseError("unescaped quote inside a quoted string", error_id=error_id)
        out.append(c)
        i += 1
    return "".join(out)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def end_of_quoted(text: str, start: int, error_id: str = "unterminated-quote") -> int:
    """Index just past the quoted-string that opens at ``start``."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i + 1
        i += 1
    raise ParseError("unterminated quoted string", error_id=error_id)


def split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside quoted strings and angle brackets."""
    if '"' not in text and "<" not in text:
        return text.split(sep)
    parts: list[str] = []
    depth = 0
    i = 0
    start = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            i = end_of_quoted(text, i)
            continue
        if c == "<":
            depth += 1
        elif c == ">":
            depth = max(0, depth - 1)
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def parse_params(text: str, what: str) -> dict[str, str | None]:
    """``;name=value;flag`` (the text after the first ';'), names lower-cased, values kept."""
    params: dict[str, str | None] = {}
    if not text.strip():
        raise ParseError(f"empty parameter in {what}", error_id="empty-parameter")
    for raw in split_top(text, ";"):
        item = raw.strip(WSP)
        if not item:
            raise ParseError(f"empty parameter in {what}", error_id="empty-parameter")
        name, eq, value = item.partition("=")
        name = name.strip(WSP)
        if not is_token(name):
            raise ParseError(f"bad parameter name {name!r} in {what}", error_id="bad-parameter")
        value = value.strip(WSP)
        if eq and not value:
            raise ParseError(f"parameter {name} without a value in {what}", error_id="bad-parameter")
        if value.startswith('"'):
            unquote(value)  # checks it
        elif eq and not all(c in WORD_CHARS or c in "[]:" for c in value):
            raise ParseError(f"bad value of parameter {name} in {what}", error_id="bad-parameter")
        params[name.lower()] = value if eq else None
    return params


def format_params(params: dict[str, str | None]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())
