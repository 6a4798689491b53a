"""Bencoding, the framing of rtpengine's NG control protocol: integers, byte strings, lists and
dictionaries (keys sorted). Strings are encoded as UTF-8; decoding yields bytes for strings."""

from __future__ import annotations

from typing import Any

Value = int | bytes | str | list[Any] | dict[str, Any]


class BencodeError(ValueError):
    """The data is not one well-formed bencoded value."""


def encode(value: Value | bool) -> bytes:
    parts: list[bytes] = []
    _encode(value, parts)
    return b"".join(parts)


def _encode(value: Any, parts: list[bytes]) -> None:
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        parts.append(b"i%de" % value)
    elif isinstance(value, str | bytes):
        raw = value.encode() if isinstance(value, str) else value
        parts.append(b"%d:" % len(raw))
        parts.append(raw)
    elif isinstance(value, list | tuple):
        parts.append(b"l")
        for item in value:
            _encode(item, parts)
        parts.append(b"e")
    elif isinstance(value, dict):
        parts.append(b"d")
        for key in sorted(value):
            _encode(str(key), parts)
            _encode(value[key], parts)
        parts.append(b"e")
    else:
        raise BencodeError(f"cannot bencode a {type(value).__name__}")


def decode(data: bytes) -> Any:
    value, end = _decode(data, 0)
    if end != len(data):
        raise BencodeError(f"{len(data) - end} octets after the value")
    return value


def _decode(data: bytes, at: int) -> tuple[Any, int]:
    try:
        lead = data[at : at + 1]
        if lead == b"i":
            end = data.index(b"e", at)
            return int(data[at + 1 : end]), end + 1
        if lead == b"l":
            items: list[Any] = []
            at += 1
            while data[at : at + 1] != b"e":
                item, at = _decode(data, at)
                items.append(item)
            return items, at + 1
        if lead == b"d":
            mapping: dict[str, Any] = {}
            at += 1
            while data[at : at + 1] != b"e":
                key, at = _decode(data, at)
                if not isinstance(key, bytes):
                    raise BencodeError("a dictionary key must be a string")
                mapping[key.decode()], at = _decode(data, at)
            return mapping, at + 1
        colon = data.index(b":", at)
        length = int(data[at:colon])
        end = colon + 1 + length
        if length < 0 or end > len(data):
            raise BencodeError("a string runs past the end")
        return data[colon + 1 : end], end
    except (ValueError, IndexError) as exc:
        if isinstance(exc, BencodeError):
            raise
        raise BencodeError(f"malformed at octet {at}") from None
