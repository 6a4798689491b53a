"""Fuzzing the parser (only its own errors may come out) and stream framing under arbitrary splits."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conformance import CORPUS, cases
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callisto_sip import IncompleteMessage, ParseError, parse_message, parse_stream
from callisto_sip.message import MAX_MESSAGE_BYTES, skip_keepalives

pytestmark = pytest.mark.unit
SEEDS = [c.data for c in cases()]
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_refuse(data: bytes) -> None:
    try:
        parse_message(data)
    except ParseError:
        pass


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(data: bytes) -> None:
    parse_or_refuse(data)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "dup"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[pos:pos] = draw(
                st.sampled_from(
                    [
                        b"\r\n",
                        b" ",
                        b";",
                        b",",
                        b'"',
                        b"<",
                        b">",
                        b"%",
                        b"\x00",
                        b":",
                        b"\r\n ",
                        b"%zz",
                        b"9" * 12,
                    ]
                )
            )
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 20))]
        elif kind == "truncate":
            del data[pos:]
        elif kind == "dup":
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 80))]
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_corpus_messages(data: bytes) -> None:
    parse_or_refuse(data)


STREAMABLE = [c.data for c in cases() if c.name in ("wsinv", "esc01", "mpart01", "longreq", "unreason")]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(STREAMABLE), min_size=1, max_size=4), st.data())
def test_stream_framing_under_any_split(messages: list[bytes], data: st.DataObject) -> None:
    wire = b"".join(b"\r\n\r\n" + bytes(parse_message(m)) for m in messages)  # keep-alives between
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    chunks = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
    buffer = b""
    got: list[bytes] = []
    for chunk in chunks:
        buffer += chunk
        while True:
            buffer = buffer[skip_keepalives(buffer) :]
            if not buffer:
                break
            try:
                message, used = parse_stream(buffer)
            except IncompleteMessage:
                break
            got.append(bytes(message))
            buffer = buffer[used:]
    assert got == [bytes(parse_message(m)) for m in messages]


def test_stream_refuses_what_a_datagram_allows() -> None:
    old_style = (CORPUS / "inv2543.dat").read_bytes()  # no Content-Length
    with pytest.raises(ParseError) as caught:
        parse_stream(old_style)
    assert caught.value.error_id == "content-length-missing"
    clerr = (CORPUS / "clerr.dat").read_bytes()  # announces more than it has: wait for more over TCP
    with pytest.raises(IncompleteMessage):
        parse_stream(clerr)


def test_size_limit() -> None:
    huge = bytes(parse_message((CORPUS / "wsinv.dat").read_bytes())).replace(
        b"Subject:", b"X-Padding: " + b"a" * MAX_MESSAGE_BYTES + b"\r\nSubject:"
    )
    with pytest.raises(ParseError) as caught:
        parse_message(huge)
    assert (caught.value.status, caught.value.error_id) == (513, "too-large")
    with pytest.raises(ParseError):
        parse_stream(b"INVITE sip:a@b SIP/2.0\r\nX: " + b"a" * (MAX_MESSAGE_BYTES + 10))


def test_lint_command() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "callisto_sip.lint", str(CORPUS / "esc01.dat")], capture_output=True, text=True
    )
    assert ok.returncode == 0
    facts = json.loads(ok.stdout)
    assert (facts["method"], facts["request_uri"]["user"], facts["cseq"]["number"]) == (
        "INVITE",
        "sips:user@example.com",
        234234,
    )
    bad = subprocess.run(
        [sys.executable, "-m", "callisto_sip.lint", str(CORPUS / "badvers.dat")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert json.loads(bad.stdout) == {
        "valid": False,
        "error_id": "bad-version",
        "status": 505,
        "error": "version SIP/7.0 is not supported",
    }
